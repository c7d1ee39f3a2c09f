"""What a node sees of its task: the current record, stores, time, punctuators.

One :class:`NodeContext` exists per task. Processor factories read from it
once, while the task is built; the per-record path only reads the mutable
:class:`RecordContext` the task updates in place for each input record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tidal.streams._contract import Headers, PartitionStore, TaskContext, TaskId, TopologyError

if TYPE_CHECKING:
    from tidal.streams.topology._graph import StoreDefinition

__all__ = [
    "NEVER",
    "STREAM_TIME",
    "WALL_CLOCK_TIME",
    "Cancellable",
    "NodeContext",
    "RecordContext",
]

#: Punctuation driven by record timestamps (the task's stream time).
STREAM_TIME = "stream_time"
#: Punctuation driven by the runtime's clock.
WALL_CLOCK_TIME = "wall_clock"
#: A deadline no time reaches.
NEVER = 2**63 - 1


class RecordContext:
    """Where the record being processed came from.

    ``topic``, ``partition`` and ``offset`` are the input record's;
    ``timestamp`` and ``headers`` are its (extracted) timestamp and headers.
    During a punctuation ``offset`` is -1 and ``timestamp`` the punctuation
    time. The object is reused for every record of a task: read it, do not
    keep it.
    """

    __slots__ = ("headers", "offset", "partition", "timestamp", "topic")

    def __init__(self) -> None:
        self.topic = ""
        self.partition = -1
        self.offset = -1
        self.timestamp = -1
        self.headers: Headers = ()

    def __repr__(self) -> str:
        return (
            f"RecordContext(topic={self.topic!r}, partition={self.partition}, "
            f"offset={self.offset}, timestamp={self.timestamp})"
        )


class Cancellable:
    """A scheduled punctuator; :meth:`cancel` stops it."""

    __slots__ = ("callback", "cancelled", "interval", "kind", "next_time", "node")

    def __init__(
        self, node: str, kind: str, interval: int, next_time: int, callback: Callable[[int], None]
    ) -> None:
        self.node = node
        self.kind = kind
        self.interval = interval
        self.next_time = next_time
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Stop firing this punctuator."""
        self.cancelled = True

    def advance(self, now: int) -> None:
        """Move past ``now``, skipping missed intervals as Kafka Streams does."""
        nxt = self.next_time + self.interval
        if now >= nxt:
            nxt = self.next_time + ((now - self.next_time) // self.interval + 1) * self.interval
        self.next_time = nxt


class NodeContext:
    """A task's services for the nodes being built into it."""

    def __init__(
        self,
        task_context: TaskContext,
        stores: dict[str, StoreDefinition],
    ) -> None:
        self.task_context = task_context
        self.record = RecordContext()
        self.record.partition = task_context.task_id.partition
        self.stream_time = -1
        #: The earliest stream time at which a stream-time punctuator is due.
        self.next_stream_deadline = NEVER
        self.stream_punctuators: list[Cancellable] = []
        self.wall_clock_punctuators: list[Cancellable] = []
        self.closers: list[Callable[[], None]] = []
        self._stores = stores
        self.current_node = ""

    @property
    def task_id(self) -> TaskId:
        """The task being built."""
        return self.task_context.task_id

    @property
    def application_id(self) -> str:
        """The application the task belongs to."""
        return self.task_context.application_id

    def store(self, name: str) -> PartitionStore:
        """The task's bytes-level instance of store ``name``."""
        if name not in self._stores:
            raise TopologyError(f"no store named {name!r} in this topology")
        return self.task_context.store(name)

    def store_definition(self, name: str) -> StoreDefinition:
        """The definition (serdes, kind) of store ``name``."""
        try:
            return self._stores[name]
        except KeyError:
            raise TopologyError(f"no store named {name!r} in this topology") from None

    def schedule(self, interval_ms: int, kind: str, callback: Callable[[int], None]) -> Cancellable:
        """Call ``callback(timestamp)`` every ``interval_ms`` of stream or wall-clock time.

        Stream time: the first call comes with the first record, later ones
        each time stream time reaches the next multiple of ``interval_ms``.
        Wall clock: the first call comes ``interval_ms`` after scheduling.
        """
        if interval_ms <= 0:
            raise TopologyError(f"punctuation interval must be positive, got {interval_ms}")
        if kind == STREAM_TIME:
            punctuator = Cancellable(self.current_node, kind, interval_ms, 0, callback)
            self.stream_punctuators.append(punctuator)
            self.next_stream_deadline = 0
        elif kind == WALL_CLOCK_TIME:
            start = self.task_context.wall_clock_ms() + interval_ms
            punctuator = Cancellable(self.current_node, kind, interval_ms, start, callback)
            self.wall_clock_punctuators.append(punctuator)
        else:
            raise TopologyError(
                f"punctuation type must be {STREAM_TIME!r} or {WALL_CLOCK_TIME!r}, got {kind!r}"
            )
        return punctuator

    def wall_clock_ms(self) -> int:
        """The runtime's clock (mocked by the test driver)."""
        return self.task_context.wall_clock_ms()

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` when the task closes."""
        self.closers.append(closer)
