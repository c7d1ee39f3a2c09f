"""Tidal Streams: a stream-processing DSL over Tidal's log.

The names most programs need::

    from tidal.streams import App

    app = App("word-count")
    app.stream("lines", value_serde="str").flat_map_values(str.split) ...
    app.run()

Errors: :class:`StreamsError` and its kinds :class:`TopologyError`,
:class:`DeserializationError`, :class:`ProcessingError`,
:class:`ConfigurationError`. The DSL lives in :mod:`tidal.streams.dsl`,
serdes in :mod:`tidal.streams.serdes`, stores in :mod:`tidal.streams.state`,
the broker-less test driver in :mod:`tidal.streams.testing`.
"""

from tidal.streams._contract import (
    DeserializationError,
    ProcessingError,
    StreamsError,
    TaskId,
    TopologyError,
)
from tidal.streams.runtime import App, ConfigurationError

__all__ = [
    "App",
    "ConfigurationError",
    "DeserializationError",
    "ProcessingError",
    "StreamsError",
    "TaskId",
    "TopologyError",
]
