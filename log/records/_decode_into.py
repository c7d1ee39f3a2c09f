"""Decoding fetched batches straight into the consumer's record objects.

A consumer needs, per record, an object with its topic, partition, offset,
timestamp, timestamp type, key, value and headers. Going through
:class:`~tidal.log.records.Record` first costs a second object per record;
:func:`decode_batch_into` builds the consumer's objects directly, in C when
the record speedups are in use (``_speedups.decode_records_into``, which
fills their slots) and in Python otherwise. The two are held to each other
by ``tests/log/records/test_speedups.py``.
"""

from __future__ import annotations

from typing import TypeVar

from tidal.log.records import _batch
from tidal.log.records._batch import (
    _CODEC_MASK,
    _CRC_START,
    _TIMESTAMP_TYPE_BIT,
    BATCH_HEADER_SIZE,
    DEFAULT_MAX_DECOMPRESSED,
    LOG_OVERHEAD,
    MAGIC_V2,
    BatchHeader,
    Buffer,
    TimestampType,
)
from tidal.log.records._compression import Compression, decompress
from tidal.log.records._crc import crc32c
from tidal.log.records._errors import CorruptRecordError

__all__ = ["decode_batch_into"]

if _batch.SPEEDUPS:
    from tidal.log.records import _speedups

_R = TypeVar("_R")


def decode_batch_into(
    out: list[_R],
    record_class: type[_R],
    buf: Buffer,
    header: BatchHeader,
    pos: int = 0,
    *,
    topic: str,
    partition: int,
    min_offset: int = 0,
    verify_crc: bool = True,
    untrack: bool = True,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
) -> None:
    """Decode the batch at ``pos`` (whose ``header`` was read already, e.g.
    by :func:`iter_batches`) straight into ``record_class`` instances, appended
    to ``out``: one per record at or past ``min_offset``, built as
    ``record_class(topic, partition, offset, timestamp, timestamp_type, key,
    value, headers)`` with ``headers`` a tuple of ``(key, value)`` pairs.

    This is the consumer's decoder: it skips the intermediate :class:`Record`.
    The compiled version fills the instances' slots directly (the class must
    keep those eight fields in slots and define no ``__new__``) and, with
    ``untrack``, leaves them out of the cycle collector; pass
    ``untrack=False`` when their fields will be replaced by other objects.
    Checks and errors are :func:`decode_batch`'s; on error ``out`` is left as
    it was.

    Example::

        out: list[tuple] = []
        raw = encode_batch([SimpleRecord(b"a"), SimpleRecord(b"b")], base_offset=10)
        decode_batch_into(out, MyRecord, raw, read_batch_header(raw), topic="t",
                          partition=0, min_offset=11)  # one MyRecord, offset 11
    """
    if header.magic != MAGIC_V2:
        raise CorruptRecordError(f"unsupported batch magic {header.magic}")
    size = header.batch_length + LOG_OVERHEAD
    if header.batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD or len(buf) - pos < size:
        raise CorruptRecordError(f"batch length {header.batch_length} does not fit the buffer")
    if verify_crc:
        actual = crc32c(memoryview(buf)[pos + _CRC_START : pos + size])
        if actual != header.crc:
            raise CorruptRecordError(
                f"CRC mismatch: stored {header.crc:#010x}, computed {actual:#010x}"
            )
    codec_id = header.attributes & _CODEC_MASK
    codec = Compression.NONE if codec_id == 0 else Compression.from_id(codec_id)
    if header.records_count < 0:
        raise CorruptRecordError(f"negative record count {header.records_count}")
    view = memoryview(buf)[pos + BATCH_HEADER_SIZE : pos + size]
    data: Buffer = view if codec is Compression.NONE else decompress(codec, view, max_decompressed)
    log_append = header.attributes & _TIMESTAMP_TYPE_BIT
    if _batch._use_speedups:
        _speedups.decode_records_into(
            record_class,
            data,
            header.records_count,
            header.base_offset,
            header.base_timestamp,
            header.max_timestamp if log_append else None,
            min_offset,
            topic,
            partition,
            TimestampType.LOG_APPEND_TIME if log_append else TimestampType.CREATE_TIME,
            untrack,
            out,
        )
        return
    _decode_records_into_py(out, record_class, bytes(data), header, topic, partition, min_offset)


def _decode_records_into_py(
    out: list[_R],
    record_class: type[_R],
    data: bytes,
    header: BatchHeader,
    topic: str,
    partition: int,
    min_offset: int,
) -> None:
    records = _batch._decode_records_py(data, header)
    ts_type = header.timestamp_type
    out.extend(
        record_class(  # type: ignore[call-arg]
            topic,
            partition,
            rec.offset,
            rec.timestamp,
            ts_type,
            rec.key,
            rec.value,
            tuple((h.key, h.value) for h in rec.headers),
        )
        for rec in records
        if rec.offset >= min_offset
    )
