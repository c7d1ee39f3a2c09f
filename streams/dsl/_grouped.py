"""GroupedStream: a stream grouped by key, ready to aggregate into a table.

``count``, ``reduce`` and ``aggregate`` keep one value per key in a store
(``<application_id>-<store>-changelog`` backs it) and return a
:class:`~tidal.streams.dsl.Table` whose updates carry the new aggregate. When
the grouping changed the key, records first go through the repartition topic
``<application_id>-<name or store>-repartition`` so that each key's records
meet in one task. Records with a None key or value are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tidal.streams.dsl._stateful import Adder, stream_aggregate
from tidal.streams.serdes import Serde
from tidal.streams.topology import Node, NodeKind, StoreDefinition

if TYPE_CHECKING:
    from tidal.streams.dsl._builder import SerdeSpec, TopologyBuilder
    from tidal.streams.dsl._table import Table

__all__ = ["GroupedStream"]


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
        from tidal.streams.dsl._table import Table  # noqa: PLC0415  (cycle)

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
