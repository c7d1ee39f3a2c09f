"""TopologyBuilder: where a topology starts, and what compiles it.

>>> builder = TopologyBuilder("word-count")
>>> counts = (
...     builder.stream("lines", value_serde="str")
...     .flat_map_values(str.split)
...     .group_by(lambda key, word: word, key_serde="str")
...     .count()
... )
>>> counts.to_stream().to("counts", key_serde="str", value_serde="long")
>>> print(builder.describe())  # doctest: +ELLIPSIS
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [lines])
...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tidal.streams._contract import TopologyError
from tidal.streams.dsl._stateful import table_source
from tidal.streams.serdes import Serde, resolve_serde
from tidal.streams.topology import (
    CompiledTopology,
    Graph,
    Node,
    NodeKind,
    SinkSpec,
    SourceSpec,
    StoreDefinition,
    compile_topology,
)

if TYPE_CHECKING:
    from tidal.streams.dsl._stream import Stream
    from tidal.streams.dsl._table import Table

__all__ = ["SerdeSpec", "TimestampExtractor", "TopologyBuilder"]

#: What ``key_serde=``/``value_serde=`` accept: a serde, a serde name, or None.
SerdeSpec = Serde[Any] | str | None

#: ``fn(key, value, record_timestamp) -> timestamp`` over the deserialized record.
TimestampExtractor = Callable[[Any, Any, int], int]


class TopologyBuilder:
    """Builds a topology with the DSL; :meth:`compile` makes it runnable.

    Serdes not given anywhere default to ``default_key_serde`` and
    ``default_value_serde`` (MessagePack unless set), which also serve the
    repartition topics and stores.
    """

    def __init__(
        self,
        application_id: str,
        *,
        default_key_serde: SerdeSpec = None,
        default_value_serde: SerdeSpec = None,
    ) -> None:
        if not application_id:
            raise TopologyError("application_id must not be empty")
        self.application_id = application_id
        self.graph = Graph()
        self.default_key_serde: Serde[Any] = resolve_serde(default_key_serde)
        self.default_value_serde: Serde[Any] = resolve_serde(default_value_serde)

    def key_serde(self, spec: SerdeSpec, inherited: Serde[Any] | None = None) -> Serde[Any]:
        """The serde ``spec`` names, else ``inherited``, else the default key serde."""
        return resolve_serde(spec, inherited if inherited is not None else self.default_key_serde)

    def value_serde(self, spec: SerdeSpec, inherited: Serde[Any] | None = None) -> Serde[Any]:
        """The serde ``spec`` names, else ``inherited``, else the default value serde."""
        default = inherited if inherited is not None else self.default_value_serde
        return resolve_serde(spec, default)

    @staticmethod
    def internal_serde(spec: SerdeSpec, inherited: Serde[Any] | None = None) -> Serde[Any]:
        """Serde of a repartition topic or store: ``spec``, else ``inherited``, else msgpack."""
        return resolve_serde(spec, inherited) if inherited is not None else resolve_serde(spec)

    def stream(
        self,
        topics: str | Sequence[str],
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Stream:
        """A stream of the records of ``topics`` (Kafka Streams' ``KStream``).

        ``timestamp_extractor(key, value, record_timestamp) -> int`` replaces
        the record's timestamp (and drives stream time); it sees the
        deserialized key and value.
        """
        from tidal.streams.dsl._stream import Stream  # noqa: PLC0415  (cycle)

        names = (topics,) if isinstance(topics, str) else tuple(topics)
        if not names or not all(isinstance(t, str) and t for t in names):
            raise TopologyError(f"stream() needs one or more topic names, got {topics!r}")
        kser, vser = self.key_serde(key_serde), self.value_serde(value_serde)
        node = self.graph.add(
            "KSTREAM-SOURCE",
            NodeKind.SOURCE,
            source=SourceSpec(names, kser.deserialize, vser.deserialize, timestamp_extractor),
        )
        return Stream(self, node, kser, vser, repartition_required=False)

    def table(
        self,
        topic: str,
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
        store_name: str | None = None,
        store_kind: str = "rocksdb",
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Table:
        """The topic read as a table: the latest value per key (Kafka Streams' ``KTable``).

        A None value (tombstone) deletes its key. The table lives in store
        ``store_name`` (default ``<topic>-STATE-STORE-<n>``) with a changelog.
        """
        from tidal.streams.dsl._table import Table  # noqa: PLC0415  (cycle)

        kser, vser = self.key_serde(key_serde), self.value_serde(value_serde)
        source = self.graph.add(
            "KSTREAM-SOURCE",
            NodeKind.SOURCE,
            source=SourceSpec((topic,), kser.deserialize, vser.deserialize, timestamp_extractor),
        )
        store = store_name or self.graph.new_name(f"{topic}-STATE-STORE")
        self.graph.add_store(StoreDefinition(store, kser, vser, store_kind))
        node = self.graph.add(
            "KTABLE-SOURCE",
            NodeKind.PROCESSOR,
            [source],
            factory=table_source(store, kser, vser),
            stores=[store],
        )
        return Table(self, node, kser, vser, store)

    def add_store(
        self,
        name: str,
        *,
        key_serde: SerdeSpec = None,
        value_serde: SerdeSpec = None,
        kind: str = "rocksdb",
        logging: bool = True,
    ) -> str:
        """Register a key-value store for :meth:`Stream.process`; returns its name.

        ``logging=False`` keeps it without a changelog (its state is then
        lost when the task moves).
        """
        self.graph.add_store(
            StoreDefinition(
                name, self.key_serde(key_serde), self.value_serde(value_serde), kind, logging
            )
        )
        return name

    def repartition_edge(
        self,
        parent: Node,
        base: str,
        key_serde: Serde[Any],
        value_serializer: Callable[[Any], bytes | None],
        value_deserializer: Callable[[bytes | None], Any],
        num_partitions: int | None = None,
    ) -> Node:
        """A sink to ``<application_id>-<base>-repartition`` and the source reading it back."""
        if num_partitions is not None and num_partitions <= 0:
            raise TopologyError(f"num_partitions must be positive, got {num_partitions}")
        sink = SinkSpec(base, None, key_serde.serialize, value_serializer, True, num_partitions)
        self.graph.add("KSTREAM-SINK", NodeKind.SINK, [parent], sink=sink)
        source = SourceSpec((base,), key_serde.deserialize, value_deserializer, None, True)
        return self.graph.add("KSTREAM-SOURCE", NodeKind.SOURCE, source=source)

    def compile(self) -> CompiledTopology:
        """The runnable topology; the builder stays usable and compiles again the same."""
        if not any(n.kind is NodeKind.SOURCE for n in self.graph.nodes):
            raise TopologyError("the topology has no sources: call stream() or table() first")
        return compile_topology(self.graph, self.application_id)

    def describe(self) -> str:
        """Kafka Streams' ``Topology.describe()`` text of the topology built so far."""
        return compile_topology(self.graph, self.application_id).describe()
