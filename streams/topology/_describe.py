"""Kafka Streams' ``Topology.describe()`` text for a compiled topology.

The text lists each sub-topology's nodes in the order a record meets them
(depth first from the sources), each with its children (``-->``) and parents
(``<--``), the topics of sources and sinks and the stores of processors::

    Topologies:
       Sub-topology: 0
        Source: KSTREAM-SOURCE-0000000000 (topics: [words])
          --> KSTREAM-FLATMAPVALUES-0000000001
        Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
          --> KSTREAM-KEY-SELECT-0000000002
          <-- KSTREAM-SOURCE-0000000000
        ...
"""

from __future__ import annotations

from collections.abc import Sequence

from tidal.streams.topology._graph import Node, NodeKind
from tidal.streams.topology._task import repartition_topic

__all__ = ["describe_subtopology", "nodes_in_order"]


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
