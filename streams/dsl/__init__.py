"""The Streams DSL: streams, tables, grouping and aggregation, in Kafka Streams' terms.

Build a topology with a :class:`TopologyBuilder` (or an ``App``, which holds
one); every call returns a new object holding a new graph node and nothing
runs until :meth:`TopologyBuilder.compile`::

    builder = TopologyBuilder("word-count")
    (
        builder.stream("lines", value_serde="str")
        .flat_map_values(str.split)
        .group_by(lambda key, word: word, key_serde="str")
        .count(store_name="counts")
        .to_stream()
        .to("word-counts", key_serde="str", value_serde="long")
    )

See ``docs/streams-dsl.md`` for the reference.
"""

from tidal.streams.dsl._builder import SerdeSpec, TimestampExtractor, TopologyBuilder
from tidal.streams.dsl._processor import (
    STREAM_TIME,
    WALL_CLOCK_TIME,
    Processor,
    ProcessorContext,
)
from tidal.streams.dsl._stream import BranchedStream, Stream
from tidal.streams.dsl._table import GroupedStream, GroupedTable, Table
from tidal.streams.topology import Cancellable, RecordContext, StoreDefinition

__all__ = [
    "STREAM_TIME",
    "WALL_CLOCK_TIME",
    "BranchedStream",
    "Cancellable",
    "GroupedStream",
    "GroupedTable",
    "Processor",
    "ProcessorContext",
    "RecordContext",
    "SerdeSpec",
    "StoreDefinition",
    "Stream",
    "Table",
    "TimestampExtractor",
    "TopologyBuilder",
]
