"""The compiled task: one sub-topology over one partition, as plain calls.

Building a task walks the sub-topology's nodes from the sinks up, turning
each into a closure over its children's closures. :meth:`CompiledTask.process`
then costs one dict lookup (the topic's source), two deserializer calls and
the chain of calls; nothing is allocated per record beyond what user code
and the serdes allocate.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from tidal.streams._contract import (
    DeserializationError,
    Headers,
    ProcessingError,
    StreamsError,
    TaskId,
    TopologyError,
)
from tidal.streams.topology._context import NEVER, Cancellable, NodeContext
from tidal.streams.topology._graph import Emit, Node, NodeKind, SinkSpec

__all__ = ["CompiledTask", "fanout", "repartition_topic"]

# Values of these types cannot be changed in place, so branches may share them.
_IMMUTABLE = frozenset({str, bytes, int, float, bool, type(None)})


def repartition_topic(application_id: str, base: str) -> str:
    """The name of a repartition topic: ``<application_id>-<base>-repartition``."""
    return f"{application_id}-{base}-repartition"


def _drop(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
    """The callable of a node without children."""


def fanout(children: Sequence[Emit]) -> Emit:
    """One callable feeding every child, copying mutable values for all but the last.

    User functions may change a value in place; a copy keeps one branch's
    changes out of its siblings. Only branching points pay for it.
    """
    if not children:
        return _drop
    if len(children) == 1:
        return children[0]
    *first, last = children

    def emit(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
        if type(value) in _IMMUTABLE:
            for child in first:
                child(value, key, timestamp, headers)
        else:
            for child in first:
                child(copy.deepcopy(value), key, timestamp, headers)
        last(value, key, timestamp, headers)

    return emit


def _sink(ctx: NodeContext, spec: SinkSpec) -> Emit:
    send = ctx.task_context.send
    key_ser = spec.key_serializer
    value_ser = spec.value_serializer
    if spec.topic is not None:
        topic = spec.topic
        if spec.internal:
            topic = repartition_topic(ctx.application_id, topic)

        def emit(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            send(topic, key_ser(key), value_ser(value), timestamp, headers)

        return emit
    extractor = spec.topic_extractor
    assert extractor is not None
    record = ctx.record

    def emit_dynamic(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
        send(extractor(key, value, record), key_ser(key), value_ser(value), timestamp, headers)

    return emit_dynamic


class _Source:
    __slots__ = ("emit", "extractor", "key_de", "value_de")

    def __init__(self, node: Node, emit: Emit) -> None:
        assert node.source is not None
        self.key_de = node.source.key_deserializer
        self.value_de = node.source.value_deserializer
        self.extractor = node.source.timestamp_extractor
        self.emit = emit


def build_chains(ctx: NodeContext, nodes: Sequence[Node]) -> dict[str, _Source]:
    """Build every node's callable; return the sources by (full) topic name."""
    built: dict[int, Emit] = {}
    sources: dict[str, _Source] = {}
    for node in sorted(nodes, key=lambda n: n.index, reverse=True):
        children = [built[child.index] for child in node.children]
        ctx.current_node = node.name
        if node.kind is NodeKind.SINK:
            assert node.sink is not None
            built[node.index] = _sink(ctx, node.sink)
        elif node.kind is NodeKind.PROCESSOR:
            assert node.factory is not None
            built[node.index] = node.factory(ctx, children)
        else:
            assert node.source is not None
            source = _Source(node, fanout(children))
            for topic in node.source.topics:
                name = topic
                if node.source.internal:
                    name = repartition_topic(ctx.application_id, topic)
                sources[name] = source
            built[node.index] = source.emit
    return sources


class CompiledTask:
    """A :class:`~tidal.streams._contract.StreamTask` built from a sub-topology."""

    def __init__(self, ctx: NodeContext, nodes: Sequence[Node]) -> None:
        self._ctx = ctx
        self._sources = build_chains(ctx, nodes)
        self._record = ctx.record
        self._stream_punctuators = ctx.stream_punctuators
        self._wall_punctuators = ctx.wall_clock_punctuators
        self._closed = False

    @property
    def task_id(self) -> TaskId:
        """The sub-topology and partition this task runs."""
        return self._ctx.task_id

    @property
    def stream_time(self) -> int:
        """The largest record timestamp seen so far, -1 before the first."""
        return self._ctx.stream_time

    def process(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers,
    ) -> None:
        """Run one input record through the chain (see the contract)."""
        source = self._sources.get(topic)
        if source is None:
            raise TopologyError(f"task {self._ctx.task_id} does not read topic {topic!r}")
        record = self._record
        record.topic = topic
        record.offset = offset
        try:
            k = source.key_de(key)
            v = source.value_de(value)
        except Exception as exc:
            raise DeserializationError(topic, partition, offset, exc) from exc
        try:
            if source.extractor is not None:
                timestamp = source.extractor(k, v, timestamp)
            record.timestamp = timestamp
            record.headers = headers
            ctx = self._ctx
            if timestamp > ctx.stream_time:  # noqa: PLR1730  (a call to max() costs more)
                ctx.stream_time = timestamp
            source.emit(v, k, timestamp, headers)
            if ctx.stream_time >= ctx.next_stream_deadline:
                ctx.next_stream_deadline = self._punctuate(
                    self._stream_punctuators, ctx.stream_time
                )
        except StreamsError:
            raise
        except Exception as exc:
            raise ProcessingError(topic, partition, offset, exc) from exc

    def punctuate_wall_clock(self, now_ms: int) -> None:
        """Fire the wall-clock punctuators whose time has come."""
        if not self._wall_punctuators:
            return
        try:
            self._punctuate(self._wall_punctuators, now_ms)
        except StreamsError:
            raise
        except Exception as exc:
            raise ProcessingError(
                "<wall-clock punctuator>", self._ctx.task_id.partition, -1, exc
            ) from exc

    def _punctuate(self, punctuators: list[Cancellable], now: int) -> int:
        """Fire the due punctuators; return the next deadline among them."""
        record = self._record
        saved = (record.topic, record.offset, record.timestamp, record.headers)
        try:
            for punctuator in list(punctuators):
                if punctuator.cancelled:
                    punctuators.remove(punctuator)
                    continue
                if now < punctuator.next_time:
                    continue
                record.offset = -1
                record.timestamp = now
                record.headers = ()
                punctuator.advance(now)
                punctuator.callback(now)
        finally:
            record.topic, record.offset, record.timestamp, record.headers = saved
        return min((p.next_time for p in punctuators if not p.cancelled), default=NEVER)

    def close(self) -> None:
        """Close the processors of this task (once)."""
        if self._closed:
            return
        self._closed = True
        closers: list[Callable[[], None]] = self._ctx.closers
        for closer in closers:
            closer()
