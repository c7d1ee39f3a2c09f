"""Compiling a DSL graph into sub-topologies, tasks and internal topics.

:class:`~tidal.streams.dsl.TopologyBuilder` builds a :class:`Graph`;
:func:`compile_topology` splits it at repartition topics into
:class:`SubTopology` objects and returns a :class:`CompiledTopology`, which
is what the runtime and the test driver execute (it satisfies
:class:`~tidal.streams._contract.CompiledTopologyProtocol`)::

    topology = builder.compile()
    for topic in topology.internal_topics(partitions_of):
        ...  # create it
    task = topology.subtopologies[0].create_task(partition, task_context)
    task.process(topic, partition, offset, key, value, timestamp, headers)
"""

from tidal.streams.topology._compile import (
    CHANGELOG_CONFIG,
    REPARTITION_CONFIG,
    CompiledTopology,
    SubTopology,
    changelog_topic,
    compile_topology,
)
from tidal.streams.topology._context import (
    STREAM_TIME,
    WALL_CLOCK_TIME,
    Cancellable,
    NodeContext,
    RecordContext,
)
from tidal.streams.topology._graph import (
    Emit,
    Graph,
    Node,
    NodeKind,
    ProcessorFactory,
    SinkSpec,
    SourceSpec,
    StoreDefinition,
    TopicNameExtractor,
)
from tidal.streams.topology._task import CompiledTask, fanout, repartition_topic

__all__ = [
    "CHANGELOG_CONFIG",
    "REPARTITION_CONFIG",
    "STREAM_TIME",
    "WALL_CLOCK_TIME",
    "Cancellable",
    "CompiledTask",
    "CompiledTopology",
    "Emit",
    "Graph",
    "Node",
    "NodeContext",
    "NodeKind",
    "ProcessorFactory",
    "RecordContext",
    "SinkSpec",
    "SourceSpec",
    "StoreDefinition",
    "SubTopology",
    "TopicNameExtractor",
    "changelog_topic",
    "compile_topology",
    "fanout",
    "repartition_topic",
]
