"""The connector API: connectors, tasks, records and Kafka Connect's data model.

Everything a connector author imports::

    from tidal.connectors.api import (
        SourceConnector, SourceTask, SourceRecord, Schema, SchemaBuilder, Struct,
    )

Connector and task methods may be plain ``def`` or ``async def``; see :func:`invoke`.
"""

from ._async import MaybeAwaitable, invoke, resolve
from ._builder import SchemaBuilder
from ._connector import (
    Connector,
    ConnectorContext,
    ConnectorTransactionBoundaries,
    ExactlyOnceSupport,
    SinkConnector,
    SinkConnectorContext,
    SourceConnector,
    SourceConnectorContext,
)
from ._errors import ConnectError, DataError, RetriableError, SchemaBuilderError
from ._logical import Date, Decimal, Time, Timestamp
from ._records import ConnectRecord, Header, Headers, SinkRecord, SourceRecord, TimestampType
from ._schema import Field, Schema, Type
from ._struct import SchemaAndValue, Struct
from ._task import (
    ErrantRecordReporter,
    OffsetAndMetadata,
    OffsetStorageReader,
    RecordMetadata,
    SinkTask,
    SinkTaskContext,
    SourceTask,
    SourceTaskContext,
    Task,
    TopicPartition,
    TransactionContext,
)

__all__ = [
    "ConnectError",
    "ConnectRecord",
    "Connector",
    "ConnectorContext",
    "ConnectorTransactionBoundaries",
    "DataError",
    "Date",
    "Decimal",
    "ErrantRecordReporter",
    "ExactlyOnceSupport",
    "Field",
    "Header",
    "Headers",
    "MaybeAwaitable",
    "OffsetAndMetadata",
    "OffsetStorageReader",
    "RecordMetadata",
    "RetriableError",
    "Schema",
    "SchemaAndValue",
    "SchemaBuilder",
    "SchemaBuilderError",
    "SinkConnector",
    "SinkConnectorContext",
    "SinkRecord",
    "SinkTask",
    "SinkTaskContext",
    "SourceConnector",
    "SourceConnectorContext",
    "SourceRecord",
    "SourceTask",
    "SourceTaskContext",
    "Struct",
    "Task",
    "Time",
    "Timestamp",
    "TimestampType",
    "TopicPartition",
    "TransactionContext",
    "Type",
    "invoke",
    "resolve",
]
