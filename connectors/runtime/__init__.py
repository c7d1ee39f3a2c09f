"""The Connect worker runtime: source and sink task loops, offsets, errors, the herder.

::

    from tidal.connectors.runtime import Herder, WorkerConfig

    herder = Herder(WorkerConfig({"bootstrap.servers": "localhost:9092"}),
                    worker_id="localhost:8083")
    await herder.start()
    await herder.create_connector("lines", {
        "connector.class": "FileStreamSource", "file": "in.txt", "topic": "lines"})

See ``docs/connect-runtime.md`` for running workers, the REST API and error handling.
"""

from ._cluster_state import ClusterState
from ._connector import ConnectorRunner
from ._distributed import DistributedHerder
from ._errors import DeadLetterQueue, ErrorHandler, ErrorSettings, Stage, ToleranceExceededError
from ._herder import Herder
from ._metrics import ConnectMetrics, TaskMetrics
from ._offsets import (
    FileOffsetStore,
    FrozenPartition,
    MemoryOffsetStore,
    OffsetStore,
    TaskOffsetReader,
    offset_key,
    partition_id,
)
from ._plugins import (
    ConnectorConverters,
    WorkerPlugins,
    connector_type,
    invalid_config_message,
    validate_connector_config,
)
from ._properties import ConfigFileError, load_config_file, parse_properties
from ._sink import WorkerSinkTask, sink_group_id
from ._source import WorkerSourceTask
from ._status import (
    BadRequestError,
    ConflictError,
    HerderError,
    NotFoundError,
    State,
    Status,
    TargetState,
    trace_of,
)
from ._task import TaskEnv, TaskId, WorkerTask
from ._topic_log import TopicLog, TopicOffsetStore
from ._worker_config import WorkerConfig, worker_config_def

__all__ = [
    "BadRequestError",
    "ClusterState",
    "ConfigFileError",
    "ConflictError",
    "ConnectMetrics",
    "ConnectorConverters",
    "ConnectorRunner",
    "DeadLetterQueue",
    "DistributedHerder",
    "ErrorHandler",
    "ErrorSettings",
    "FileOffsetStore",
    "FrozenPartition",
    "Herder",
    "HerderError",
    "MemoryOffsetStore",
    "NotFoundError",
    "OffsetStore",
    "Stage",
    "State",
    "Status",
    "TargetState",
    "TaskEnv",
    "TaskId",
    "TaskMetrics",
    "TaskOffsetReader",
    "ToleranceExceededError",
    "TopicLog",
    "TopicOffsetStore",
    "WorkerConfig",
    "WorkerPlugins",
    "WorkerSinkTask",
    "WorkerSourceTask",
    "WorkerTask",
    "connector_type",
    "invalid_config_message",
    "load_config_file",
    "offset_key",
    "parse_properties",
    "partition_id",
    "sink_group_id",
    "trace_of",
    "validate_connector_config",
    "worker_config_def",
]
