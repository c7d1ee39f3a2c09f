"""Crash recovery: torn and garbled tails, corruption mid-log, lost indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tidal.log.records import SimpleRecord, encode_batch, iter_batches
from tidal.log.storage import LogConfig, PartitionLog
from tidal.log.storage._faults import SimulatedCrash, abandon, injected

N_BATCHES = 6
# Bytes of the batch header that Kafka keeps outside the CRC: base offset and
# partition leader epoch. Damage there cannot be detected (as in Kafka).
_OUTSIDE_CRC = set(range(8)) | set(range(12, 16))


def batch(i: int, n: int = 2) -> bytes:
    records = [
        SimpleRecord(b"value-%d-%d" % (i, j), key=b"k%d" % j, timestamp=1000 + i) for j in range(n)
    ]
    return encode_batch(records)


def config(**props: object) -> LogConfig:
    base = {"index.interval.bytes": "50", "segment.bytes": "500"}
    base.update({k: str(v) for k, v in props.items()})
    return LogConfig.from_properties(base)


def write_log(directory: Path, count: int = N_BATCHES, **props: object) -> list[bytes]:
    """Append ``count`` batches; returns each batch as stored (offsets set)."""
    log = PartitionLog(directory, config(**props))
    for i in range(count):
        log.append(batch(i))
    stored = []
    for segment in log.segments:
        data = segment.read_bytes(0, segment.size)
        pos = 0
        for header in iter_batches(data):
            stored.append(data[pos : pos + header.size])
            pos += header.size
    abandon(log)  # a crash: indexes were never trimmed or written
    return stored


def read_all(log: PartitionLog) -> bytes:
    out, offset = b"", log.log_start_offset
    while offset < log.log_end_offset:
        chunk = log.read_bytes(offset, 1 << 20)
        if not chunk:
            break
        out += chunk
        offset = list(iter_batches(chunk))[-1].next_offset
    return out


def last_segment(directory: Path) -> Path:
    return sorted(directory.glob("*.log"))[-1]


def check_reopened(directory: Path, stored: list[bytes], *, may_keep: bool) -> None:
    log = PartitionLog(directory, config())
    try:
        data = read_all(log)
        damaged_kept = may_keep and len(data) == len(b"".join(stored))
        intact = stored if damaged_kept else stored[:-1]
        if damaged_kept:
            # Only the uncovered fields differ; the rest is byte-identical.
            assert len(data) == len(b"".join(stored))
            assert data[: -len(stored[-1])] == b"".join(stored[:-1])
        else:
            assert data == b"".join(intact)
            assert log.log_end_offset == 2 * (N_BATCHES - 1)
        info = log.append(batch(99))
        assert info.first_offset == log.log_end_offset - 2
        assert read_all(log).endswith(log.read_bytes(info.first_offset, 1 << 20))
        assert len(list(iter_batches(read_all(log)))) == len(intact) + 1
    finally:
        log.close()


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_every_byte_of_the_last_batch(tmp_path: Path, damage: str) -> None:
    pristine = tmp_path / "pristine"
    stored = write_log(pristine)
    last = stored[-1]
    log_file = last_segment(pristine)
    start = log_file.stat().st_size - len(last)
    for i in range(len(last)):
        work = tmp_path / f"case-{i}"
        shutil.copytree(pristine, work)
        path = work / log_file.name
        if damage == "truncate":
            with path.open("r+b") as f:
                f.truncate(start + i)
        else:
            raw = bytearray(path.read_bytes())
            raw[start + i] ^= 0xFF
            path.write_bytes(bytes(raw))
        check_reopened(work, stored, may_keep=damage == "garble" and i in _OUTSIDE_CRC)
        shutil.rmtree(work)


def test_garbage_tail_is_truncated_and_reported(tmp_path: Path) -> None:
    directory = tmp_path / "t-0"
    stored = write_log(directory)
    path = last_segment(directory)
    size = path.stat().st_size
    with path.open("ab") as f:
        f.write(b"\x00\x01garbage" * 20)
    log = PartitionLog(directory, config())
    assert path.stat().st_size == size
    assert log.recovery_report.truncations[0][:2] == (path, size)
    assert log.recovery_report.corruption is None
    assert read_all(log) == b"".join(stored)
    log.close()


def test_corruption_before_the_tail_deletes_later_segments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "t-0"
    stored = write_log(directory, count=20)
    segments = sorted(directory.glob("*.log"))
    assert len(segments) >= 3
    victim = segments[1]
    raw = bytearray(victim.read_bytes())
    first_size = len(stored[0])
    raw[first_size + 30] ^= 0x55  # inside the second batch of the segment
    victim.write_bytes(bytes(raw))
    log = PartitionLog(directory, config())
    report = log.recovery_report
    assert report.corruption is not None
    assert (report.corruption.path, report.corruption.position) == (victim, first_size)
    assert str(victim) in caplog.text
    assert str(first_size) in caplog.text
    assert report.deleted == segments[2:]
    assert sorted(directory.glob("*.log")) == segments[:2]
    base = int(victim.name[:20])
    assert log.log_end_offset == base + 2
    assert log.read(base, 1 << 20).length == first_size
    log.append(batch(7))
    assert log.log_end_offset == base + 4
    log.close()


def test_recovery_point_limits_the_scan(tmp_path: Path) -> None:
    directory = tmp_path / "t-0"
    write_log(directory, count=20)
    segments = sorted(directory.glob("*.log"))
    last_base = int(segments[-1].name[:20])
    log = PartitionLog(directory, config(), recovery_point=last_base + 1)
    assert log.recovery_report.recovered == [segments[-1]]
    log.close()
    log = PartitionLog(
        directory, config(), recovery_point=log.log_end_offset, had_clean_shutdown=True
    )
    assert log.recovery_report.recovered == []
    log.close()


def test_clean_open_still_cuts_a_torn_tail(tmp_path: Path) -> None:
    directory = tmp_path / "t-0"
    stored = write_log(directory)
    PartitionLog(directory, config()).close()
    path = last_segment(directory)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size - 3)
    log = PartitionLog(directory, config(), recovery_point=10**6, had_clean_shutdown=True)
    assert read_all(log) == b"".join(stored[:-1])
    log.close()


@pytest.mark.parametrize("damage", ["missing", "odd size", "zeros", "past end", "unordered"])
def test_bad_indexes_are_rebuilt_on_clean_open(tmp_path: Path, damage: str) -> None:
    directory = tmp_path / "t-0"
    write_log(directory, count=20)
    log = PartitionLog(directory, config())
    before = [log.read_bytes(o, 200) for o in range(log.log_end_offset)]
    log.close()
    expected = {p.name: p.read_bytes() for p in directory.glob("*index")}
    index = sorted(directory.glob("*.index"))[1]
    assert len(index.read_bytes()) >= 16
    if damage == "missing":
        index.unlink()
        (directory / index.name.replace(".index", ".timeindex")).unlink()
    elif damage == "odd size":
        index.write_bytes(index.read_bytes()[:-3])
    elif damage == "zeros":
        index.write_bytes(index.read_bytes() + b"\x00" * 80)
    elif damage == "past end":
        index.write_bytes(index.read_bytes()[:-4] + b"\x00\x10\x00\x00")
    else:
        raw = index.read_bytes()
        index.write_bytes(raw[8:16] + raw[:8] + raw[16:])
    log = PartitionLog(directory, config(), recovery_point=10**6, had_clean_shutdown=True)
    assert list(log.recovery_report.recovered) == [index.with_suffix(".log")]
    assert [log.read_bytes(o, 200) for o in range(log.log_end_offset)] == before
    log.close()
    assert {p.name: p.read_bytes() for p in directory.glob("*index")} == expected


def test_crash_between_log_write_and_index(tmp_path: Path) -> None:
    directory = tmp_path / "t-0"
    log = PartitionLog(directory, config(**{"index.interval.bytes": "0"}))
    for i in range(5):
        log.append(batch(i))

    def crash() -> None:
        raise SimulatedCrash

    with injected("segment.append.after_log_write", crash), pytest.raises(SimulatedCrash):
        log.append(batch(5))
    abandon(log)
    log = PartitionLog(directory, config(**{"index.interval.bytes": "0"}))
    assert log.log_end_offset == 12  # the batch reached the file whole
    assert [h.base_offset for h in iter_batches(read_all(log))] == [0, 2, 4, 6, 8, 10]
    assert log.read_bytes(11, 10) == log.read_bytes(10, 10)
    log.close()


def test_crash_while_truncating_a_torn_tail(tmp_path: Path) -> None:
    directory = tmp_path / "t-0"
    stored = write_log(directory)
    path = last_segment(directory)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size - 5)

    def crash() -> None:
        raise SimulatedCrash

    with injected("segment.recover.before_truncate", crash), pytest.raises(SimulatedCrash):
        PartitionLog(directory, config())
    log = PartitionLog(directory, config())
    assert read_all(log) == b"".join(stored[:-1])
    log.close()
