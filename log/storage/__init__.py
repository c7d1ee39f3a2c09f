"""Tidal's storage engine: Kafka's on-disk log layout, in Python.

A ``LogManager`` owns a data directory of partition directories, each a
``PartitionLog`` of segments (``.log`` + ``.index`` + ``.timeindex``) exactly
as Apache Kafka lays them out. No asyncio here: background work (retention,
compaction, flushing) runs on the manager's scheduler thread.

Example::

    from tidal.log.records import SimpleRecord, encode_batch
    from tidal.log.storage import LogConfig, LogManager

    manager = LogManager("/var/lib/tidal", LogConfig())
    log = manager.get_or_create_log("orders", 0)
    info = log.append(encode_batch([SimpleRecord(b"hello")]))
    log.high_watermark = log.log_end_offset
    data = log.read_bytes(info.first_offset, 1 << 20)
    manager.shutdown()
"""

from tidal.log.storage._checkpoint import CorruptCheckpointError
from tidal.log.storage._cleaner import CleanerStats, compact_segments
from tidal.log.storage._config import (
    LONG_MAX,
    ConfigError,
    LogConfig,
    LogManagerConfig,
    parse_config_value,
)
from tidal.log.storage._dir_lock import DataDirInUseError
from tidal.log.storage._epoch import LeaderEpochCache
from tidal.log.storage._errors import (
    CorruptIndexError,
    CorruptSegmentError,
    InvalidTopicError,
    LogClosedError,
    OffsetOutOfRangeError,
    OffsetsOutOfOrderError,
    StorageError,
)
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._index import OffsetIndex, TimeIndex
from tidal.log.storage._log import PartitionLog
from tidal.log.storage._manager import CLEAN_SHUTDOWN_FILE, LogManager, validate_topic_name
from tidal.log.storage._recovery import RecoveryReport
from tidal.log.storage._results import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_TIMESTAMP,
    FileRange,
    LogAppendInfo,
    TimestampAndOffset,
)
from tidal.log.storage._segment import LogSegment
from tidal.log.storage._txn_index import (
    TXN_INDEX_SUFFIX,
    AbortedTxn,
    CorruptTxnIndexError,
    TransactionIndex,
)

__all__ = [
    "CLEAN_SHUTDOWN_FILE",
    "EARLIEST_TIMESTAMP",
    "LATEST_TIMESTAMP",
    "LONG_MAX",
    "MAX_TIMESTAMP",
    "TXN_INDEX_SUFFIX",
    "AbortedTxn",
    "CleanerStats",
    "ConfigError",
    "CorruptCheckpointError",
    "CorruptIndexError",
    "CorruptSegmentError",
    "CorruptTxnIndexError",
    "DataDirInUseError",
    "FileHandleCache",
    "FileRange",
    "InvalidTopicError",
    "LeaderEpochCache",
    "LogAppendInfo",
    "LogClosedError",
    "LogConfig",
    "LogManager",
    "LogManagerConfig",
    "LogSegment",
    "OffsetIndex",
    "OffsetOutOfRangeError",
    "OffsetsOutOfOrderError",
    "PartitionLog",
    "RecoveryReport",
    "StorageError",
    "TimeIndex",
    "TimestampAndOffset",
    "TransactionIndex",
    "compact_segments",
    "parse_config_value",
    "validate_topic_name",
]
