"""Record batch v2 (magic 2): the unit Kafka writes on the wire and on disk.

Batch layout (big-endian, 61-byte header)::

    offset  field                 type     notes
    0       base_offset           int64    assigned by the broker on append
    8       batch_length          int32    bytes after this field (size - 12)
    12      partition_leader_epoch int32   set by the broker, outside the CRC
    16      magic                 int8     2
    17      crc                   uint32   CRC-32C of bytes [21, size)
    21      attributes            int16    codec | ts type | txn | control | horizon
    23      last_offset_delta     int32
    27      base_timestamp        int64
    35      max_timestamp         int64
    43      producer_id           int64
    51      producer_epoch        int16
    53      base_sequence         int32
    57      records_count         int32
    61      records               ...      compressed as a whole when codec != 0

Record layout (all varints zigzag)::

    length varint | attributes int8 | timestamp_delta varlong | offset_delta varint
    key_length varint | key | value_length varint | value
    header_count varint | (key_length varint | key utf-8 | value_length varint | value)*

Because ``base_offset`` and ``partition_leader_epoch`` sit before the CRC'd
region, the broker rewrites them in place without touching the checksum.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from tidal.log.records._compression import Compression, compress, decompress
from tidal.log.records._crc import crc32c
from tidal.log.records._errors import (
    CorruptRecordError,
    InvalidRecordError,
    RecordTooLargeError,
)
from tidal.log.records._varint import read_varint, write_varint

# The compiled walker, decoder and encoder (_speedups.c) when it was built and not
# turned off with TIDAL_NO_SPEEDUPS=1; the pure-Python versions below are the
# fallback and the reference the tests hold the compiled ones to.
#: True when record walking, decoding and encoding run in the compiled ``_speedups``.
SPEEDUPS = False
if os.environ.get("TIDAL_NO_SPEEDUPS", "") in ("", "0"):
    try:
        from tidal.log.records import _speedups
    except ImportError:
        pass
    else:
        SPEEDUPS = True

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
    "Header",
    "Record",
    "RecordBatch",
    "SimpleRecord",
    "TimestampType",
    "decode_batch",
    "encode_batch",
    "encode_batch_columns",
    "encode_batch_from",
    "iter_batches",
    "read_batch_header",
    "set_base_offset",
    "set_log_append_time",
    "set_partition_leader_epoch",
    "validate_batch",
]

_HEADER = struct.Struct(">qiibIhiqqqhii")
BATCH_HEADER_SIZE = _HEADER.size  # 61
#: Bytes of the header that precede ``batch_length``'s payload.
LOG_OVERHEAD = 12
_CRC_START = 21
_CRC_STRUCT = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_INT32 = struct.Struct(">i")
_INT16 = struct.Struct(">h")
_MAX_TS_POS = 35
_ATTRIBUTES_POS = 21

MAGIC_V2 = 2
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1
NO_TIMESTAMP = -1

_CODEC_MASK = 0x07
_TIMESTAMP_TYPE_BIT = 0x08
_TRANSACTIONAL_BIT = 0x10
_CONTROL_BIT = 0x20
_DELETE_HORIZON_BIT = 0x40
_KNOWN_ATTRIBUTE_BITS = 0x7F

#: Default ceiling on a decompressed records section (matches no Kafka
#: setting; it only stops decompression bombs).
DEFAULT_MAX_DECOMPRESSED = 256 * 1024 * 1024

Buffer = bytes | bytearray | memoryview
_T = TypeVar("_T")


class TimestampType(IntEnum):
    """Attributes bit 3: who set the record timestamps."""

    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


@dataclass(frozen=True, slots=True)
class Header:
    """A record header: a UTF-8 key and a nullable byte value."""

    key: str
    value: bytes | None


@dataclass(frozen=True, slots=True)
class SimpleRecord:
    """A record to be encoded; the batch assigns its offset.

    ``timestamp`` is milliseconds since the epoch.
    """

    value: bytes | None
    key: bytes | None = None
    timestamp: int = 0
    headers: Sequence[Header] = ()


@dataclass(frozen=True, slots=True)
class Record:
    """A decoded record with its absolute offset and timestamp."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


class BatchHeader:
    """The 61-byte header of a batch, read without touching its records.

    This is the cheap view the storage engine and broker use: it never
    decompresses anything.
    """

    __slots__ = (
        "attributes",
        "base_offset",
        "base_sequence",
        "base_timestamp",
        "batch_length",
        "crc",
        "last_offset_delta",
        "magic",
        "max_timestamp",
        "partition_leader_epoch",
        "producer_epoch",
        "producer_id",
        "records_count",
    )

    def __init__(
        self,
        base_offset: int,
        batch_length: int,
        partition_leader_epoch: int,
        magic: int,
        crc: int,
        attributes: int,
        last_offset_delta: int,
        base_timestamp: int,
        max_timestamp: int,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int,
        records_count: int,
    ) -> None:
        self.base_offset = base_offset
        self.batch_length = batch_length
        self.partition_leader_epoch = partition_leader_epoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.last_offset_delta = last_offset_delta
        self.base_timestamp = base_timestamp
        self.max_timestamp = max_timestamp
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.records_count = records_count

    @property
    def size(self) -> int:
        """Total bytes of the batch including the 12-byte log overhead."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        """Offset of the last record (kept by compaction even if removed)."""
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        """The offset after this batch."""
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> Compression:
        """The batch's codec; an unknown id raises ``UnsupportedCompressionError``."""
        return Compression.from_id(self.attributes & _CODEC_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        """CreateTime or LogAppendTime."""
        if self.attributes & _TIMESTAMP_TYPE_BIT:
            return TimestampType.LOG_APPEND_TIME
        return TimestampType.CREATE_TIME

    @property
    def is_transactional(self) -> bool:
        """True for batches written inside a transaction."""
        return bool(self.attributes & _TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        """True for commit/abort marker batches."""
        return bool(self.attributes & _CONTROL_BIT)

    @property
    def has_delete_horizon(self) -> bool:
        """True when the cleaner stored a delete horizon in ``base_timestamp``."""
        return bool(self.attributes & _DELETE_HORIZON_BIT)

    @property
    def delete_horizon_ms(self) -> int | None:
        """The tombstone delete horizon set by the cleaner, if any."""
        return self.base_timestamp if self.has_delete_horizon else None

    @property
    def is_idempotent(self) -> bool:
        """True when a producer id is set."""
        return self.producer_id != NO_PRODUCER_ID

    @property
    def last_sequence(self) -> int:
        """Sequence number of the last record, wrapping as Kafka does."""
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) & 0x7FFFFFFF

    def __repr__(self) -> str:
        return (
            f"BatchHeader(base_offset={self.base_offset}, last_offset={self.last_offset}, "
            f"count={self.records_count}, size={self.size}, attributes={self.attributes:#x}, "
            f"producer_id={self.producer_id}, producer_epoch={self.producer_epoch}, "
            f"base_sequence={self.base_sequence})"
        )


@dataclass(slots=True)
class RecordBatch:
    """A fully decoded batch: its header and its records."""

    header: BatchHeader
    records: list[Record] = field(default_factory=list)


def read_batch_header(buf: Buffer, pos: int = 0) -> BatchHeader:
    """Read the header at ``pos`` without checking the CRC or the records.

    Raises :class:`CorruptRecordError` when fewer than 61 bytes remain.
    """
    if len(buf) - pos < BATCH_HEADER_SIZE:
        raise CorruptRecordError(
            f"batch header needs {BATCH_HEADER_SIZE} bytes, {max(len(buf) - pos, 0)} left"
        )
    return BatchHeader(*_HEADER.unpack_from(buf, pos))


def validate_batch(
    buf: Buffer,
    pos: int = 0,
    *,
    max_size: int | None = None,
    check_records: bool = True,
    from_producer: bool = False,
    require_keys: bool = False,
) -> BatchHeader:
    """Check the batch at ``pos`` and return its header.

    Checks: enough bytes, magic 2, a plausible ``batch_length`` that fits the
    buffer and ``max_size``, the CRC-32C, a known codec and attribute bits,
    and (with ``check_records``) that the records section holds exactly
    ``records_count`` well-formed records with increasing offset deltas no
    greater than ``last_offset_delta``. ``from_producer`` adds the rules for
    batches a client sends: at least one record, ``last_offset_delta ==
    records_count - 1``, and no control batch. ``require_keys`` (the rule of
    a compacted topic; it implies ``check_records``) refuses a batch holding
    a record with a null key with ``InvalidRecordError``, raised only when
    every other check passed, so that it names the one fault of the batch.
    """
    header = read_batch_header(buf, pos)
    if header.magic != MAGIC_V2:
        raise CorruptRecordError(f"unsupported batch magic {header.magic} at position {pos}")
    size = header.size
    if header.batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD:
        raise CorruptRecordError(f"batch length {header.batch_length} is below the header size")
    if max_size is not None and size > max_size:
        raise RecordTooLargeError(f"batch of {size} bytes exceeds the maximum of {max_size}")
    if len(buf) - pos < size:
        raise CorruptRecordError(
            f"batch at position {pos} declares {size} bytes but only {len(buf) - pos} remain"
        )
    view = memoryview(buf)[pos + _CRC_START : pos + size]
    actual = crc32c(view)
    if actual != header.crc:
        raise CorruptRecordError(
            f"CRC mismatch for batch at offset {header.base_offset}: stored {header.crc:#010x}, "
            f"computed {actual:#010x}"
        )
    if header.attributes & ~_KNOWN_ATTRIBUTE_BITS:
        raise CorruptRecordError(f"unknown attribute bits {header.attributes:#06x}")
    codec = header.compression
    if header.records_count < 0 or header.last_offset_delta < 0:
        raise CorruptRecordError("negative record count or last offset delta")
    if header.records_count > header.last_offset_delta + 1:
        raise CorruptRecordError(
            f"record count {header.records_count} exceeds last offset delta "
            f"{header.last_offset_delta} + 1"
        )
    if from_producer:
        _check_producer_batch(header)
    if check_records or require_keys:
        data = _records_section(buf, pos, header, codec)
        _walk_records(data, 0, len(data), header, require_keys)
    return header


def _check_producer_batch(header: BatchHeader) -> None:
    if header.records_count == 0:
        raise InvalidRecordError("a produced batch must hold at least one record")
    if header.last_offset_delta != header.records_count - 1:
        raise InvalidRecordError(
            f"last offset delta {header.last_offset_delta} does not match "
            f"record count {header.records_count}"
        )
    if header.is_control:
        raise InvalidRecordError("clients may not produce control batches")


def _records_section(buf: Buffer, pos: int, header: BatchHeader, codec: Compression) -> Buffer:
    view = memoryview(buf)[pos + BATCH_HEADER_SIZE : pos + header.size]
    if codec is Compression.NONE:
        return view
    return decompress(codec, view, DEFAULT_MAX_DECOMPRESSED)


_MAX_VARINT_SHIFT = 63
#: The smallest record: length-prefixed attributes, timestamp delta, offset
#: delta, key length, value length and header count of one byte each.
_MIN_RECORD_BODY = 6


def _walk_records(
    data: Buffer, pos: int, end: int, header: BatchHeader, reject_null_keys: bool = False
) -> None:
    """Structural check of a records section: the compiled walk or the Python one."""
    if _use_speedups:
        if pos or end != len(data):
            data = memoryview(data)[pos:end]
        if reject_null_keys:
            _speedups.walk_records(data, header.records_count, header.last_offset_delta, True)
        else:
            _speedups.walk_records(data, header.records_count, header.last_offset_delta)
    else:
        _walk_records_py(data, pos, end, header, reject_null_keys)


def _walk_records_py(
    data: Buffer, pos: int, end: int, header: BatchHeader, reject_null_keys: bool = False
) -> None:
    """Structural check of a records section without building objects.

    Every record's length must fit, offset deltas must increase and stay within
    ``last_offset_delta``, and the records must fill the section exactly. This
    runs on every append, so the varints are read inline rather than through
    :func:`read_varint` (a call per field would triple the cost).

    With ``reject_null_keys`` the key length after the offset delta is read
    too (cut at ten bytes like the offset delta), and a null one (-1) fails
    the batch once the walk is through: a fault of structure found later in
    the section wins, as in Kafka, which collects key errors while it reads
    and raises them after the last record.
    """
    last_delta = header.last_offset_delta
    previous = -1
    null_key = -1
    try:
        for index in range(header.records_count):
            # record length
            zigzag = shift = 0
            while True:
                byte = data[pos]
                pos += 1
                zigzag |= (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                shift += 7
                if shift > _MAX_VARINT_SHIFT:
                    raise CorruptRecordError(f"record {index} has an overlong length varint")
            length = (zigzag >> 1) ^ -(zigzag & 1)
            record_end = pos + length
            if length < _MIN_RECORD_BODY or record_end > end:
                raise CorruptRecordError(f"record {index} has an invalid length {length}")
            # attributes, then skip the timestamp delta
            cursor = pos + 1
            while data[cursor] >= 0x80 and cursor < record_end:
                cursor += 1
            cursor += 1
            # offset delta
            zigzag = shift = 0
            while cursor < record_end:
                byte = data[cursor]
                cursor += 1
                zigzag |= (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                shift += 7
                if shift > _MAX_VARINT_SHIFT:
                    break
            else:
                raise CorruptRecordError(f"record {index} is cut inside its offset delta")
            delta = (zigzag >> 1) ^ -(zigzag & 1)
            if delta <= previous or delta > last_delta:
                raise InvalidRecordError(
                    f"record {index} has offset delta {delta}, expected above "
                    f"{previous} and at most {last_delta}"
                )
            previous = delta
            if reject_null_keys:
                zigzag = shift = 0
                while cursor < record_end:
                    byte = data[cursor]
                    cursor += 1
                    zigzag |= (byte & 0x7F) << shift
                    if byte < 0x80:
                        break
                    shift += 7
                    if shift > _MAX_VARINT_SHIFT:
                        break
                else:
                    raise CorruptRecordError(f"record {index} is cut inside its key length")
                if zigzag == 1 and null_key < 0:  # zigzag 1 is -1
                    null_key = index
            pos = record_end
    except IndexError:
        raise CorruptRecordError(
            f"records section ends inside record {index} of {header.records_count}"
        ) from None
    if pos != end:
        raise CorruptRecordError(
            f"records section has {end - pos} bytes after the declared {header.records_count} "
            "records"
        )
    if null_key >= 0:
        raise InvalidRecordError(f"record {null_key} has a null key")


def decode_batch(
    buf: Buffer,
    pos: int = 0,
    *,
    verify_crc: bool = True,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
) -> RecordBatch:
    """Decode the batch at ``pos`` with all of its records.

    Any malformed input raises :class:`CorruptRecordError` (or a subclass).
    """
    header = read_batch_header(buf, pos)
    if header.magic != MAGIC_V2:
        raise CorruptRecordError(f"unsupported batch magic {header.magic}")
    size = header.size
    if header.batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD or len(buf) - pos < size:
        raise CorruptRecordError(f"batch length {header.batch_length} does not fit the buffer")
    if verify_crc:
        actual = crc32c(memoryview(buf)[pos + _CRC_START : pos + size])
        if actual != header.crc:
            raise CorruptRecordError(
                f"CRC mismatch: stored {header.crc:#010x}, computed {actual:#010x}"
            )
    codec = header.compression
    if header.records_count < 0:
        raise CorruptRecordError(f"negative record count {header.records_count}")
    view = memoryview(buf)[pos + BATCH_HEADER_SIZE : pos + size]
    data: Buffer = view if codec is Compression.NONE else decompress(codec, view, max_decompressed)
    records = _decode_records(data, header)
    return RecordBatch(header, records)


def _read_bytes(data: bytes, pos: int, end: int) -> tuple[bytes | None, int]:
    length, pos = read_varint(data, pos, end)
    if length < 0:
        if length != -1:
            raise CorruptRecordError(f"negative length {length}")
        return None, pos
    if pos + length > end:
        raise CorruptRecordError("field runs past the end of its record")
    return data[pos : pos + length], pos + length


def _decode_records(data: Buffer, header: BatchHeader) -> list[Record]:
    """Decode a records section: the compiled decoder (which reads ``data`` in
    place) or the Python one (which needs ``bytes``)."""
    if _use_speedups:
        log_append_time = header.max_timestamp if header.attributes & _TIMESTAMP_TYPE_BIT else None
        return _speedups.decode_records(
            data, header.records_count, header.base_offset, header.base_timestamp, log_append_time
        )
    return _decode_records_py(bytes(data), header)


def _decode_records_py(data: bytes, header: BatchHeader) -> list[Record]:
    end = len(data)
    # A record takes at least 7 bytes, which bounds the list before allocating.
    if header.records_count > end // 7 + 1:
        raise CorruptRecordError(
            f"record count {header.records_count} cannot fit in {end} bytes of records"
        )
    records: list[Record] = []
    append = records.append
    base_offset = header.base_offset
    base_timestamp = header.base_timestamp
    log_append = header.attributes & _TIMESTAMP_TYPE_BIT
    pos = 0
    for _ in range(header.records_count):
        length, pos = read_varint(data, pos, end)
        record_end = pos + length
        if length < 1 or record_end > end:
            raise CorruptRecordError(f"invalid record length {length}")
        pos += 1  # attributes, unused
        ts_delta, pos = read_varint(data, pos, record_end)
        offset_delta, pos = read_varint(data, pos, record_end)
        key, pos = _read_bytes(data, pos, record_end)
        value, pos = _read_bytes(data, pos, record_end)
        header_count, pos = read_varint(data, pos, record_end)
        if header_count < 0 or header_count > record_end - pos:
            raise CorruptRecordError(f"invalid header count {header_count}")
        headers: list[Header] = []
        for _ in range(header_count):
            hkey, pos = _read_bytes(data, pos, record_end)
            if hkey is None:
                raise CorruptRecordError("null header key")
            hvalue, pos = _read_bytes(data, pos, record_end)
            try:
                headers.append(Header(hkey.decode("utf-8"), hvalue))
            except UnicodeDecodeError as exc:
                raise CorruptRecordError(f"header key is not UTF-8: {exc}") from None
        if pos != record_end:
            raise CorruptRecordError("record length does not match its fields")
        timestamp = header.max_timestamp if log_append else base_timestamp + ts_delta
        append(Record(base_offset + offset_delta, timestamp, key, value, tuple(headers)))
    if pos != end:
        raise CorruptRecordError(f"{end - pos} bytes follow the last record")
    return records


#: Whether _walk_records, _decode_records and _encode_records use the compiled versions (tests
#: switch it off to run the same cases through the Python ones).
_use_speedups = SPEEDUPS
if SPEEDUPS:
    _speedups.configure(CorruptRecordError, InvalidRecordError, Record, Header)


def _write_bytes(value: bytes | None, out: bytearray) -> None:
    if value is None:
        write_varint(-1, out)
    else:
        write_varint(len(value), out)
        out += value


def _encode_record(
    out: bytearray,
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[Header],
) -> None:
    body = bytearray(b"\x00")
    write_varint(timestamp_delta, body)
    write_varint(offset_delta, body)
    _write_bytes(key, body)
    _write_bytes(value, body)
    headers = tuple(headers)
    write_varint(len(headers), body)
    for h in headers:
        encoded_key = h.key.encode("utf-8")
        write_varint(len(encoded_key), body)
        body += encoded_key
        _write_bytes(h.value, body)
    write_varint(len(body), out)
    out += body


def _encode_records(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[Iterable[Header]] | None,
    base_timestamp: int,
    offset_deltas: Sequence[int] | None = None,
) -> bytes:
    """A records section from parallel lists: the compiled encoder or the
    Python one. ``offset_deltas=None`` numbers the records 0, 1, ..."""
    if _use_speedups:
        return _speedups.encode_records(
            keys, values, timestamps, headers, base_timestamp, offset_deltas
        )
    return _encode_records_py(keys, values, timestamps, headers, base_timestamp, offset_deltas)


def _column(obj: Sequence[_T], name: str) -> Sequence[_T]:
    # the compiled encoder takes lists and tuples as they are, lists of the rest
    if type(obj) is list or type(obj) is tuple:
        return obj
    try:
        return list(obj)
    except TypeError:
        raise TypeError(
            f"encode_records() needs a sequence of {name}, got {type(obj).__name__}"
        ) from None


def _encode_records_py(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[Iterable[Header]] | None,
    base_timestamp: int,
    offset_deltas: Sequence[int] | None = None,
) -> bytes:
    """The reference the compiled ``encode_records`` is held to."""
    key_column = _column(keys, "keys")
    value_column = _column(values, "values")
    timestamp_column = _column(timestamps, "timestamps")
    header_column = None if headers is None else _column(headers, "headers")
    delta_column = None if offset_deltas is None else _column(offset_deltas, "offset deltas")
    count = len(key_column)
    for column in (value_column, timestamp_column, header_column, delta_column):
        if column is not None and len(column) != count:
            raise ValueError(
                f"encode_records() needs columns of one length, got {count} and {len(column)}"
            )
    data = bytearray()
    for i in range(count):
        _encode_record(
            data,
            i if delta_column is None else delta_column[i],
            timestamp_column[i] - base_timestamp,
            key_column[i],
            value_column[i],
            () if header_column is None else header_column[i],
        )
    return bytes(data)


def _attributes(
    compression: Compression,
    timestamp_type: TimestampType,
    is_transactional: bool,
    is_control: bool,
    has_delete_horizon: bool = False,
) -> int:
    attributes = int(compression)
    if timestamp_type is TimestampType.LOG_APPEND_TIME:
        attributes |= _TIMESTAMP_TYPE_BIT
    if is_transactional:
        attributes |= _TRANSACTIONAL_BIT
    if is_control:
        attributes |= _CONTROL_BIT
    if has_delete_horizon:
        attributes |= _DELETE_HORIZON_BIT
    return attributes


def _assemble(
    records_data: bytes,
    *,
    base_offset: int,
    partition_leader_epoch: int,
    attributes: int,
    last_offset_delta: int,
    base_timestamp: int,
    max_timestamp: int,
    producer_id: int,
    producer_epoch: int,
    base_sequence: int,
    records_count: int,
) -> bytes:
    compression = Compression.from_id(attributes & _CODEC_MASK)
    payload = compress(compression, records_data) if compression else records_data
    batch_length = BATCH_HEADER_SIZE - LOG_OVERHEAD + len(payload)
    out = bytearray(
        _HEADER.pack(
            base_offset,
            batch_length,
            partition_leader_epoch,
            MAGIC_V2,
            0,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            records_count,
        )
    )
    out += payload
    _CRC_STRUCT.pack_into(out, 17, crc32c(memoryview(out)[_CRC_START:]))
    return bytes(out)


def encode_batch(
    records: Sequence[SimpleRecord],
    *,
    base_offset: int = 0,
    compression: Compression = Compression.NONE,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    is_transactional: bool = False,
    is_control: bool = False,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytes:
    """Encode ``records`` as one batch, offsets ``base_offset`` onward.

    >>> batch = encode_batch([SimpleRecord(b"v", key=b"k", timestamp=1)])
    >>> decode_batch(batch).records[0].value
    b'v'
    """
    if not records:
        raise ValueError("a batch needs at least one record")
    return encode_batch_columns(
        [r.key for r in records],
        [r.value for r in records],
        [r.timestamp for r in records],
        [r.headers for r in records],
        base_offset=base_offset,
        compression=compression,
        timestamp_type=timestamp_type,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        is_transactional=is_transactional,
        is_control=is_control,
        partition_leader_epoch=partition_leader_epoch,
    )


def encode_batch_columns(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[Sequence[Header]] | None = None,
    *,
    base_offset: int = 0,
    compression: Compression = Compression.NONE,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    is_transactional: bool = False,
    is_control: bool = False,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytes:
    """:func:`encode_batch` from parallel lists, one item per record.

    This is what a producer that keeps its records as lists calls: no
    :class:`SimpleRecord` per record, and the records section is built in one
    compiled call when the speedups are in use. ``headers=None`` means no
    record has headers.

    >>> batch = encode_batch_columns([b"k", None], [b"v1", b"v2"], [1, 2])
    >>> [r.value for r in decode_batch(batch).records]
    [b'v1', b'v2']
    """
    if not timestamps:
        raise ValueError("a batch needs at least one record")
    base_timestamp = timestamps[0]
    max_timestamp = max(timestamps)
    data = _encode_records(keys, values, timestamps, headers, base_timestamp)
    return _assemble(
        data,
        base_offset=base_offset,
        partition_leader_epoch=partition_leader_epoch,
        attributes=_attributes(compression, timestamp_type, is_transactional, is_control),
        last_offset_delta=len(timestamps) - 1,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        records_count=len(timestamps),
    )


def encode_batch_from(
    header: BatchHeader,
    records: Sequence[Record],
    *,
    delete_horizon_ms: int | None = None,
) -> bytes:
    """Rebuild a batch keeping a subset of its records at their offsets.

    This is what the log cleaner writes: the base offset, last offset delta,
    producer fields, codec and flags of ``header`` are kept, so producer state
    and offsets survive compaction; ``records`` may be empty. With
    ``delete_horizon_ms`` the batch carries the horizon in its base timestamp.
    """
    timestamps = [r.timestamp for r in records]
    if delete_horizon_ms is not None:
        base_timestamp = delete_horizon_ms
    elif timestamps:
        base_timestamp = timestamps[0]
    else:
        base_timestamp = header.base_timestamp
    data = _encode_records(
        [r.key for r in records],
        [r.value for r in records],
        timestamps,
        [r.headers for r in records],
        base_timestamp,
        [r.offset - header.base_offset for r in records],
    )
    attributes = header.attributes & ~_DELETE_HORIZON_BIT
    if delete_horizon_ms is not None:
        attributes |= _DELETE_HORIZON_BIT
    return _assemble(
        data,
        base_offset=header.base_offset,
        partition_leader_epoch=header.partition_leader_epoch,
        attributes=attributes,
        last_offset_delta=header.last_offset_delta,
        base_timestamp=base_timestamp,
        max_timestamp=max(timestamps) if timestamps else header.max_timestamp,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        records_count=len(records),
    )


def iter_batches(buf: Buffer, pos: int = 0, end: int | None = None) -> Iterator[BatchHeader]:
    """Walk the headers of concatenated batches without checking CRCs.

    Stops at a trailing partial batch (as a fetch response may end with one).
    """
    stop = len(buf) if end is None else end
    while stop - pos >= BATCH_HEADER_SIZE:
        header = read_batch_header(buf, pos)
        if header.batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD:
            raise CorruptRecordError(f"batch length {header.batch_length} at position {pos}")
        if pos + header.size > stop:
            return
        yield header
        pos += header.size


def set_base_offset(buf: bytearray | memoryview, base_offset: int, pos: int = 0) -> None:
    """Rewrite the base offset of the batch at ``pos`` (outside the CRC)."""
    _INT64.pack_into(buf, pos, base_offset)


def set_partition_leader_epoch(buf: bytearray | memoryview, epoch: int, pos: int = 0) -> None:
    """Rewrite the partition leader epoch of the batch at ``pos`` (outside the CRC)."""
    _INT32.pack_into(buf, pos + 12, epoch)


def set_log_append_time(buf: bytearray | memoryview, timestamp: int, pos: int = 0) -> None:
    """Stamp a batch with LogAppendTime: sets the attribute bit and the max
    timestamp, then recomputes the CRC (both fields are inside it)."""
    header = read_batch_header(buf, pos)
    _INT16.pack_into(buf, pos + _ATTRIBUTES_POS, header.attributes | _TIMESTAMP_TYPE_BIT)
    _INT64.pack_into(buf, pos + _MAX_TS_POS, timestamp)
    crc = crc32c(memoryview(buf)[pos + _CRC_START : pos + header.size])
    _CRC_STRUCT.pack_into(buf, pos + 17, crc)
