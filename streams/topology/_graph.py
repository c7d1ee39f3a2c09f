"""The graph the DSL builds: nodes, what they run, and the stores they use.

A node is a source, a processor or a sink. The DSL creates one node per call
and links it to its parents; nothing runs until :func:`compile_topology`
turns the graph into sub-topologies whose tasks chain plain callables.

Every callable in a compiled chain has one signature, :data:`Emit`:
``(value, key, timestamp, headers) -> None``. A processor node is a
:class:`ProcessorFactory`: given the per-task :class:`NodeContext` and the
callables of its children (in the order of ``node.children``) it returns its
own callable. Building happens once per task, so a factory binds everything
it needs into a closure and the per-record path does no lookups by name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tidal.streams._contract import Headers, TopologyError

if TYPE_CHECKING:
    from tidal.streams.topology._context import NodeContext

__all__ = [
    "Emit",
    "Graph",
    "Node",
    "NodeKind",
    "ProcessorFactory",
    "SinkSpec",
    "SourceSpec",
    "StoreDefinition",
    "TopicNameExtractor",
]

#: The one signature of every callable in a compiled chain.
Emit = Callable[[Any, Any, int, Headers], None]

#: ``fn(key, value, record_context) -> topic`` for sinks with a per-record topic.
TopicNameExtractor = Callable[[Any, Any, Any], str]


class NodeKind(enum.Enum):
    """What a node is, in Kafka Streams' ``describe()`` words."""

    SOURCE = "Source"
    PROCESSOR = "Processor"
    SINK = "Sink"


class ProcessorFactory(Protocol):
    """Builds one processor node's callable for one task."""

    def __call__(self, ctx: NodeContext, children: Sequence[Emit]) -> Emit: ...


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What a source node reads and how it turns bytes into key and value.

    ``timestamp_extractor`` is ``fn(key, value, record_timestamp) -> int``
    over the deserialized key and value. ``internal`` marks a repartition
    topic, named without the application id prefix here.
    """

    topics: tuple[str, ...]
    key_deserializer: Callable[[bytes | None], Any]
    value_deserializer: Callable[[bytes | None], Any]
    timestamp_extractor: Callable[[Any, Any, int], int] | None = None
    internal: bool = False


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """Where a sink node writes and how it turns key and value into bytes.

    Exactly one of ``topic`` and ``topic_extractor`` is set. ``internal``
    marks a repartition topic (``topic`` then lacks the application id);
    ``num_partitions`` fixes its partition count.
    """

    topic: str | None
    topic_extractor: TopicNameExtractor | None
    key_serializer: Callable[[Any], bytes | None]
    value_serializer: Callable[[Any], bytes | None]
    internal: bool = False
    num_partitions: int | None = None


@dataclass(frozen=True, slots=True)
class StoreDefinition:
    """A key-value store: its name, kind, serdes and whether it has a changelog.

    ``key_serde`` and ``value_serde`` are serdes (objects with ``serialize``
    and ``deserialize``); they give the typed view over the store's bytes.
    """

    name: str
    key_serde: Any
    value_serde: Any
    kind: str = "rocksdb"
    logging: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("rocksdb", "memory"):
            raise TopologyError(f"store {self.name!r}: kind must be 'rocksdb' or 'memory'")


@dataclass(eq=False, slots=True)
class Node:
    """One node of the graph; identity is the object, the name is unique."""

    name: str
    kind: NodeKind
    index: int
    factory: ProcessorFactory | None = None
    source: SourceSpec | None = None
    sink: SinkSpec | None = None
    stores: tuple[str, ...] = ()
    parents: list[Node] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


class Graph:
    """All nodes and stores of one builder, in creation order.

    Node names follow Kafka Streams: ``KSTREAM-MAP-0000000003``, one counter
    shared by nodes and generated store names, so the same code always
    produces the same names (and so the same internal topic names).
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.stores: dict[str, StoreDefinition] = {}
        self._counter = 0

    def next_index(self) -> int:
        """Take the next number of the shared name counter."""
        index = self._counter
        self._counter += 1
        return index

    def new_name(self, prefix: str) -> str:
        """A generated name such as ``KSTREAM-FILTER-0000000004``."""
        return f"{prefix}-{self.next_index():010d}"

    def add(
        self,
        prefix: str,
        kind: NodeKind,
        parents: Sequence[Node] = (),
        *,
        factory: ProcessorFactory | None = None,
        source: SourceSpec | None = None,
        sink: SinkSpec | None = None,
        stores: Sequence[str] = (),
        name: str | None = None,
    ) -> Node:
        """Create a node under ``parents`` and return it."""
        index = self.next_index()
        node_name = name if name is not None else f"{prefix}-{index:010d}"
        if any(n.name == node_name for n in self.nodes):
            raise TopologyError(f"a processor named {node_name!r} already exists")
        for store in stores:
            if store not in self.stores:
                raise TopologyError(f"node {node_name!r} uses unknown store {store!r}")
        node = Node(
            node_name,
            kind,
            index,
            factory=factory,
            source=source,
            sink=sink,
            stores=tuple(stores),
        )
        for parent in parents:
            node.parents.append(parent)
            parent.children.append(node)
        self.nodes.append(node)
        return node

    def add_store(self, store: StoreDefinition) -> None:
        """Register a store; names are unique within a topology."""
        if store.name in self.stores:
            raise TopologyError(f"a store named {store.name!r} already exists")
        self.stores[store.name] = store
