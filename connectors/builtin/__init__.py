"""Connectors that ship with Tidal.

``FileStreamSource``/``FileStreamSink`` (Kafka's file connectors, same names and configs).
"""

from ._file import (
    FileStreamSinkConnector,
    FileStreamSinkTask,
    FileStreamSourceConnector,
    FileStreamSourceTask,
)
from ._sql_sink import SqlSinkConnector, SqlSinkTask
from ._sql_source import SqlSourceConnector, SqlSourceTask

__all__ = [
    "FileStreamSinkConnector",
    "FileStreamSinkTask",
    "FileStreamSourceConnector",
    "FileStreamSourceTask",
    "SqlSinkConnector",
    "SqlSinkTask",
    "SqlSourceConnector",
    "SqlSourceTask",
]
