"""Tidal Connect: source and sink connectors, Kafka Connect style.

The connector API is re-exported here, so a connector module can start with
``from tidal.connectors import SourceConnector, SourceTask, SourceRecord``. The rest lives
in subpackages:

* :mod:`tidal.connectors.api` — connectors, tasks, records, ``Schema``/``Struct``;
* :mod:`tidal.connectors.config` — ``ConfigDef``, validators, the validate answer;
* :mod:`tidal.connectors.converters` — JSON (Kafka-identical), String, ByteArray, msgpack;
* :mod:`tidal.connectors.transforms` — Kafka's single message transforms and predicates;
* :mod:`tidal.connectors.plugins` — finding plugins by Kafka name, Python path or alias;
* :mod:`tidal.connectors.validation` — validating a whole connector config.

Importing this package needs nothing beyond the standard library.
"""

from tidal.connectors.api import (
    ConnectError,
    Connector,
    ConnectRecord,
    DataError,
    Header,
    Headers,
    RetriableError,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
    Struct,
    TopicPartition,
)

__all__ = [
    "ConnectError",
    "ConnectRecord",
    "Connector",
    "DataError",
    "Header",
    "Headers",
    "RetriableError",
    "Schema",
    "SchemaAndValue",
    "SchemaBuilder",
    "SinkConnector",
    "SinkRecord",
    "SinkTask",
    "SourceConnector",
    "SourceRecord",
    "SourceTask",
    "Struct",
    "TopicPartition",
]
