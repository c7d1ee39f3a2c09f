import struct

import pytest

from tidal.log.records import (
    BATCH_HEADER_SIZE,
    Compression,
    CorruptRecordError,
    Header,
    InvalidRecordError,
    Record,
    RecordTooLargeError,
    SimpleRecord,
    TimestampType,
    UnsupportedCompressionError,
    crc32c,
    decode_batch,
    encode_batch,
    encode_batch_from,
    iter_batches,
    read_batch_header,
    set_base_offset,
    set_log_append_time,
    set_partition_leader_epoch,
    validate_batch,
)

RECORDS = [
    SimpleRecord(b"v0", key=b"k0", timestamp=1_700_000_000_000),
    SimpleRecord(None, key=b"k1", timestamp=1_700_000_000_005, headers=[Header("h", b"x")]),
    SimpleRecord(b"", key=None, timestamp=1_699_999_999_990, headers=[Header("n", None)]),
]


def _set_int(buf: bytearray, fmt: str, pos: int, value: int) -> None:
    struct.pack_into(fmt, buf, pos, value)


def _refresh_crc(buf: bytearray) -> None:
    struct.pack_into(">I", buf, 17, crc32c(memoryview(buf)[21:]))


def test_crc32c_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


def test_header_fields_match_the_batch() -> None:
    raw = encode_batch(
        RECORDS,
        base_offset=42,
        producer_id=7,
        producer_epoch=3,
        base_sequence=11,
        is_transactional=True,
        partition_leader_epoch=5,
    )
    header = read_batch_header(raw)
    assert header.base_offset == 42
    assert header.last_offset == 44
    assert header.next_offset == 45
    assert header.records_count == 3
    assert header.size == len(raw)
    assert header.base_timestamp == RECORDS[0].timestamp
    assert header.max_timestamp == RECORDS[1].timestamp
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (7, 3, 11)
    assert header.last_sequence == 13
    assert header.is_transactional
    assert not header.is_control
    assert header.partition_leader_epoch == 5
    assert header.compression is Compression.NONE
    assert header.timestamp_type is TimestampType.CREATE_TIME


def test_decode_returns_absolute_offsets_and_timestamps() -> None:
    batch = decode_batch(encode_batch(RECORDS, base_offset=100))
    assert batch.records == [
        Record(100, RECORDS[0].timestamp, b"k0", b"v0", ()),
        Record(101, RECORDS[1].timestamp, b"k1", None, (Header("h", b"x"),)),
        Record(102, RECORDS[2].timestamp, None, b"", (Header("n", None),)),
    ]


def test_rewriting_base_offset_and_epoch_keeps_the_crc_valid() -> None:
    raw = bytearray(encode_batch(RECORDS))
    set_base_offset(raw, 1234)
    set_partition_leader_epoch(raw, 9)
    header = validate_batch(raw)
    assert header.base_offset == 1234
    assert header.partition_leader_epoch == 9
    assert [r.offset for r in decode_batch(raw).records] == [1234, 1235, 1236]


def test_log_append_time_rewrites_timestamps_and_crc() -> None:
    raw = bytearray(encode_batch(RECORDS))
    set_log_append_time(raw, 5)
    header = validate_batch(raw)
    assert header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert {r.timestamp for r in decode_batch(raw).records} == {5}


def test_iter_batches_walks_concatenated_batches_and_stops_at_a_partial_one() -> None:
    a = encode_batch(RECORDS[:1], base_offset=0)
    b = encode_batch(RECORDS[1:], base_offset=1)
    buf = a + b + b[:30]
    assert [h.base_offset for h in iter_batches(buf)] == [0, 1]
    assert [h.base_offset for h in iter_batches(a + b[:-1])] == [0]


def test_bad_crc_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    raw[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        validate_batch(raw)
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        decode_batch(raw)


def test_wrong_magic_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    raw[16] = 1
    with pytest.raises(CorruptRecordError, match="magic 1"):
        validate_batch(raw)


def test_length_past_the_buffer_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">i", 8, len(raw))
    with pytest.raises(CorruptRecordError, match="remain"):
        validate_batch(raw)


def test_length_below_the_header_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">i", 8, 10)
    with pytest.raises(CorruptRecordError, match="below the header"):
        validate_batch(raw)


def test_record_count_that_disagrees_with_the_records_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">i", 57, 2)
    _set_int(raw, ">i", 23, 1)
    _refresh_crc(raw)
    with pytest.raises(CorruptRecordError, match="after the declared 2 records"):
        validate_batch(raw)
    _set_int(raw, ">i", 57, 4)
    _set_int(raw, ">i", 23, 3)
    _refresh_crc(raw)
    with pytest.raises(CorruptRecordError):
        validate_batch(raw)


def test_count_above_last_offset_delta_is_refused() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">i", 23, 0)
    _refresh_crc(raw)
    with pytest.raises(CorruptRecordError, match="exceeds last offset delta"):
        validate_batch(raw)


def test_producer_batches_must_have_contiguous_offsets() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">i", 23, 5)
    _refresh_crc(raw)
    validate_batch(raw)  # legal after compaction
    with pytest.raises(InvalidRecordError, match="does not match record count"):
        validate_batch(raw, from_producer=True)


def test_oversized_batch_is_refused() -> None:
    raw = encode_batch(RECORDS)
    with pytest.raises(RecordTooLargeError, match="exceeds the maximum"):
        validate_batch(raw, max_size=len(raw) - 1)
    validate_batch(raw, max_size=len(raw))


def test_unknown_codec_is_a_typed_error() -> None:
    raw = bytearray(encode_batch(RECORDS))
    _set_int(raw, ">h", 21, 6)
    _refresh_crc(raw)
    with pytest.raises(UnsupportedCompressionError, match="codec id 6"):
        validate_batch(raw)
    with pytest.raises(UnsupportedCompressionError):
        read_batch_header(raw).compression  # noqa: B018


def test_short_buffer_is_a_decode_error() -> None:
    with pytest.raises(CorruptRecordError, match=f"needs {BATCH_HEADER_SIZE} bytes"):
        read_batch_header(b"\x00" * 10)


def test_encode_batch_from_keeps_offsets_producer_state_and_horizon() -> None:
    raw = encode_batch(RECORDS, base_offset=10, producer_id=4, producer_epoch=1, base_sequence=0)
    batch = decode_batch(raw)
    kept = [batch.records[2]]
    rebuilt = encode_batch_from(batch.header, kept, delete_horizon_ms=99)
    header = validate_batch(rebuilt)
    assert header.base_offset == 10
    assert header.last_offset == 12
    assert header.records_count == 1
    assert header.delete_horizon_ms == 99
    assert (header.producer_id, header.base_sequence) == (4, 0)
    assert decode_batch(rebuilt).records == kept
    empty = encode_batch_from(batch.header, [])
    assert validate_batch(empty).records_count == 0
    assert decode_batch(empty).records == []
