"""Compiling a graph: sub-topologies, internal topics, co-partitioning.

Nodes linked as parent and child (or sharing a store) belong to one
sub-topology; repartition topics are the only links between sub-topologies.
Sub-topologies are numbered in the order of their first node, so the same
code always compiles to the same numbering and the same topic names.

``describe()`` gives Kafka Streams' ``Topology.describe()`` text: each
sub-topology's nodes in the order a record meets them (depth first from the
sources), each with its children (``-->``) and parents (``<--``), the topics
of sources and sinks and the stores of processors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tidal.streams._contract import (
    InternalTopic,
    StoreSpec,
    StreamTask,
    TaskContext,
    TopologyError,
)
from tidal.streams.topology._context import NodeContext
from tidal.streams.topology._graph import Graph, Node, NodeKind, StoreDefinition
from tidal.streams.topology._task import CompiledTask, repartition_topic

__all__ = [
    "CHANGELOG_CONFIG",
    "REPARTITION_CONFIG",
    "CompiledTopology",
    "SubTopology",
    "changelog_topic",
    "compile_topology",
]

#: Topic configs of the internal topics.
CHANGELOG_CONFIG = {"cleanup.policy": "compact"}
REPARTITION_CONFIG = {"cleanup.policy": "delete"}


def changelog_topic(application_id: str, store: str) -> str:
    """The name of a store's changelog: ``<application_id>-<store>-changelog``."""
    return f"{application_id}-{store}-changelog"


@dataclass(frozen=True, eq=False)
class SubTopology:
    """One connected piece of the topology; creates one task per partition."""

    id: int
    nodes: tuple[Node, ...]
    source_topics: frozenset[str]
    stores: tuple[StoreSpec, ...]
    repartition_sinks: dict[str, int | None]
    """Repartition topics this sub-topology writes, with their fixed partition counts."""
    store_definitions: dict[str, StoreDefinition]

    def create_task(self, partition: int, context: TaskContext) -> StreamTask:
        """Build the chain of this sub-topology for ``partition``."""
        ctx = NodeContext(context, self.store_definitions)
        return CompiledTask(ctx, self.nodes)

    def describe(self, application_id: str) -> str:
        """This sub-topology's part of :meth:`CompiledTopology.describe`."""
        return describe_subtopology(self.id, self.nodes, application_id)


class CompiledTopology:
    """The compiled topology (:class:`~tidal.streams._contract.CompiledTopologyProtocol`)."""

    def __init__(self, application_id: str, subtopologies: Sequence[SubTopology]) -> None:
        self._application_id = application_id
        self._subtopologies = tuple(subtopologies)
        self.store_definitions: dict[str, StoreDefinition] = {}
        for sub in self._subtopologies:
            self.store_definitions.update(sub.store_definitions)

    @property
    def application_id(self) -> str:
        """The application id that prefixes internal topic names."""
        return self._application_id

    @property
    def subtopologies(self) -> Sequence[SubTopology]:
        """The sub-topologies, numbered from 0."""
        return self._subtopologies

    @property
    def repartition_topics(self) -> frozenset[str]:
        """The full names of the repartition topics."""
        return frozenset(t for sub in self._subtopologies for t in sub.repartition_sinks)

    @property
    def user_source_topics(self) -> frozenset[str]:
        """The topics the application reads that it does not own."""
        internal = self.repartition_topics
        return frozenset(
            t for sub in self._subtopologies for t in sub.source_topics if t not in internal
        )

    def subtopology_of_store(self, name: str) -> SubTopology:
        """The sub-topology whose tasks hold store ``name``."""
        for sub in self._subtopologies:
            if name in sub.store_definitions:
                return sub
        raise TopologyError(f"no store named {name!r} in this topology")

    def store_serdes(self, name: str) -> tuple[Any, Any]:
        """The key and value serdes of store ``name`` (for typed views and queries)."""
        definition = self.subtopology_of_store(name).store_definitions[name]
        return definition.key_serde, definition.value_serde

    def partition_counts(self, partitions_of: Callable[[str], int]) -> dict[str, int]:
        """The partition count of every topic read, and of each sub-topology as ``"#<id>"``."""
        return _PartitionCounter(self, partitions_of).run()

    def internal_topics(self, partitions_of: Callable[[str], int]) -> list[InternalTopic]:
        """Repartition and changelog topics with their partition counts and configs."""
        counts = self.partition_counts(partitions_of)
        topics = [
            InternalTopic(name, counts[name], dict(REPARTITION_CONFIG))
            for name in sorted(self.repartition_topics)
        ]
        for sub in self._subtopologies:
            topics.extend(
                InternalTopic(s.changelog_topic, counts[f"#{sub.id}"], dict(CHANGELOG_CONFIG))
                for s in sub.stores
                if s.changelog_topic is not None
            )
        return topics

    def describe(self) -> str:
        """Kafka Streams' ``Topology.describe()`` text."""
        parts = ["Topologies:\n"]
        parts.extend(sub.describe(self._application_id) for sub in self._subtopologies)
        return "".join(parts)


class _PartitionCounter:
    """Partition counts: user topics asked, repartition topics derived and co-partitioned."""

    def __init__(self, topology: CompiledTopology, partitions_of: Callable[[str], int]) -> None:
        self._partitions_of = partitions_of
        self._subs = topology.subtopologies
        self._fixed: dict[str, int | None] = {}
        self._writers: dict[str, list[SubTopology]] = {}
        for sub in self._subs:
            for topic, fixed in sub.repartition_sinks.items():
                self._fixed[topic] = fixed
                self._writers.setdefault(topic, []).append(sub)
        self._counts: dict[str, int] = {}
        self._resolving: set[str] = set()

    def run(self) -> dict[str, int]:
        for sub in self._subs:
            self._sub_count(sub)
        for topic in self._fixed:  # written but never read (not possible from the DSL)
            self._topic_count(topic)
        return self._counts

    def _topic_count(self, topic: str) -> int:
        if topic in self._counts:
            return self._counts[topic]
        if topic not in self._fixed:
            count = self._partitions_of(topic)
        elif (fixed := self._fixed[topic]) is not None:
            count = fixed
        else:
            if topic in self._resolving:
                raise TopologyError(
                    f"repartition topic {topic!r} feeds back into its own sub-topology; "
                    "give it num_partitions"
                )
            self._resolving.add(topic)
            count = max(self._sub_count(w) for w in self._writers[topic])
        self._counts[topic] = count
        return count

    def _sub_count(self, sub: SubTopology) -> int:
        key = f"#{sub.id}"
        if key in self._counts:
            return self._counts[key]
        counts = {t: self._topic_count(t) for t in sorted(sub.source_topics)}
        flexible = {t for t in counts if t in self._fixed and self._fixed[t] is None}
        rigid = {t: n for t, n in counts.items() if t not in flexible}
        if len(set(rigid.values())) > 1:
            listed = ", ".join(f"{t} ({n} partitions)" for t, n in rigid.items())
            raise TopologyError(
                f"sub-topology {sub.id} reads topics that must be co-partitioned but have "
                f"different partition counts: {listed}"
            )
        count = next(iter(rigid.values())) if rigid else max(counts.values())
        for topic in flexible:  # Kafka Streams sizes these to their co-partitioned siblings
            self._counts[topic] = count
        self._counts[key] = count
        return count


def compile_topology(graph: Graph, application_id: str) -> CompiledTopology:
    """Split ``graph`` into sub-topologies and check what can be checked statically."""
    components = _components(graph)
    seen_topics: dict[str, str] = {}
    subs = []
    for number, nodes in enumerate(components):
        sources: set[str] = set()
        sinks: dict[str, int | None] = {}
        store_names: list[str] = []
        for node in nodes:
            if node.source is not None:
                for topic in node.source.topics:
                    name = topic
                    if node.source.internal:
                        name = repartition_topic(application_id, topic)
                    if name in seen_topics:
                        raise TopologyError(
                            f"topic {name!r} is read by both {seen_topics[name]} and "
                            f"{node.name}; read it once and branch the stream instead"
                        )
                    seen_topics[name] = node.name
                    sources.add(name)
            if node.sink is not None and node.sink.internal and node.sink.topic is not None:
                topic = repartition_topic(application_id, node.sink.topic)
                sinks[topic] = node.sink.num_partitions
            store_names.extend(s for s in node.stores if s not in store_names)
        definitions = {name: graph.stores[name] for name in store_names}
        specs = tuple(
            StoreSpec(
                d.name, changelog_topic(application_id, d.name) if d.logging else None, d.kind
            )
            for d in definitions.values()
        )
        subs.append(
            SubTopology(number, tuple(nodes), frozenset(sources), specs, sinks, definitions)
        )
    return CompiledTopology(application_id, subs)


def _components(graph: Graph) -> list[list[Node]]:
    """Nodes grouped by parent-child links and shared stores, ordered by first node."""
    parent = {node.index: node.index for node in graph.nodes}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    store_owner: dict[str, int] = {}
    for node in graph.nodes:
        for child in node.children:
            union(node.index, child.index)
        for store in node.stores:
            union(node.index, store_owner.setdefault(store, node.index))
    groups: dict[int, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(find(node.index), []).append(node)
    return [groups[root] for root in sorted(groups)]


# -- describe() ---------------------------------------------------------------


def nodes_in_order(nodes: Sequence[Node]) -> list[Node]:
    """The nodes depth first from the sources, each once, parents before children."""
    members = set(map(id, nodes))
    placed: set[int] = set()
    ordered: list[Node] = []

    def visit(node: Node) -> None:
        if id(node) in placed:
            return
        if any(id(p) in members and id(p) not in placed for p in node.parents):
            return  # reached again through its last parent
        placed.add(id(node))
        ordered.append(node)
        for child in node.children:
            visit(child)

    for node in sorted(nodes, key=lambda n: n.index):
        if node.kind is NodeKind.SOURCE:
            visit(node)
    for node in sorted(nodes, key=lambda n: n.index):  # anything a cycle hid
        if id(node) not in placed:
            placed.add(id(node))
            ordered.append(node)
    return ordered


def _detail(node: Node, application_id: str) -> str:
    if node.kind is NodeKind.SOURCE:
        assert node.source is not None
        topics = node.source.topics
        if node.source.internal:
            topics = tuple(repartition_topic(application_id, t) for t in topics)
        return f"(topics: [{', '.join(topics)}])"
    if node.kind is NodeKind.SINK:
        assert node.sink is not None
        if node.sink.topic is None:
            extractor = node.sink.topic_extractor
            name = getattr(extractor, "__qualname__", type(extractor).__name__)
            return f"(extractor: {name})"
        topic = node.sink.topic
        if node.sink.internal:
            topic = repartition_topic(application_id, topic)
        return f"(topic: {topic})"
    return f"(stores: [{', '.join(node.stores)}])"


def describe_subtopology(number: int, nodes: Sequence[Node], application_id: str) -> str:
    """The lines of one sub-topology, ending with an empty line."""
    lines = [f"   Sub-topology: {number}"]
    for node in nodes_in_order(nodes):
        lines.append(f"    {node.kind.value}: {node.name} {_detail(node, application_id)}")
        if node.kind is not NodeKind.SINK:
            children = ", ".join(c.name for c in node.children) or "none"
            lines.append(f"      --> {children}")
        if node.kind is not NodeKind.SOURCE:
            lines.append(f"      <-- {', '.join(p.name for p in node.parents)}")
    lines.append("")
    return "\n".join(lines) + "\n"
