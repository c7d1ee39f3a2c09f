"""Tidal Streams: a stream-processing DSL over Tidal's log.

The names most programs need::

    from tidal.streams import App

    app = App("word-count")
    app.stream("lines", value_serde="str").flat_map_values(str.split) ...
    app.run()

Re-exported here: :class:`App` (``tidal.streams.runtime``), the DSL's
:class:`TopologyBuilder`, :class:`Stream`, :class:`Table`,
:class:`GroupedStream`, :class:`GroupedTable` (``tidal.streams.dsl``), the
serdes (``tidal.streams.serdes``), and the errors :class:`StreamsError`,
:class:`TopologyError`, :class:`DeserializationError`,
:class:`ProcessingError`, :class:`ConfigurationError`. They load on first use,
so ``import tidal.streams`` stays light (no broker, no RocksDB).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tidal.streams._contract import (
    DeserializationError,
    ProcessingError,
    StreamsError,
    TaskId,
    TopologyError,
)

if TYPE_CHECKING:
    from tidal.streams.dsl import GroupedStream, GroupedTable, Stream, Table, TopologyBuilder
    from tidal.streams.runtime import App, ConfigurationError
    from tidal.streams.serdes import (
        BytesSerde,
        DoubleSerde,
        FloatSerde,
        IntegerSerde,
        JsonSerde,
        LongSerde,
        MsgpackSerde,
        Serde,
        StringSerde,
        resolve_serde,
    )

_LAZY = {
    "App": "tidal.streams.runtime",
    "ConfigurationError": "tidal.streams.runtime",
    "GroupedStream": "tidal.streams.dsl",
    "GroupedTable": "tidal.streams.dsl",
    "Stream": "tidal.streams.dsl",
    "Table": "tidal.streams.dsl",
    "TopologyBuilder": "tidal.streams.dsl",
    "BytesSerde": "tidal.streams.serdes",
    "DoubleSerde": "tidal.streams.serdes",
    "FloatSerde": "tidal.streams.serdes",
    "IntegerSerde": "tidal.streams.serdes",
    "JsonSerde": "tidal.streams.serdes",
    "LongSerde": "tidal.streams.serdes",
    "MsgpackSerde": "tidal.streams.serdes",
    "Serde": "tidal.streams.serdes",
    "StringSerde": "tidal.streams.serdes",
    "resolve_serde": "tidal.streams.serdes",
}

__all__ = [
    "App",
    "BytesSerde",
    "ConfigurationError",
    "DeserializationError",
    "DoubleSerde",
    "FloatSerde",
    "GroupedStream",
    "GroupedTable",
    "IntegerSerde",
    "JsonSerde",
    "LongSerde",
    "MsgpackSerde",
    "ProcessingError",
    "Serde",
    "Stream",
    "StreamsError",
    "StringSerde",
    "Table",
    "TaskId",
    "TopologyBuilder",
    "TopologyError",
    "resolve_serde",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tidal.streams' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
