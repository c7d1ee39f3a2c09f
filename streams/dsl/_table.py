"""Tables and the groupings that aggregate into them.

:class:`Table` is the latest value per key and its changes (Kafka Streams'
``KTable``); :class:`GroupedStream` and :class:`GroupedTable` aggregate into
tables.

A table passes each update down as a change ``(new, old)``; ``to_stream``
turns the changes into a stream of new values, a None value (tombstone)
meaning the key left the table. ``filter`` turns a key that stops passing
into a tombstone, as in Kafka Streams.

Regrouping (``group_by`` then ``count``/``reduce``/``aggregate``) follows
Kafka Streams: on an update the old value is subtracted from its old group
and the new value added to its new group. Both travel through the
repartition topic ``<application_id>-<name or store>-repartition`` as
``(new, old)`` pairs.

Grouped streams keep one value per key in a store (``count``, ``reduce``,
``aggregate``); when the grouping changed the key, records first go through
the repartition topic ``<application_id>-<name or store>-repartition`` so
that each key's records meet in one task. Records with a None key or value
are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tidal.streams.dsl._stateful import (
    Adder,
    change_pair_deserializer,
    change_pair_serializer,
    stream_aggregate,
    table_aggregate,
    table_filter,
    table_map_values,
    table_regroup,
    table_to_stream,
)
from tidal.streams.serdes import Serde
from tidal.streams.topology import Node, NodeKind, ProcessorFactory, StoreDefinition

if TYPE_CHECKING:
    from tidal.streams.dsl._builder import SerdeSpec, TopologyBuilder
    from tidal.streams.dsl._stream import Stream

__all__ = ["GroupedStream", "GroupedTable", "Table"]


class Table:
    """A changelog-backed table; see the module docstring."""

    __slots__ = ("_builder", "_key_serde", "_node", "_store_name", "_value_serde")

    def __init__(
        self,
        builder: TopologyBuilder,
        node: Node,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        store_name: str | None,
    ) -> None:
        self._builder = builder
        self._node = node
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._store_name = store_name

    @property
    def node(self) -> Node:
        """The graph node this table is the output of."""
        return self._node

    @property
    def store_name(self) -> str | None:
        """The store holding this table, None when it is not materialized."""
        return self._store_name

    def _then(self, prefix: str, factory: ProcessorFactory, *, value_kept: bool) -> Table:
        node = self._builder.graph.add(prefix, NodeKind.PROCESSOR, [self._node], factory=factory)
        value_serde = self._value_serde if value_kept else None
        return Table(self._builder, node, self._key_serde, value_serde, None)

    def filter(self, predicate: Callable[[Any, Any], Any]) -> Table:
        """The rows for which ``predicate(key, value)`` is true.

        A key whose new value fails while its old value passed is forwarded
        as a tombstone.
        """
        return self._then("KTABLE-FILTER", table_filter(predicate, keep=True), value_kept=True)

    def filter_not(self, predicate: Callable[[Any, Any], Any]) -> Table:
        """The rows for which ``predicate(key, value)`` is false."""
        return self._then("KTABLE-FILTER", table_filter(predicate, keep=False), value_kept=True)

    def map_values(self, fn: Callable[[Any], Any]) -> Table:
        """``fn(value) -> new_value`` for every row."""
        return self._then("KTABLE-MAPVALUES", table_map_values(fn), value_kept=False)

    def to_stream(self) -> Stream:
        """The stream of this table's updates: ``(key, new value)``, None for a delete."""
        from tidal.streams.dsl._stream import Stream  # noqa: PLC0415  (cycle)

        node = self._builder.graph.add(
            "KTABLE-TOSTREAM", NodeKind.PROCESSOR, [self._node], factory=table_to_stream()
        )
        return Stream(
            self._builder, node, self._key_serde, self._value_serde, repartition_required=False
        )

    def group_by(
        self,
        fn: Callable[[Any, Any], tuple[Any, Any]],
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
        name: str | None = None,
    ) -> GroupedTable:
        """Regroup rows by ``fn(key, value) -> (group_key, group_value)``."""
        builder = self._builder
        node = builder.graph.add(
            "KTABLE-SELECT", NodeKind.PROCESSOR, [self._node], factory=table_regroup(fn)
        )
        return GroupedTable(
            builder,
            node,
            builder.internal_serde(key_serde),
            builder.internal_serde(value_serde),
            name,
        )


class GroupedTable:
    """Kafka Streams' ``KGroupedTable``: aggregations with an adder and a subtractor."""

    __slots__ = ("_builder", "_key_serde", "_name", "_node", "_value_serde")

    def __init__(
        self,
        builder: TopologyBuilder,
        node: Node,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        name: str | None,
    ) -> None:
        self._builder = builder
        self._node = node
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._name = name

    def count(self, store_name: str | None = None, *, store_kind: str = "rocksdb") -> Table:
        """The number of rows per group; a row moving groups counts in its new group only."""

        def add(key: Any, value: Any, agg: Any) -> Any:
            return 1 if agg is None else agg + 1

        def subtract(key: Any, value: Any, agg: Any) -> Any:
            return -1 if agg is None else agg - 1

        return self._aggregate("KTABLE-AGGREGATE", add, subtract, store_name, store_kind, None)

    def reduce(
        self,
        adder: Callable[[Any, Any], Any],
        subtractor: Callable[[Any, Any], Any],
        store_name: str | None = None,
        *,
        store_kind: str = "rocksdb",
        value_serde: SerdeSpec = None,
    ) -> Table:
        """``adder(aggregate, value)`` on arrival, ``subtractor(aggregate, value)`` on departure."""

        def add(key: Any, value: Any, agg: Any) -> Any:
            return value if agg is None else adder(agg, value)

        def subtract(key: Any, value: Any, agg: Any) -> Any:
            return None if agg is None else subtractor(agg, value)

        return self._aggregate("KTABLE-REDUCE", add, subtract, store_name, store_kind, value_serde)

    def aggregate(
        self,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        store_name: str | None = None,
        *,
        store_kind: str = "rocksdb",
        value_serde: SerdeSpec = None,
    ) -> Table:
        """``adder(key, value, agg)`` / ``subtractor(key, value, agg)`` from ``initializer()``."""

        def add(key: Any, value: Any, agg: Any) -> Any:
            return adder(key, value, initializer() if agg is None else agg)

        def subtract(key: Any, value: Any, agg: Any) -> Any:
            return subtractor(key, value, initializer() if agg is None else agg)

        return self._aggregate(
            "KTABLE-AGGREGATE", add, subtract, store_name, store_kind, value_serde
        )

    def _aggregate(
        self,
        prefix: str,
        add: Adder,
        subtract: Adder,
        store_name: str | None,
        store_kind: str,
        value_serde: SerdeSpec,
    ) -> Table:
        builder = self._builder
        graph = builder.graph
        store = store_name or graph.new_name(f"{prefix}-STATE-STORE")
        source = builder.repartition_edge(
            self._node,
            self._name or store,
            self._key_serde,
            change_pair_serializer(self._value_serde),
            change_pair_deserializer(self._value_serde),
        )
        agg_serde = builder.internal_serde(value_serde)
        graph.add_store(StoreDefinition(store, self._key_serde, agg_serde, store_kind))
        node = graph.add(
            prefix,
            NodeKind.PROCESSOR,
            [source],
            factory=table_aggregate(store, self._key_serde, agg_serde, add, subtract),
            stores=[store],
        )
        return Table(builder, node, self._key_serde, agg_serde, store)


class GroupedStream:
    """Kafka Streams' ``KGroupedStream``; made by ``group_by``/``group_by_key``."""

    __slots__ = (
        "_builder",
        "_key_serde",
        "_name",
        "_node",
        "_repartition_required",
        "_value_serde",
    )

    def __init__(
        self,
        builder: TopologyBuilder,
        node: Node,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        *,
        repartition_required: bool,
        name: str | None,
    ) -> None:
        self._builder = builder
        self._node = node
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._repartition_required = repartition_required
        self._name = name

    def count(self, store_name: str | None = None, *, store_kind: str = "rocksdb") -> Table:
        """The number of records per key."""

        def add(key: Any, value: Any, agg: Any) -> Any:
            return 1 if agg is None else agg + 1

        return self._aggregate("KSTREAM-AGGREGATE", add, store_name, store_kind, None)

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        store_name: str | None = None,
        *,
        store_kind: str = "rocksdb",
        value_serde: SerdeSpec = None,
    ) -> Table:
        """``reducer(aggregate, value) -> aggregate``; a key's first value starts it."""

        def add(key: Any, value: Any, agg: Any) -> Any:
            return value if agg is None else reducer(agg, value)

        return self._aggregate("KSTREAM-REDUCE", add, store_name, store_kind, value_serde)

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        store_name: str | None = None,
        *,
        store_kind: str = "rocksdb",
        value_serde: SerdeSpec = None,
    ) -> Table:
        """``aggregator(key, value, aggregate) -> aggregate``, from ``initializer()`` per key.

        ``value_serde`` is the aggregate's serde in the store (and the
        table's), MessagePack by default.
        """

        def add(key: Any, value: Any, agg: Any) -> Any:
            return aggregator(key, value, initializer() if agg is None else agg)

        return self._aggregate("KSTREAM-AGGREGATE", add, store_name, store_kind, value_serde)

    def _aggregate(
        self,
        prefix: str,
        add: Adder,
        store_name: str | None,
        store_kind: str,
        value_serde: SerdeSpec,
    ) -> Table:
        builder = self._builder
        graph = builder.graph
        store = store_name or graph.new_name(f"{prefix}-STATE-STORE")
        parent = self._node
        if self._repartition_required:
            parent = builder.repartition_edge(
                parent,
                self._name or store,
                self._key_serde,
                self._value_serde.serialize,
                self._value_serde.deserialize,
            )
        agg_serde = builder.internal_serde(value_serde)
        graph.add_store(StoreDefinition(store, self._key_serde, agg_serde, store_kind))
        node = graph.add(
            prefix,
            NodeKind.PROCESSOR,
            [parent],
            factory=stream_aggregate(store, self._key_serde, agg_serde, add),
            stores=[store],
        )
        return Table(builder, node, self._key_serde, agg_serde, store)
