"""Retention by time and size, DeleteRecords, and compaction's swap."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tidal.log.records import (
    SimpleRecord,
    decode_batch,
    encode_batch,
    encode_batch_from,
    iter_batches,
)
from tidal.log.storage import LogConfig, OffsetOutOfRangeError, PartitionLog
from tidal.log.storage._faults import SimulatedCrash, abandon, injected
from tidal.log.storage._retention import clean_log, cleanable_range


class Clock:
    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def batch(ts: int, key: bytes = b"k", value: bytes | None = b"v" * 50) -> bytes:
    return encode_batch([SimpleRecord(value, key=key, timestamp=ts)])


ONE = len(batch(0, key=b"k0"))


def make(tmp_path: Path, clock: Clock, **props: object) -> PartitionLog:
    base: dict[str, object] = {"segment.bytes": str(ONE * 4), "file.delete.delay.ms": 0}
    base.update(props)
    return PartitionLog(tmp_path / "t-0", LogConfig.from_properties(base), clock=clock)


def fill(log: PartitionLog, count: int, ts: int = 0) -> None:
    for i in range(count):
        log.append(batch(ts + i, key=b"k%d" % (i % 3)))
    log.high_watermark = log.log_end_offset


def test_retention_ms_deletes_old_segments(tmp_path: Path) -> None:
    clock = Clock()
    log = make(tmp_path, clock, **{"retention.ms": 1000})
    fill(log, 8, ts=0)
    fill(log, 4, ts=999_500)
    assert [s.base_offset for s in log.segments] == [0, 4, 8]
    clock.now = 1_000_000
    assert log.delete_old_segments() == 2
    assert [s.base_offset for s in log.segments] == [8]
    assert log.log_start_offset == 8
    assert sorted(p.name for p in log.directory.glob("*.log")) == ["00000000000000000008.log"]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(3, 100)
    assert log.read_bytes(8, 10**6)
    clock.now = 1_000_600  # the active segment is now too old: roll, then delete
    assert log.delete_old_segments() == 1
    assert (log.log_start_offset, log.log_end_offset) == (12, 12)
    assert log.append(batch(5, key=b"k0")).first_offset == 12
    log.close()


def test_retention_waits_for_the_high_watermark(tmp_path: Path) -> None:
    clock = Clock(10**9)
    log = make(tmp_path, clock, **{"retention.ms": 1})
    fill(log, 9)
    log.high_watermark = 3
    assert log.delete_old_segments() == 0
    log.high_watermark = 4
    assert log.delete_old_segments() == 1
    log.close()


def test_retention_bytes_deletes_oldest_whole_segments(tmp_path: Path) -> None:
    one = ONE
    log = make(tmp_path, Clock(), **{"retention.bytes": one * 6, "retention.ms": -1})
    fill(log, 14)
    assert [s.size // one for s in log.segments] == [4, 4, 4, 2]
    assert log.delete_old_segments() == 2  # 14 -> 10 leaves 6 only once two go
    assert [s.base_offset for s in log.segments] == [8, 12]
    assert log.size == one * 6
    assert log.delete_old_segments() == 0
    log.close()


def test_compact_only_topics_keep_old_segments(tmp_path: Path) -> None:
    log = make(tmp_path, Clock(10**12), **{"retention.ms": 1, "cleanup.policy": "compact"})
    fill(log, 9)
    assert log.delete_old_segments() == 0
    log.close()


def test_deleted_files_wait_for_file_delete_delay(tmp_path: Path) -> None:
    clock = Clock(10**9)
    log = make(tmp_path, clock, **{"retention.ms": 1, "file.delete.delay.ms": 500})
    fill(log, 5)
    assert log.delete_old_segments() == 2  # both are old: rolled, then deleted
    deleted = sorted(p.name for p in log.directory.iterdir() if p.name.endswith(".deleted"))
    assert deleted == [
        f"{base:020d}.{ext}.deleted" for base in (0, 4) for ext in ("index", "log", "timeindex")
    ]
    log.delete_expired_files(clock.now + 499)
    assert (log.directory / "00000000000000000000.log.deleted").exists()
    log.delete_expired_files(clock.now + 500)
    assert not list(log.directory.glob("*.deleted"))
    log.close()


def test_delete_records_moves_log_start_offset(tmp_path: Path) -> None:
    log = make(tmp_path, Clock())
    fill(log, 10)
    log.high_watermark = 9
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records(10)
    assert log.delete_records(6) == 6
    assert [s.base_offset for s in log.segments] == [4, 8]  # [0,4) is wholly below
    with pytest.raises(OffsetOutOfRangeError):
        log.read(5, 100)
    assert [h.base_offset for h in iter_batches(log.read_bytes(6, 10**6))] == [6, 7]
    assert log.delete_records(2) == 6  # never moves back
    log.close()
    reopened = PartitionLog(log.directory, log.config, log_start_offset=6)
    assert reopened.log_start_offset == 6
    reopened.close()


def keep_everything(segments: Sequence[bytes | memoryview], **_: object) -> list[bytes]:
    return [bytes(s) for s in segments]


def latest_per_key(segments: Sequence[bytes | memoryview], **kw: object) -> list[bytes]:
    """A tiny model cleaner: drop records whose key appears later."""
    upto = kw["clean_upto_offset"]
    assert isinstance(upto, int)
    latest: dict[bytes | None, int] = {}
    for data in segments:
        pos = 0
        for header in iter_batches(data):
            for r in decode_batch(data, pos).records:
                latest[r.key] = r.offset
            pos += header.size
    out = []
    for data in segments:
        pos, cleaned = 0, b""
        for header in iter_batches(data):
            kept = [r for r in decode_batch(data, pos).records if latest[r.key] == r.offset]
            if kept:
                cleaned += encode_batch_from(header, kept)
            pos += header.size
        out.append(cleaned)
    return out


def values(log: PartitionLog) -> list[tuple[int, bytes | None]]:
    out, offset = [], log.log_start_offset
    while offset < log.log_end_offset:
        data = log.read_bytes(offset, 10**6)
        if not data:
            break
        pos = 0
        for header in iter_batches(data):
            out += [(r.offset, r.key) for r in decode_batch(data, pos).records]
            pos += header.size
            offset = header.next_offset
    return out


def test_dirty_ratio_and_bounds(tmp_path: Path) -> None:
    clock = Clock()
    log = make(tmp_path, clock, **{"cleanup.policy": "compact", "min.cleanable.dirty.ratio": 0.5})
    fill(log, 10)
    found = cleanable_range(log, clock.now, 0)
    assert found is not None
    assert ([s.base_offset for s in found[0]], found[1]) == ([0, 4], 8)
    assert cleanable_range(log, clock.now, 8) is None  # nothing dirty
    assert cleanable_range(log, clock.now, 5) is None  # 3/8 dirty < 0.5
    assert cleanable_range(log, clock.now, 4) is not None  # 4/8
    log.high_watermark = 5
    found = cleanable_range(log, clock.now, 0)
    assert found is not None
    assert found[1] == 4
    log.high_watermark = 10
    lagged = make(tmp_path / "b", clock, **{"min.compaction.lag.ms": 1000})
    fill(lagged, 4, ts=0)
    fill(lagged, 6, ts=clock.now - 10)
    found = cleanable_range(lagged, clock.now, 0)
    assert found is not None
    assert found[1] == 4
    log.close()
    lagged.close()


def test_clean_log_swaps_compacted_segments(tmp_path: Path) -> None:
    clock = Clock()
    log = make(tmp_path, clock, **{"cleanup.policy": "compact"})
    fill(log, 14)
    before = values(log)
    assert clean_log(log, clock.now, 0, keep_everything) == 12
    assert values(log) == before
    assert clean_log(log, clock.now, 12, keep_everything) is None
    assert clean_log(log, clock.now, 0, latest_per_key) == 12
    # k0..k2 rotate; below 12 only the last of each key in [0, 12) survives
    # among all of the log: offsets 12, 13 shadow k0, k1 (not cleaned, but
    # the model cleaner sees only segments below 12).
    assert values(log) == [(9, b"k0"), (10, b"k1"), (11, b"k2"), (12, b"k0"), (13, b"k1")]
    assert not list(log.directory.glob("*.cleaned")) + list(log.directory.glob("*.swap"))
    assert log.append(batch(1, key=b"k0")).first_offset == 14
    log.close()
    again = PartitionLog(log.directory, log.config)
    assert values(again)[:3] == [(9, b"k0"), (10, b"k1"), (11, b"k2")]
    again.close()


def _crash() -> None:
    raise SimulatedCrash


@pytest.mark.parametrize(
    ("point", "compacted"),
    [
        ("clean.after_cleaned_written", False),
        ("clean.after_swap_renamed", True),
        ("clean.after_old_deleted", True),
    ],
)
def test_crash_during_swap_recovers(tmp_path: Path, point: str, compacted: bool) -> None:
    clock = Clock()
    log = make(tmp_path, clock, **{"cleanup.policy": "compact"})
    fill(log, 14)
    before = values(log)
    with injected(point, _crash), pytest.raises(SimulatedCrash):
        clean_log(log, clock.now, 0, latest_per_key)
    abandon(log)
    again = PartitionLog(log.directory, log.config)
    got = values(again)
    if compacted:
        assert got[:3] == [(9, b"k0"), (10, b"k1"), (11, b"k2")]
        assert again.recovery_report.completed_swaps
    else:
        assert got == before
    assert got[-2:] == before[-2:]
    assert again.log_end_offset == 14
    names = [p.name for p in again.directory.iterdir()]
    assert not [n for n in names if n.endswith((".cleaned", ".swap", ".deleted"))]
    again.close()
