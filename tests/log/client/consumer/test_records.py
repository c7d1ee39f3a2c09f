"""Fetch response partitions to records: partial batches, control batches,
offsets below the fetch position, and read_committed filtering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.client.consumer import (
    IsolationLevel,
    RecordDeserializationError,
    TopicPartition,
)
from tidal.log.client.consumer._records import parse_partition_records
from tidal.log.records import (
    Compression,
    ControlRecordType,
    CorruptRecordError,
    Header,
    RecordTooLargeError,
    SimpleRecord,
    TimestampType,
    encode_batch,
    encode_control_batch,
    set_log_append_time,
)

TP = TopicPartition("t", 0)
RC = IsolationLevel.READ_COMMITTED


def batch(base: int, *values: str, pid: int = -1, txn: bool = False, **kw: object) -> bytes:
    records = [SimpleRecord(v.encode(), timestamp=1000 + i) for i, v in enumerate(values)]
    return encode_batch(
        records, base_offset=base, producer_id=pid, producer_epoch=0 if pid >= 0 else -1,
        base_sequence=0 if pid >= 0 else -1, is_transactional=txn, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def marker(offset: int, pid: int, kind: ControlRecordType) -> bytes:
    return encode_control_batch(
        kind,
        producer_id=pid,
        producer_epoch=0,
        coordinator_epoch=0,
        timestamp=5,
        base_offset=offset,
    )


def values(data: bytes, offset: int, **kw: object) -> tuple[list[str], int]:
    got = parse_partition_records(TP, data, offset, **kw)  # type: ignore[arg-type]
    return [r.value.decode() for r in got.records], got.next_offset


def test_records_keys_headers_and_timestamps() -> None:
    raw = encode_batch(
        [
            SimpleRecord(
                b"v", key=b"k", timestamp=77, headers=[Header("h", b"x"), Header("n", None)]
            )
        ],
        base_offset=3,
    )
    [rec] = parse_partition_records(TP, raw, 3).records
    assert (rec.topic, rec.partition, rec.offset, rec.key, rec.value) == ("t", 0, 3, b"k", b"v")
    assert rec.timestamp == 77
    assert rec.timestamp_type is TimestampType.CREATE_TIME
    assert rec.headers == (("h", b"x"), ("n", None))


def test_log_append_time_replaces_the_producer_timestamp() -> None:
    raw = bytearray(batch(0, "a"))
    set_log_append_time(raw, 999)
    [rec] = parse_partition_records(TP, bytes(raw), 0).records
    assert rec.timestamp == 999
    assert rec.timestamp_type is TimestampType.LOG_APPEND_TIME


def test_skips_offsets_below_the_position_in_a_compressed_first_batch() -> None:
    raw = batch(10, "a", "b", "c", compression=Compression.GZIP) + batch(13, "d")
    assert values(raw, 12) == (["c", "d"], 14)


def test_ignores_a_partial_trailing_batch() -> None:
    whole = batch(0, "a", "b")
    raw = whole + batch(2, "c")[:-5]
    assert values(raw, 0) == (["a", "b"], 2)


def test_a_lone_partial_batch_says_the_fetch_size_is_too_small() -> None:
    with pytest.raises(RecordTooLargeError, match="max_partition_fetch_bytes"):
        parse_partition_records(TP, batch(0, "a" * 100)[:-10], 0)


def test_empty_records_keep_the_position() -> None:
    assert values(b"", 5) == ([], 5)


def test_control_batches_are_skipped_but_advance_the_position() -> None:
    raw = batch(0, "a", pid=1, txn=True) + marker(1, 1, ControlRecordType.COMMIT)
    assert values(raw, 0) == (["a"], 2)
    assert values(raw, 0, isolation=RC) == (["a"], 2)


def test_read_uncommitted_returns_aborted_records() -> None:
    raw = batch(0, "x", pid=7, txn=True) + marker(1, 7, ControlRecordType.ABORT)
    assert values(raw, 0, aborted_transactions=[(7, 0)]) == (["x"], 2)


def test_read_committed_drops_aborted_transactions() -> None:
    raw = (
        batch(0, "p1-a", pid=1, txn=True)  # aborted
        + batch(1, "p2-a", pid=2, txn=True)  # committed
        + batch(2, "plain")
        + marker(3, 1, ControlRecordType.ABORT)
        + marker(4, 2, ControlRecordType.COMMIT)
        + batch(5, "p1-b", pid=1, txn=True)  # a later, committed transaction of producer 1
        + marker(6, 1, ControlRecordType.COMMIT)
    )
    got = values(raw, 0, isolation=RC, aborted_transactions=[(1, 0)])
    assert got == (["p2-a", "plain", "p1-b"], 7)


def test_aborted_entry_applies_from_its_first_offset_only() -> None:
    raw = (
        batch(0, "kept", pid=1, txn=True)
        + marker(1, 1, ControlRecordType.COMMIT)
        + batch(2, "dropped", pid=1, txn=True)
        + marker(3, 1, ControlRecordType.ABORT)
    )
    assert values(raw, 0, isolation=RC, aborted_transactions=[(1, 2)]) == (["kept"], 4)


def test_deserializers_and_their_errors() -> None:
    def as_int(b: bytes | None) -> int:
        return int(b or b"0")

    with pytest.raises(RecordDeserializationError) as info:
        parse_partition_records(TP, batch(0, "1", "2", "x"), 0, value_deserializer=as_int)
    assert info.value.offset == 2
    got = parse_partition_records(TP, batch(0, "1", "2"), 0, value_deserializer=as_int)
    assert [r.value for r in got.records] == [1, 2]


def test_corrupt_batches_are_reported() -> None:
    raw = bytearray(batch(0, "a"))
    raw[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError):
        parse_partition_records(TP, bytes(raw), 0)


@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    start=st.integers(0, 30),
    cut=st.integers(1, 60),
)
def test_position_and_records_match_a_plain_walk(sizes: list[int], start: int, cut: int) -> None:
    raw, offset = b"", 0
    for n in sizes:
        raw += batch(offset, *[str(offset + i) for i in range(n)])
        offset += n
    tail = batch(offset, "never")
    data = raw + tail[: max(len(tail) - cut, 0)]  # a partial trailing batch, or none
    first = min(start, offset - 1)
    got = parse_partition_records(TP, data, first)
    assert got.next_offset == offset
    assert [r.offset for r in got.records] == list(range(first, offset))
    assert [r.value for r in got.records] == [str(o).encode() for o in range(first, offset)]
