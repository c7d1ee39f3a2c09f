"""PartitionLog: appends, reads, rolls, offsets by timestamp, flushing."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from tidal.log.records import (
    Compression,
    SimpleRecord,
    decode_batch,
    encode_batch,
    iter_batches,
    read_batch_header,
)
from tidal.log.storage import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_TIMESTAMP,
    LogConfig,
    OffsetOutOfRangeError,
    OffsetsOutOfOrderError,
    PartitionLog,
)


class Clock:
    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def batch(n: int = 1, ts: int = 1_700_000_000_000, size: int = 10, **kw: object) -> bytes:
    records = [SimpleRecord(b"v" * size, key=b"k%d" % i, timestamp=ts + i) for i in range(n)]
    return encode_batch(records, **kw)  # type: ignore[arg-type]


def offsets(data: bytes) -> list[tuple[int, int]]:
    return [(h.base_offset, h.last_offset) for h in iter_batches(data)]


def make(tmp_path: Path, clock: Callable[[], int] | None = None, **props: object) -> PartitionLog:
    config = LogConfig.from_properties(props)
    return PartitionLog(tmp_path / "topic-0", config, clock=clock or Clock())


def test_append_assigns_offsets_in_place(tmp_path: Path) -> None:
    log = make(tmp_path)
    first = log.append(batch(3, base_offset=999))
    second = log.append(batch(2) + batch(4))
    assert (first.first_offset, first.last_offset) == (0, 2)
    assert (second.first_offset, second.last_offset, second.records_count) == (3, 8, 6)
    assert log.log_end_offset == 9
    data = log.read_bytes(0, 1 << 20)
    assert offsets(data) == [(0, 2), (3, 4), (5, 8)]
    records = [r.offset for b in (0, 1, 2) for r in decode_batch(data, _pos(data, b)).records]
    assert records == list(range(9))
    assert (tmp_path / "topic-0" / "00000000000000000000.log").stat().st_size == len(data)
    log.close()


def _pos(data: bytes, index: int) -> int:
    pos = 0
    for _ in range(index):
        pos += read_batch_header(data, pos).size
    return pos


def test_leader_epoch_and_log_append_time(tmp_path: Path) -> None:
    clock = Clock(5_000)
    log = make(tmp_path, clock, **{"message.timestamp.type": "LogAppendTime"})
    info = log.append(batch(2, ts=10), leader_epoch=3)
    assert info.log_append_time == 5_000
    header = read_batch_header(log.read_bytes(0, 1000))
    assert header.partition_leader_epoch == 3
    assert header.max_timestamp == 5_000
    assert [r.timestamp for r in decode_batch(log.read_bytes(0, 1000)).records] == [5000, 5000]
    clock.now = 6_000
    log.append(batch(1), leader_epoch=5)
    assert log.leader_epoch_cache.entries() == [(3, 0), (5, 2)]
    assert (tmp_path / "topic-0" / "leader-epoch-checkpoint").read_text() == "0\n2\n3 0\n5 2\n"
    log.close()


def test_read_returns_whole_batches_at_least_one(tmp_path: Path) -> None:
    log = make(tmp_path, **{"index.interval.bytes": "100"})
    for _ in range(20):
        log.append(batch(2, size=50))
    size = read_batch_header(batch(2, size=50)).size
    assert offsets(log.read_bytes(0, 1)) == [(0, 1)]  # larger than max: still one
    assert offsets(log.read_bytes(0, size * 3 - 1)) == [(0, 1), (2, 3)]
    assert offsets(log.read_bytes(0, size * 3)) == [(0, 1), (2, 3), (4, 5)]
    assert offsets(log.read_bytes(5, size * 2)) == [(4, 5), (6, 7)]  # starts at the batch
    rng = log.read(3, 1 << 20, max_offset=10)
    assert offsets(rng.read_bytes()) == [(2, 3), (4, 5), (6, 7), (8, 9)]
    assert rng.first_offset == 2
    assert log.read(0, 100, min_one_batch=False).length == 0
    assert log.read(40, 100).length == 0  # at the log end offset
    assert log.read(4, 1000, max_offset=4).length == 0
    with pytest.raises(OffsetOutOfRangeError):
        log.read(41, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)
    log.close()


def test_read_walks_from_a_mid_segment_index_entry(tmp_path: Path) -> None:
    log = make(tmp_path, **{"index.interval.bytes": "0"})
    for i in range(200):
        log.append(batch(1, size=i % 7))
    expected = log.read_bytes(0, 1 << 20)
    for start in (0, 17, 100, 199):
        for max_bytes in (1, 500, 1234, 5000):
            got = log.read_bytes(start, max_bytes)
            assert got
            assert expected.find(got) >= 0
            assert got == expected[_offset_pos(expected, start) :][: len(got)]
            assert len(got) <= max(max_bytes, read_batch_header(got).size)
            # Nothing more fits: the next batch would cross max_bytes.
            nxt = _offset_pos(expected, start) + len(got)
            if nxt < len(expected) and len(got) <= max_bytes:
                assert len(got) + read_batch_header(expected, nxt).size > max_bytes
    log.close()


def _offset_pos(data: bytes, offset: int) -> int:
    pos = 0
    for h in iter_batches(data):
        if h.last_offset >= offset:
            return pos
        pos += h.size
    raise AssertionError(offset)


def test_read_bytes_spans_one_segment_and_continues(tmp_path: Path) -> None:
    log = make(tmp_path, **{"segment.bytes": "300"})
    for _ in range(10):
        log.append(batch(1, size=40))
    assert len(log.segments) > 2
    seen, offset = [], 0
    while offset < log.log_end_offset:
        got = offsets(log.read_bytes(offset, 1 << 20))
        seen += got
        offset = got[-1][1] + 1
    assert seen == [(i, i) for i in range(10)]
    log.close()


def test_sendfile_from_a_file_range(tmp_path: Path) -> None:
    log = make(tmp_path)
    log.append(batch(3))
    rng = log.read(0, 1 << 20)
    left, right = socket.socketpair()
    with left, right, rng.lease() as fd:
        sent = os.sendfile(left.fileno(), fd, rng.position, rng.length)
        assert right.recv(1 << 16) == rng.read_bytes()
    assert sent == rng.length
    log.close()


def test_roll_on_segment_bytes(tmp_path: Path) -> None:
    one = len(batch(1, size=100))
    log = make(tmp_path, **{"segment.bytes": str(one * 3)})
    for _ in range(7):
        log.append(batch(1, size=100))
    assert [s.base_offset for s in log.segments] == [0, 3, 6]
    assert [s.size for s in log.segments] == [one * 3, one * 3, one]
    names = sorted(p.name for p in (tmp_path / "topic-0").glob("*.log"))
    assert names == ["00000000000000000000.log", "00000000000000000003.log",
                     "00000000000000000006.log"]  # fmt: skip
    log.close()


def test_roll_on_segment_ms_uses_record_time_then_clock(tmp_path: Path) -> None:
    clock = Clock(1_000_000)
    log = make(tmp_path, clock, **{"segment.ms": "1000"})
    log.append(batch(1, ts=1_000_000))
    log.append(batch(1, ts=1_000_900))
    assert len(log.segments) == 1
    log.append(batch(1, ts=1_001_001))  # 1001 ms after the first batch
    assert [s.base_offset for s in log.segments] == [0, 2]
    # Without timestamps the segment's age by the injected clock counts.
    log.append(batch(1, ts=-1))
    log2 = make(tmp_path / "b", clock, **{"segment.ms": "1000"})
    log2.append(batch(1, ts=-1))
    clock.now += 999
    log2.append(batch(1, ts=-1))
    assert len(log2.segments) == 1
    clock.now += 2
    log2.append(batch(1, ts=-1))
    assert len(log2.segments) == 2
    log.close()
    log2.close()


def test_roll_when_index_is_full(tmp_path: Path) -> None:
    log = make(tmp_path, **{"segment.index.bytes": "24", "index.interval.bytes": "1"})
    for _ in range(12):
        log.append(batch(1))
    # 3 offset entries (or 2 time entries + the roll slot) per segment.
    assert len(log.segments) > 3
    assert all(len(s.offset_index) <= 3 for s in log.segments)
    assert offsets(log.read_bytes(11, 1000)) == [(11, 11)]
    log.close()


def test_roll_on_relative_offset_overflow(tmp_path: Path) -> None:
    log = make(tmp_path)
    log.append_raw(batch(1, base_offset=0))
    log.append_raw(batch(1, base_offset=2**31 + 5))
    assert [s.base_offset for s in log.segments] == [0, 2**31 + 5]
    assert offsets(log.read_bytes(1, 1000)) == [(2**31 + 5, 2**31 + 5)]
    log.close()


def test_index_files_preallocated_while_active_trimmed_after(tmp_path: Path) -> None:
    log = make(tmp_path, **{"segment.index.bytes": "1000", "index.interval.bytes": "100"})
    for _ in range(10):
        log.append(batch(1, size=60))
    directory = tmp_path / "topic-0"
    index = directory / "00000000000000000000.index"
    assert index.stat().st_size == 1000 // 8 * 8
    assert (directory / "00000000000000000000.timeindex").stat().st_size == 1000 // 12 * 12
    log.roll()
    entries = len(log.segments[0].offset_index)
    assert entries > 0
    assert index.stat().st_size == entries * 8
    assert (directory / "00000000000000000010.index").stat().st_size == 1000 // 8 * 8
    log.close()
    assert (directory / "00000000000000000010.index").stat().st_size == 0


def test_index_entry_every_interval_bytes(tmp_path: Path) -> None:
    log = make(tmp_path, **{"index.interval.bytes": "250"})
    size = len(batch(1, size=60))
    for i in range(20):
        log.append(batch(1, ts=1000 + i, size=60))
    log.close()
    raw = (tmp_path / "topic-0" / "00000000000000000000.index").read_bytes()
    got = list(struct.iter_unpack(">ii", raw))
    expected, since = [], 0
    for i in range(20):  # Kafka: entry when more than the interval was written
        if since > 250:
            expected.append((i, i * size))
            since = 0
        since += size
    assert got == expected
    times = list(
        struct.iter_unpack(
            ">qi", (tmp_path / "topic-0" / "00000000000000000000.timeindex").read_bytes()
        )
    )
    # One entry with each offset entry, plus the largest timestamp on close.
    assert times == [(1000 + o, o) for o, _ in expected] + [(1019, 19)]


def test_offset_for_timestamp(tmp_path: Path) -> None:
    log = make(tmp_path, **{"segment.bytes": "400", "index.interval.bytes": "50"})
    for i in range(30):
        log.append(batch(3, ts=10_000 + i * 100))  # records at +0, +1, +2
    assert len(log.segments) > 3
    assert log.offset_for_timestamp(0).offset == 0  # type: ignore[union-attr]
    found = log.offset_for_timestamp(10_000 + 1501)
    assert found is not None
    assert (found.timestamp, found.offset) == (11_501, 46)
    found = log.offset_for_timestamp(10_000 + 1503)
    assert found is not None
    assert (found.timestamp, found.offset) == (11_600, 48)
    assert log.offset_for_timestamp(20_000) is None
    assert log.offset_for_timestamp(EARLIEST_TIMESTAMP).offset == 0  # type: ignore[union-attr]
    assert log.offset_for_timestamp(LATEST_TIMESTAMP).offset == 90  # type: ignore[union-attr]
    top = log.offset_for_timestamp(MAX_TIMESTAMP)
    assert top is not None
    assert (top.timestamp, top.offset) == (12_902, 89)
    log.close()


def test_offset_for_timestamp_inside_a_compressed_batch(tmp_path: Path) -> None:
    log = make(tmp_path)
    log.append(batch(10, ts=500, compression=Compression.GZIP))
    found = log.offset_for_timestamp(507)
    assert found is not None
    assert (found.timestamp, found.offset) == (507, 7)
    log.close()


def test_append_raw_keeps_offsets_and_refuses_going_back(tmp_path: Path) -> None:
    log = make(tmp_path)
    log.append_raw(batch(2, base_offset=10, partition_leader_epoch=4))
    assert log.log_end_offset == 12
    assert log.leader_epoch_cache.entries() == [(4, 10)]
    before = log.size
    with pytest.raises(OffsetsOutOfOrderError):
        log.append_raw(batch(1, base_offset=11))
    with pytest.raises(OffsetsOutOfOrderError):
        log.append_raw(batch(1, base_offset=20) + batch(1, base_offset=20))
    assert (log.size, log.log_end_offset) == (before, 12)
    log.append_raw(batch(1, base_offset=15))
    assert offsets(log.read_bytes(12, 1000)) == [(15, 15)]
    log.close()


def test_flush_messages_moves_recovery_point(tmp_path: Path) -> None:
    log = make(tmp_path, **{"flush.messages": "5"})
    log.append(batch(3))
    assert log.recovery_point == 0
    log.append(batch(3))
    assert log.recovery_point == 6
    log.append(batch(1))
    log.flush()
    assert log.recovery_point == 7
    log.close()


def test_flush_ms_and_rolled_segments_via_maybe_flush(tmp_path: Path) -> None:
    clock = Clock(0)
    log = make(tmp_path, clock, **{"flush.ms": "1000", "segment.bytes": "200"})
    log.append(batch(1, size=100))
    log.append(batch(1, size=100))  # rolls
    log.maybe_flush(clock.now)
    assert log.recovery_point == 1  # the rolled segment
    clock.now = 1000
    log.maybe_flush(clock.now)
    assert log.recovery_point == 2
    log.close()


def test_truncate_to(tmp_path: Path) -> None:
    log = make(tmp_path, **{"segment.bytes": "300"})
    for _ in range(10):
        log.append(batch(2, size=40))
    log.high_watermark = 20
    log.truncate_to(9)  # the batch holding 9 starts at 8
    assert log.log_end_offset == 8
    assert log.high_watermark == 8
    assert offsets(log.read_bytes(6, 1000))[-1] == (6, 7)
    info = log.append(batch(1))
    assert info.first_offset == 8
    log.truncate_to(0)
    assert (log.log_start_offset, log.log_end_offset, len(log.segments)) == (0, 0, 1)
    log.close()


def test_high_watermark_is_clamped(tmp_path: Path) -> None:
    log = make(tmp_path)
    log.append(batch(5))
    assert log.high_watermark == 0
    log.high_watermark = 100
    assert log.high_watermark == 5
    log.close()
