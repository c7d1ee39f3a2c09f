"""Log compaction (tidal.log.storage._cleaner): Kafka LogCleaner semantics."""

from __future__ import annotations

from typing import Any

import pytest

from tidal.log.records import (
    BatchHeader,
    Compression,
    ControlRecordType,
    CorruptRecordError,
    EndTransactionMarker,
    RecordBatch,
    RecordsError,
    SimpleRecord,
    TimestampType,
    compress,
    decode_batch,
    decompress,
    encode_batch,
    encode_batch_from,
    encode_control_batch,
    iter_batches,
    validate_batch,
)
from tidal.log.storage import CleanerStats, _cleaner, compact_segments

Entry = tuple[bytes | None, bytes | None]  # (key, value)
NOW = 1_700_000_000_000
RETENTION = 86_400_000


def batch(base: int, *entries: Entry, **kwargs: Any) -> bytes:
    """One batch of (key, value) records at offsets base, base+1, ..."""
    records = [
        SimpleRecord(v, key=k, timestamp=NOW - 1000 + base + i) for i, (k, v) in enumerate(entries)
    ]
    return encode_batch(records, base_offset=base, **kwargs)


def marker(base: int, kind: ControlRecordType, producer_id: int) -> bytes:
    return encode_control_batch(
        kind,
        producer_id=producer_id,
        producer_epoch=0,
        coordinator_epoch=0,
        timestamp=NOW,
        base_offset=base,
    )


def batches(segments: list[bytes]) -> list[RecordBatch]:
    """Decode every batch, checking validity and strictly increasing offsets."""
    out: list[RecordBatch] = []
    last = -1
    for segment in segments:
        pos = 0
        for header in iter_batches(segment):
            validate_batch(segment, pos, check_records=True)
            assert header.base_offset > last
            last = header.last_offset
            out.append(decode_batch(segment, pos))
            pos += header.size
        assert pos == len(segment)
    return out


def survivors(segments: list[bytes]) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of every data record left."""
    return [
        (r.offset, r.key, r.value)
        for b in batches(segments)
        if not b.header.is_control
        for r in b.records
    ]


def clean(
    segments: list[bytes], upto: int = 10**9, now: int = NOW, retention: int = RETENTION
) -> list[bytes]:
    return compact_segments(
        segments, clean_upto_offset=upto, now_ms=now, delete_retention_ms=retention
    )


def test_keeps_latest_record_per_key_at_its_original_offset() -> None:
    log = [
        batch(0, (b"a", b"1"), (b"b", b"1"), (b"a", b"2")),
        batch(3, (b"c", b"1"), (b"b", b"2")),
    ]
    out = clean(log)
    assert survivors(out) == [(2, b"a", b"2"), (3, b"c", b"1"), (4, b"b", b"2")]
    first = batches(out)[0].header
    assert (first.base_offset, first.last_offset_delta, first.records_count) == (0, 2, 1)


def test_one_output_per_segment_and_emptied_segments_are_empty() -> None:
    log = [
        batch(0, (b"a", b"1")),
        b"",
        batch(1, (b"a", b"2"), (b"b", b"1")),
        batch(3, (b"b", b"2")),
    ]
    out = clean(log)
    assert out[:2] == [b"", b""]
    assert survivors([out[2]]) == [(1, b"a", b"2")]
    assert out[3] == log[3]


def test_batches_with_nothing_removed_are_copied_not_reencoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rebuilt: list[int] = []

    def spy(header: BatchHeader, records: Any, **kwargs: Any) -> bytes:
        rebuilt.append(header.base_offset)
        return encode_batch_from(header, records, **kwargs)

    monkeypatch.setattr(_cleaner, "encode_batch_from", spy)
    untouched = batch(2, (b"b", b"1"), (b"c", b"1"))
    log = [batch(0, (b"a", b"1"), (b"a", b"2")) + untouched, batch(4, (b"d", b"1"))]
    out = clean(log)
    assert rebuilt == [0]
    assert out[0].endswith(untouched)
    assert out[1] == log[1]
    assert len(batches(out)) == 3


def test_region_at_or_past_the_bound_is_byte_identical_and_shadows_nothing() -> None:
    below = batch(0, (b"a", b"1"), (b"a", b"2"), (b"b", b"1"))
    straddling = batch(3, (b"b", b"2"), (b"a", b"3"))  # last offset 4 >= bound 4
    after = batch(5, (b"a", b"4"), (b"a", b"5"))
    out = clean([below, straddling + after], upto=4)
    assert out[1] == straddling + after
    assert survivors([out[0]]) == [(1, b"a", b"2"), (2, b"b", b"1")]


def test_nothing_below_the_bound_returns_the_input() -> None:
    log = [batch(0, (b"a", b"1"), (b"a", b"2")), batch(2, (b"a", b"3"))]
    assert clean(log, upto=0) == log
    assert clean(log, upto=1) == log


def test_cleaning_cleaned_output_changes_nothing() -> None:
    log = [
        batch(0, (b"a", b"1"), (b"b", None), (b"c", b"1")),
        batch(3, (b"a", b"2"), (b"c", None), (None, b"x")),
        batch(6, (b"d", b"1")),
    ]
    once = clean(log)
    assert clean(once) == once
    later = clean(once, now=NOW + RETENTION)
    assert clean(later, now=NOW + RETENTION) == later


def test_records_without_a_key_are_kept() -> None:
    log = [batch(0, (None, b"x"), (b"a", b"1"), (None, None), (b"a", b"2"))]
    assert survivors(clean(log)) == [(0, None, b"x"), (2, None, None), (3, b"a", b"2")]


def test_tombstone_gets_a_delete_horizon_on_the_first_pass() -> None:
    log = [batch(0, (b"a", b"1"), (b"b", b"1")), batch(2, (b"a", None))]
    out = clean(log)
    assert survivors(out) == [(1, b"b", b"1"), (2, b"a", None)]
    first, second = (b.header for b in batches(out))
    assert first.delete_horizon_ms is None
    assert second.delete_horizon_ms == NOW + RETENTION
    assert batches(out)[1].records[0].timestamp == NOW - 1000 + 2  # timestamps survive


def test_tombstone_kept_before_its_horizon_and_dropped_at_it() -> None:
    log = clean([batch(0, (b"a", b"1")), batch(1, (b"a", None), (b"b", b"1"))])
    before = clean(log, now=NOW + RETENTION - 1)
    assert before == log
    after = clean(log, now=NOW + RETENTION)
    assert survivors(after) == [(2, b"b", b"1")]
    # The rebuilt batch keeps its horizon (Kafka does), and the next pass is a no-op.
    assert batches(after)[0].header.delete_horizon_ms == NOW + RETENTION
    assert clean(after, now=NOW + 2 * RETENTION) == after


def test_superseded_tombstone_needs_no_horizon() -> None:
    log = [batch(0, (b"a", None)), batch(1, (b"a", b"2"))]
    out = clean(log)
    assert survivors(out) == [(1, b"a", b"2")]
    assert out[0] == b"" or batches(out)[0].header.delete_horizon_ms is None


def test_existing_horizon_is_kept_when_other_records_are_removed() -> None:
    log = clean([batch(0, (b"a", None), (b"b", b"1"))])
    horizon = batches(log)[0].header.delete_horizon_ms
    assert horizon == NOW + RETENTION
    out = clean([log[0] + batch(2, (b"b", b"2"))], now=NOW + 5)
    assert survivors(out) == [(0, b"a", None), (2, b"b", b"2")]
    assert batches(out)[0].header.delete_horizon_ms == horizon


def test_zero_retention_still_takes_two_passes() -> None:
    once = clean([batch(0, (b"a", None))], retention=0)
    assert survivors(once) == [(0, b"a", None)]
    assert survivors(clean(once, retention=0)) == []


def test_aborted_transaction_is_removed_and_does_not_shadow() -> None:
    txn = {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0, "is_transactional": True}
    log = [
        batch(0, (b"a", b"1"), (b"b", b"1")),
        batch(2, (b"a", b"aborted"), (b"c", b"aborted"), **txn),
        batch(4, (b"d", b"1")),
        marker(5, ControlRecordType.ABORT, 7),
    ]
    out = clean(log)
    assert survivors(out) == [(0, b"a", b"1"), (1, b"b", b"1"), (4, b"d", b"1")]
    [control] = [b for b in batches(out) if b.header.is_control]
    assert EndTransactionMarker.from_batch(control).type is ControlRecordType.ABORT
    assert control.header.base_offset == 5


def test_committed_transaction_is_compacted_like_other_records() -> None:
    txn = {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0, "is_transactional": True}
    log = [
        batch(0, (b"a", b"1"), (b"b", b"1")),
        batch(2, (b"a", b"2"), (b"c", b"1"), **txn),
        marker(4, ControlRecordType.COMMIT, 7),
        batch(5, (b"c", b"2")),
    ]
    out = clean(log)
    assert survivors(out) == [(1, b"b", b"1"), (2, b"a", b"2"), (5, b"c", b"2")]
    txn_batch = batches(out)[1].header
    assert txn_batch.is_transactional
    assert txn_batch.producer_id == 7
    assert txn_batch.last_offset_delta == 1


def test_open_transaction_is_copied_unchanged_and_shadows_nothing() -> None:
    txn = {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0, "is_transactional": True}
    open_batch = batch(1, (b"a", b"open"), (b"a", b"open2"), **txn)
    log = [batch(0, (b"a", b"1")) + open_batch + batch(3, (b"b", b"1"))]
    out = clean(log)
    assert out == log
    # The marker at/after the bound does not close the transaction either.
    log2 = [log[0] + marker(4, ControlRecordType.ABORT, 7)]
    assert clean(log2, upto=4) == log2


def test_markers_of_other_producers_do_not_close_a_transaction() -> None:
    txn = {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0, "is_transactional": True}
    log = [batch(0, (b"a", b"1"), **txn) + marker(1, ControlRecordType.ABORT, 8)]
    assert clean(log) == log


def test_last_batch_of_each_producer_is_kept_empty() -> None:
    p1 = {"producer_id": 1, "producer_epoch": 3}
    log = [
        batch(0, (b"a", b"1"), (b"b", b"1"), base_sequence=0, **p1),
        batch(2, (b"a", b"2"), (b"b", b"2"), base_sequence=2, **p1),
        batch(4, (b"x", b"1")),
        batch(5, (b"a", b"3"), (b"b", b"3"), (b"x", b"2")),
    ]
    out = clean(log)
    headers = [b.header for b in batches(out)]
    # offsets 0-1 dropped, 2-3 kept empty as producer 1's last, 4 dropped (no producer).
    assert [(h.base_offset, h.records_count) for h in headers] == [(2, 0), (5, 3)]
    empty = headers[0]
    assert (empty.last_offset_delta, empty.producer_id, empty.producer_epoch) == (1, 1, 3)
    assert (empty.base_sequence, empty.last_sequence) == (2, 3)
    assert clean(out) == out
    # Once the producer writes again, the old empty batch goes.
    newer = clean([b"".join(out) + batch(8, (b"z", b"1"), base_sequence=4, **p1)])
    assert [b.header.base_offset for b in batches(newer)] == [5, 8]


def test_aborted_last_batch_of_a_producer_is_kept_empty_until_superseded() -> None:
    txn = {"producer_id": 7, "producer_epoch": 0, "is_transactional": True}
    log = [
        batch(0, (b"a", b"x"), base_sequence=0, **txn),
        batch(1, (b"a", b"y"), base_sequence=1, **txn),
        marker(2, ControlRecordType.ABORT, 7),
    ]
    out = clean(log)
    headers = [b.header for b in batches(out)]
    assert [(h.base_offset, h.records_count) for h in headers] == [(1, 0), (2, 1)]
    assert headers[0].is_transactional
    assert clean(out) == out


def test_all_codecs_keep_their_codec() -> None:
    for codec in Compression:
        try:
            usable = decompress(codec, compress(codec, b"probe")) == b"probe"
        except (NotImplementedError, ImportError, RecordsError):
            usable = False
        if not usable:
            continue
        log = [batch(0, (b"a", b"1"), (b"b", b"1"), (b"a", b"2"), compression=codec)]
        out = clean(log)
        assert batches(out)[0].header.compression is codec
        assert survivors(out) == [(1, b"b", b"1"), (2, b"a", b"2")]


def test_log_append_time_batches_keep_their_timestamps() -> None:
    raw = batch(0, (b"a", b"1"), (b"a", b"2"), timestamp_type=TimestampType.LOG_APPEND_TIME)
    out = clean([raw])
    [only] = batches(out)
    assert only.header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert only.records[0].timestamp == decode_batch(raw).records[1].timestamp


def test_stats_count_bytes_records_and_batches() -> None:
    log = [batch(0, (b"a", b"1")), batch(1, (b"a", b"2"), (b"b", b"1"), (b"b", b"2"))]
    stats = CleanerStats()
    out = compact_segments(
        log, clean_upto_offset=100, now_ms=NOW, delete_retention_ms=RETENTION, stats=stats
    )
    assert stats.bytes_read == sum(map(len, log))
    assert stats.bytes_written == sum(map(len, out))
    assert (stats.records_read, stats.records_kept, stats.records_removed) == (4, 2, 2)
    assert (stats.batches_read, stats.batches_rewritten, stats.batches_removed) == (2, 1, 1)
    assert 0 < stats.compaction_ratio < 1


def test_corrupt_input_raises() -> None:
    good = batch(0, (b"a", b"1"), (b"a", b"2"))
    with pytest.raises(CorruptRecordError, match="segment 0"):
        clean([good + good[:30]])
    with pytest.raises(CorruptRecordError, match="segment 0"):
        clean([good[:-1]])
    garbled = bytearray(good)
    garbled[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError, match="CRC"):
        clean([bytes(garbled)])
    with pytest.raises(CorruptRecordError, match="offsets"):
        clean([good, good])
