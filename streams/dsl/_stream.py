"""Stream: an unbounded sequence of keyed records (Kafka Streams' ``KStream``).

Every method adds a node to the builder's graph and returns a new object;
nothing runs until the builder compiles. User functions get the deserialized
``key`` and ``value``. Operations that may change the key (``map``,
``flat_map``, ``select_key``, ``process``) mark the stream so that a later
``group_by_key`` goes through a repartition topic first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tidal.streams._contract import TopologyError
from tidal.streams.dsl import _ops
from tidal.streams.dsl._processor import processor_node
from tidal.streams.dsl._stateful import table_source
from tidal.streams.serdes import Serde
from tidal.streams.topology import Node, NodeKind, ProcessorFactory, SinkSpec, StoreDefinition

if TYPE_CHECKING:
    from tidal.streams.dsl._builder import SerdeSpec, TopologyBuilder
    from tidal.streams.dsl._table import GroupedStream, Table

__all__ = ["BranchedStream", "Stream"]


class Stream:
    """A record stream; see the module docstring."""

    __slots__ = ("_builder", "_key_serde", "_node", "_repartition_required", "_value_serde")

    def __init__(
        self,
        builder: TopologyBuilder,
        node: Node,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        *,
        repartition_required: bool,
    ) -> None:
        self._builder = builder
        self._node = node
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._repartition_required = repartition_required

    @property
    def node(self) -> Node:
        """The graph node this stream is the output of."""
        return self._node

    def _then(
        self,
        prefix: str,
        factory: ProcessorFactory,
        *,
        key_kept: bool = True,
        value_kept: bool = True,
        stores: Sequence[str] = (),
    ) -> Stream:
        node = self._builder.graph.add(
            prefix, NodeKind.PROCESSOR, [self._node], factory=factory, stores=stores
        )
        return Stream(
            self._builder,
            node,
            self._key_serde if key_kept else None,
            self._value_serde if value_kept else None,
            repartition_required=self._repartition_required or not key_kept,
        )

    def map(self, fn: Callable[[Any, Any], tuple[Any, Any]]) -> Stream:
        """``fn(key, value) -> (new_key, new_value)`` per record."""
        return self._then("KSTREAM-MAP", _ops.map_records(fn), key_kept=False, value_kept=False)

    def map_values(self, fn: Callable[[Any], Any]) -> Stream:
        """``fn(value) -> new_value`` per record; the key stays."""
        return self._then("KSTREAM-MAPVALUES", _ops.map_values(fn), value_kept=False)

    def filter(self, predicate: Callable[[Any, Any], Any]) -> Stream:
        """Keep the records for which ``predicate(key, value)`` is true."""
        return self._then("KSTREAM-FILTER", _ops.filter_records(predicate, keep=True))

    def filter_not(self, predicate: Callable[[Any, Any], Any]) -> Stream:
        """Drop the records for which ``predicate(key, value)`` is true."""
        return self._then("KSTREAM-FILTER", _ops.filter_records(predicate, keep=False))

    def flat_map(self, fn: Callable[[Any, Any], Iterable[tuple[Any, Any]]]) -> Stream:
        """``fn(key, value) -> iterable of (new_key, new_value)``: zero or more records each."""
        return self._then("KSTREAM-FLATMAP", _ops.flat_map(fn), key_kept=False, value_kept=False)

    def flat_map_values(self, fn: Callable[[Any], Iterable[Any]]) -> Stream:
        """``fn(value) -> iterable of new values``, each with the record's key."""
        return self._then("KSTREAM-FLATMAPVALUES", _ops.flat_map_values(fn), value_kept=False)

    def peek(self, fn: Callable[[Any, Any], Any]) -> Stream:
        """Call ``fn(key, value)`` for its side effect and pass the record on."""
        return self._then("KSTREAM-PEEK", _ops.peek(fn))

    def foreach(self, fn: Callable[[Any, Any], Any]) -> None:
        """Call ``fn(key, value)`` for each record; ends the stream."""
        self._then("KSTREAM-FOREACH", _ops.foreach(fn))

    def select_key(self, fn: Callable[[Any, Any], Any]) -> Stream:
        """``fn(key, value) -> new_key``; the value stays."""
        return self._then("KSTREAM-KEY-SELECT", _ops.select_key(fn), key_kept=False)

    def split(self, name: str = "") -> BranchedStream:
        """Start routing records into branches; see :class:`BranchedStream`."""
        return BranchedStream(self, name, ())

    def merge(self, other: Stream) -> Stream:
        """The records of both streams, in arrival order.

        Both inputs end up in one sub-topology, so their source topics must
        have the same partition count.
        """
        if other._builder is not self._builder:
            raise TopologyError("cannot merge streams of different builders")
        node = self._builder.graph.add(
            "KSTREAM-MERGE",
            NodeKind.PROCESSOR,
            [self._node, other._node],
            factory=_ops.passthrough(),
        )
        same_key = self._key_serde is other._key_serde
        same_value = self._value_serde is other._value_serde
        return Stream(
            self._builder,
            node,
            self._key_serde if same_key else None,
            self._value_serde if same_value else None,
            repartition_required=self._repartition_required or other._repartition_required,
        )

    def repartition(
        self,
        name: str | None = None,
        *,
        num_partitions: int | None = None,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
    ) -> Stream:
        """Write through ``<application_id>-<name>-repartition`` and read it back.

        Records are partitioned by key; downstream runs in a new
        sub-topology. ``num_partitions`` defaults to the upstream's count.
        """
        builder = self._builder
        base = name or builder.graph.new_name("KSTREAM-REPARTITION")
        kser = builder.internal_serde(key_serde, self._key_serde)
        vser = builder.internal_serde(value_serde, self._value_serde)
        source = builder.repartition_edge(
            self._node, base, kser, vser.serialize, vser.deserialize, num_partitions
        )
        return Stream(builder, source, kser, vser, repartition_required=False)

    def to(
        self,
        topic: str | Callable[[Any, Any, Any], str],
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
    ) -> None:
        """Write the records to ``topic``, or to ``topic(key, value, record_context)``.

        Serdes default to the stream's own when it still has them (no
        ``map``/``map_values`` since the source), else the builder's defaults.
        """
        builder = self._builder
        kser = builder.key_serde(key_serde, self._key_serde)
        vser = builder.value_serde(value_serde, self._value_serde)
        if isinstance(topic, str):
            spec = SinkSpec(topic, None, kser.serialize, vser.serialize)
        elif callable(topic):
            spec = SinkSpec(None, topic, kser.serialize, vser.serialize)
        else:
            raise TopologyError(f"to() needs a topic name or a function, got {topic!r}")
        builder.graph.add("KSTREAM-SINK", NodeKind.SINK, [self._node], sink=spec)

    def process(
        self, processor_factory: Callable[[], Any], stores: Sequence[str | StoreDefinition] = ()
    ) -> Stream:
        """Run a :class:`~tidal.streams.dsl.Processor` per task; its forwards make the new stream.

        ``stores`` names stores registered with
        :meth:`TopologyBuilder.add_store` (a name not registered yet is added
        with the default serdes) or gives :class:`StoreDefinition` objects.
        """
        names = []
        graph = self._builder.graph
        for store in stores:
            if isinstance(store, StoreDefinition):
                if store.name not in graph.stores:
                    graph.add_store(store)
                names.append(store.name)
            else:
                if store not in graph.stores:
                    self._builder.add_store(store)
                names.append(store)
        return self._then(
            "KSTREAM-PROCESSOR",
            processor_node(processor_factory),
            key_kept=False,
            value_kept=False,
            stores=names,
        )

    def to_table(
        self,
        store_name: str | None = None,
        *,
        store_kind: str = "rocksdb",
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
    ) -> Table:
        """The stream read as a table: each record upserts its key, a None value deletes it.

        When the key may have changed, records go through a repartition
        topic first (named after the store).
        """
        from tidal.streams.dsl._table import Table  # noqa: PLC0415  (cycle)

        builder = self._builder
        graph = builder.graph
        store = store_name or graph.new_name("KSTREAM-TOTABLE-STATE-STORE")
        kser = builder.internal_serde(key_serde, self._key_serde)
        vser = builder.internal_serde(value_serde, self._value_serde)
        parent = self._node
        if self._repartition_required:
            parent = builder.repartition_edge(parent, store, kser, vser.serialize, vser.deserialize)
        graph.add_store(StoreDefinition(store, kser, vser, store_kind))
        node = graph.add(
            "KSTREAM-TOTABLE",
            NodeKind.PROCESSOR,
            [parent],
            factory=table_source(store, kser, vser),
            stores=[store],
        )
        return Table(builder, node, kser, vser, store)

    def group_by_key(
        self, *, key_serde: SerdeSpec = None, value_serde: SerdeSpec = None, name: str | None = None
    ) -> GroupedStream:
        """Group by the current key (through a repartition topic if the key may have changed)."""
        from tidal.streams.dsl._table import GroupedStream  # noqa: PLC0415  (cycle)

        builder = self._builder
        return GroupedStream(
            builder,
            self._node,
            builder.internal_serde(key_serde, self._key_serde),
            builder.internal_serde(value_serde, self._value_serde),
            repartition_required=self._repartition_required,
            name=name,
        )

    def group_by(
        self,
        fn: Callable[[Any, Any], Any],
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
        name: str | None = None,
    ) -> GroupedStream:
        """Group by ``fn(key, value) -> group_key``, always through a repartition topic.

        The repartition topic is ``<application_id>-<name>-repartition``, or
        named after the aggregation's store when ``name`` is None.
        """
        selected = self.select_key(fn)
        return selected.group_by_key(key_serde=key_serde, value_serde=value_serde, name=name)


class BranchedStream:
    """Kafka Streams' ``BranchedKStream``: ``split().branch(...)...default_branch()``.

    Each record goes to the first branch whose predicate it satisfies. The
    result maps branch names to streams: ``<split name><branch name>``, or
    ``<split name><n>`` for the n-th unnamed branch (from 1) and
    ``<split name>0`` for an unnamed default branch.
    """

    __slots__ = ("_branches", "_prefix", "_stream")

    def __init__(
        self,
        stream: Stream,
        prefix: str,
        branches: tuple[tuple[Callable[[Any, Any], Any], str], ...],
    ) -> None:
        self._stream = stream
        self._prefix = prefix
        self._branches = branches

    def branch(
        self, predicate: Callable[[Any, Any], Any], name: str | None = None
    ) -> BranchedStream:
        """Add a branch for the records satisfying ``predicate(key, value)``."""
        label = self._prefix + (name if name is not None else str(len(self._branches) + 1))
        if any(label == existing for _, existing in self._branches):
            raise TopologyError(f"branch name {label!r} is used twice")
        return BranchedStream(self._stream, self._prefix, (*self._branches, (predicate, label)))

    def default_branch(self, name: str | None = None) -> dict[str, Stream]:
        """Finish, sending records no predicate takes to a last branch."""
        label = self._prefix + (name if name is not None else "0")
        if any(label == existing for _, existing in self._branches):
            raise TopologyError(f"branch name {label!r} is used twice")
        return self._finish(label)

    def no_default_branch(self) -> dict[str, Stream]:
        """Finish, dropping records no predicate takes."""
        return self._finish(None)

    def _finish(self, default: str | None) -> dict[str, Stream]:
        stream = self._stream
        graph = stream._builder.graph
        predicates = [p for p, _ in self._branches]
        parent = graph.add(
            "KSTREAM-BRANCH",
            NodeKind.PROCESSOR,
            [stream.node],
            factory=_ops.branch(predicates, has_default=default is not None),
        )
        labels = [label for _, label in self._branches]
        if default is not None:
            labels.append(default)
        result = {}
        for label in labels:
            node = graph.add(
                "KSTREAM-BRANCHCHILD", NodeKind.PROCESSOR, [parent], factory=_ops.passthrough()
            )
            result[label] = Stream(
                stream._builder,
                node,
                stream._key_serde,
                stream._value_serde,
                repartition_required=stream._repartition_required,
            )
        return result
