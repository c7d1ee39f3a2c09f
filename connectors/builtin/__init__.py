"""Connectors that ship with Tidal.

``FileStreamSource``/``FileStreamSink`` (Kafka's file connectors, same names and configs).
"""

from ._datagen import DatagenSourceConnector, DatagenSourceTask
from ._file import (
    FileStreamSinkConnector,
    FileStreamSinkTask,
    FileStreamSourceConnector,
    FileStreamSourceTask,
)
from ._http_sink import HttpSinkConnector, HttpSinkTask
from ._spooldir import (
    SpoolDirCsvSourceConnector,
    SpoolDirCsvSourceTask,
    SpoolDirJsonSourceConnector,
    SpoolDirJsonSourceTask,
)
from ._sql_sink import SqlSinkConnector, SqlSinkTask
from ._sql_source import SqlSourceConnector, SqlSourceTask

__all__ = [
    "DatagenSourceConnector",
    "DatagenSourceTask",
    "FileStreamSinkConnector",
    "FileStreamSinkTask",
    "FileStreamSourceConnector",
    "FileStreamSourceTask",
    "HttpSinkConnector",
    "HttpSinkTask",
    "SpoolDirCsvSourceConnector",
    "SpoolDirCsvSourceTask",
    "SpoolDirJsonSourceConnector",
    "SpoolDirJsonSourceTask",
    "SqlSinkConnector",
    "SqlSinkTask",
    "SqlSourceConnector",
    "SqlSourceTask",
]
