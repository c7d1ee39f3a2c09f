"""Kafka record batches (magic v2): encoding, decoding, validation, codecs.

``tidal.log.records`` is sans-I/O: it turns bytes into batches and back, and
the storage engine, broker and client all build on it.

Example::

    from tidal.log.records import SimpleRecord, encode_batch, decode_batch

    raw = encode_batch([SimpleRecord(b"hello", key=b"k", timestamp=1700000000000)])
    [record] = decode_batch(raw).records
"""

from tidal.log.records._batch import (
    BATCH_HEADER_SIZE,
    LOG_OVERHEAD,
    NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    NO_TIMESTAMP,
    SPEEDUPS,
    BatchHeader,
    Header,
    Record,
    RecordBatch,
    SimpleRecord,
    TimestampType,
    decode_batch,
    encode_batch,
    encode_batch_columns,
    encode_batch_from,
    iter_batches,
    read_batch_header,
    set_base_offset,
    set_log_append_time,
    set_partition_leader_epoch,
    validate_batch,
)
from tidal.log.records._compression import Compression, compress, decompress
from tidal.log.records._control import (
    ControlRecordType,
    EndTransactionMarker,
    encode_control_batch,
)
from tidal.log.records._crc import crc32c
from tidal.log.records._decode_into import decode_batch_into
from tidal.log.records._errors import (
    CorruptRecordError,
    InvalidRecordError,
    RecordsError,
    RecordTooLargeError,
    UnsupportedCompressionError,
)
from tidal.log.records._varint import read_varint, varint_size, write_varint

__all__ = [
    "BATCH_HEADER_SIZE",
    "LOG_OVERHEAD",
    "NO_PARTITION_LEADER_EPOCH",
    "NO_PRODUCER_EPOCH",
    "NO_PRODUCER_ID",
    "NO_SEQUENCE",
    "NO_TIMESTAMP",
    "SPEEDUPS",
    "BatchHeader",
    "Compression",
    "ControlRecordType",
    "CorruptRecordError",
    "EndTransactionMarker",
    "Header",
    "InvalidRecordError",
    "Record",
    "RecordBatch",
    "RecordTooLargeError",
    "RecordsError",
    "SimpleRecord",
    "TimestampType",
    "UnsupportedCompressionError",
    "compress",
    "crc32c",
    "decode_batch",
    "decode_batch_into",
    "decompress",
    "encode_batch",
    "encode_batch_columns",
    "encode_batch_from",
    "encode_control_batch",
    "iter_batches",
    "read_batch_header",
    "read_varint",
    "set_base_offset",
    "set_log_append_time",
    "set_partition_leader_epoch",
    "validate_batch",
    "varint_size",
    "write_varint",
]
