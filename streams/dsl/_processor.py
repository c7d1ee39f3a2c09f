"""The Processor API: user processors with stores and punctuators.

``stream.process(factory, stores=[...])`` calls ``factory()`` once per task
for a :class:`Processor`, hands it a :class:`ProcessorContext` in
:meth:`Processor.init`, then calls :meth:`Processor.process` per record::

    class Deduplicate(Processor):
        def init(self, context):
            self.context = context
            self.seen = context.store("seen")

        def process(self, key, value):
            if self.seen.get(key) is None:
                self.seen.put(key, True)
                self.context.forward(key, value)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tidal.streams._contract import Headers, TaskId
from tidal.streams.topology import (
    STREAM_TIME,
    WALL_CLOCK_TIME,
    Cancellable,
    Emit,
    NodeContext,
    ProcessorFactory,
    RecordContext,
    StoreDefinition,
    fanout,
)

__all__ = [
    "STREAM_TIME",
    "WALL_CLOCK_TIME",
    "Processor",
    "ProcessorContext",
    "processor_node",
    "typed_store",
]


def typed_store(ctx: NodeContext, name: str) -> Any:
    """The typed key-value view of store ``name`` for this task."""
    from tidal.streams.state import KeyValueStore  # noqa: PLC0415  (state imports serdes only)

    definition: StoreDefinition = ctx.store_definition(name)
    return KeyValueStore(ctx.store(name), definition.key_serde, definition.value_serde)


class ProcessorContext:
    """What a :class:`Processor` reaches: output, stores, time, the current record."""

    __slots__ = ("_ctx", "_emit", "_record")

    def __init__(self, ctx: NodeContext, emit: Emit) -> None:
        self._ctx = ctx
        self._emit = emit
        self._record: RecordContext = ctx.record

    @property
    def application_id(self) -> str:
        """The application id."""
        return self._ctx.application_id

    @property
    def task_id(self) -> TaskId:
        """The task this processor instance belongs to."""
        return self._ctx.task_id

    @property
    def record_context(self) -> RecordContext:
        """Topic, partition, offset, timestamp and headers of the current record."""
        return self._record

    @property
    def timestamp(self) -> int:
        """The current record's timestamp (the punctuation time inside a punctuator)."""
        return self._record.timestamp

    @property
    def headers(self) -> Headers:
        """The current record's headers."""
        return self._record.headers

    @property
    def stream_time(self) -> int:
        """The task's stream time: the largest record timestamp seen, -1 before any."""
        return self._ctx.stream_time

    def wall_clock_ms(self) -> int:
        """The runtime's clock in milliseconds (the test driver's is mocked)."""
        return self._ctx.wall_clock_ms()

    def forward(
        self, key: Any, value: Any, timestamp: int | None = None, headers: Headers | None = None
    ) -> None:
        """Send a record to the processor's children.

        ``timestamp`` and ``headers`` default to the current record's (inside
        a punctuator: the punctuation time and no headers).
        """
        record = self._record
        self._emit(
            value,
            key,
            record.timestamp if timestamp is None else timestamp,
            record.headers if headers is None else headers,
        )

    def schedule(
        self, interval_ms: int, punctuation_type: str, callback: Callable[[int], None]
    ) -> Cancellable:
        """Call ``callback(timestamp)`` every ``interval_ms``; see :data:`STREAM_TIME`.

        ``punctuation_type`` is ``"stream_time"`` (fires as record timestamps
        advance: first with the first record, then each time stream time
        reaches the next multiple of ``interval_ms``) or ``"wall_clock"``
        (fires from the runtime's clock, first ``interval_ms`` after
        scheduling). Missed intervals are skipped, not replayed.
        """
        return self._ctx.schedule(interval_ms, punctuation_type, callback)

    def store(self, name: str) -> Any:
        """The typed key-value store ``name`` (it must be listed in ``stores=``)."""
        return typed_store(self._ctx, name)


class Processor:
    """Base class of user processors; override :meth:`process`, maybe the others."""

    def init(self, context: ProcessorContext) -> None:
        """Called once per task before the first record; keep ``context``."""
        self.context = context

    def process(self, key: Any, value: Any) -> None:
        """Handle one record; forward output with ``self.context.forward``."""
        raise NotImplementedError

    def close(self) -> None:
        """Called once when the task closes."""


def processor_node(processor_factory: Callable[[], Any]) -> ProcessorFactory:
    """The node of ``stream.process(processor_factory)``: one processor per task."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        processor = processor_factory()
        init = getattr(processor, "init", None)
        if init is not None:
            init(ProcessorContext(ctx, fanout(children)))
        close = getattr(processor, "close", None)
        if close is not None:
            ctx.on_close(close)
        process = processor.process

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            process(key, value)

        return run

    return factory
