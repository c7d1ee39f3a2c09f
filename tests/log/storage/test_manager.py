"""LogManager: loading, restart, names, deletion, handle bound, scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tidal.log.records import SimpleRecord, encode_batch, iter_batches
from tidal.log.storage import (
    CLEAN_SHUTDOWN_FILE,
    DataDirInUseError,
    InvalidTopicError,
    LogClosedError,
    LogConfig,
    LogManager,
    LogManagerConfig,
)
from tidal.log.storage._checkpoint import read_offset_checkpoint
from tidal.log.storage._faults import abandon


def batch(i: int = 0, ts: int = 1000) -> bytes:
    return encode_batch([SimpleRecord(b"value-%d" % i, key=b"k%d" % (i % 4), timestamp=ts)])


SMALL = LogConfig.from_properties({"segment.bytes": "300", "file.delete.delay.ms": "0"})


def keep_everything(segments: Sequence[bytes | memoryview], **_: object) -> list[bytes]:
    return [bytes(s) for s in segments]


def manager(path: Path, **props: object) -> LogManager:
    return LogManager(
        path, SMALL, LogManagerConfig.from_properties(props), start_scheduler=False,
        compactor=keep_everything,
    )  # fmt: skip


def test_create_append_restart(tmp_path: Path) -> None:
    with manager(tmp_path) as logs:
        log = logs.get_or_create_log("orders", 0)
        assert logs.get_or_create_log("orders", 0) is log
        for i in range(10):
            log.append(batch(i))
        log.high_watermark = log.log_end_offset
        log.delete_records(2)
        logs.get_or_create_log("orders", 1).append(batch())
        assert (tmp_path / "orders-0" / "00000000000000000000.log").exists()
    assert (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    assert read_offset_checkpoint(tmp_path / "recovery-point-offset-checkpoint") == {
        ("orders", 0): 10,
        ("orders", 1): 1,
    }
    logs = manager(tmp_path)
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    assert sorted(logs.logs()) == [("orders", 0), ("orders", 1)]
    log = logs.get_log("orders", 0)
    assert log is not None
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (2, 10, 10)
    assert log.recovery_report.recovered == []  # clean shutdown: no scan
    assert next(h.base_offset for h in iter_batches(log.read_bytes(2, 100))) == 2
    logs.shutdown()


def test_unclean_restart_recovers(tmp_path: Path) -> None:
    logs = manager(tmp_path)
    log = logs.get_or_create_log("t", 0)
    for i in range(10):
        log.append(batch(i))
    logs.checkpoint()
    abandon(logs)  # kill -9: every log dropped, the directory's lock released
    with (tmp_path / "t-0" / sorted(p.name for p in (tmp_path / "t-0").glob("*.log"))[-1]).open(
        "ab"
    ) as f:
        f.write(b"torn")
    again = manager(tmp_path)
    log2 = again.get_log("t", 0)
    assert log2 is not None
    assert log2.log_end_offset == 10
    assert log2.recovery_report.recovered
    assert log2.recovery_report.truncations
    again.shutdown()


def test_second_manager_on_a_directory_is_refused(tmp_path: Path) -> None:
    first = manager(tmp_path)
    first.get_or_create_log("t", 0).append(batch())
    with pytest.raises(DataDirInUseError) as refused:
        manager(tmp_path)
    assert str(refused.value) == f"another process is using this directory: {tmp_path}"
    # The refused manager neither wrote a clean-shutdown marker nor disturbed the first.
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    first.get_or_create_log("t", 0).append(batch(1))
    first.shutdown()
    again = manager(tmp_path)  # the lock went with the shutdown
    log = again.get_log("t", 0)
    assert log is not None
    assert log.log_end_offset == 2
    with pytest.raises(DataDirInUseError):
        manager(tmp_path)
    again.shutdown()


def test_lock_is_released_by_a_crash_and_by_a_failed_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = manager(tmp_path)
    logs.get_or_create_log("t", 0).append(batch())
    abandon(logs)  # kill -9: the kernel drops the lock with the process
    manager(tmp_path).shutdown()

    def fail(self: LogManager) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(LogManager, "_load_logs", fail)
    with pytest.raises(OSError, match="disk gone"):
        manager(tmp_path)
    monkeypatch.undo()
    manager(tmp_path).shutdown()


def test_first_start_says_new_log_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidal.log.storage")
    first = manager(tmp_path / "data")
    first.get_or_create_log("t", 0)
    first.shutdown()
    manager(tmp_path / "data").shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "tidal.log.storage._manager"]
    assert lines[0] == f"new log directory {tmp_path / 'data'}"
    assert "clean shutdown: False" not in "\n".join(lines)
    assert lines[1] == f"loaded 1 logs from {tmp_path / 'data'} (clean shutdown: True)"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "x" * 250, "sp ace", "ü"])
def test_invalid_topic_names(tmp_path: Path, name: str) -> None:
    with manager(tmp_path) as logs, pytest.raises(InvalidTopicError):
        logs.get_or_create_log(name, 0)


def test_valid_names_and_bad_partition(tmp_path: Path) -> None:
    with manager(tmp_path) as logs:
        logs.get_or_create_log("a.b_c-D9", 3)
        logs.get_or_create_log("x" * 249, 0)
        with pytest.raises(InvalidTopicError):
            logs.get_or_create_log("ok", -1)


def test_delete_log_renames_then_removes(tmp_path: Path) -> None:
    with manager(tmp_path) as logs:
        log = logs.get_or_create_log("gone", 0)
        log.append(batch())
        assert logs.delete_log("gone", 0)
        assert not logs.delete_log("gone", 0)
        assert logs.get_log("gone", 0) is None
        assert not list(tmp_path.glob("gone-0*"))
        with pytest.raises(LogClosedError):
            log.append(batch())
        # A deletion cut short by a crash is finished at the next start.
        (tmp_path / "other-0.abc-delete").mkdir()
    manager(tmp_path).shutdown()
    assert not (tmp_path / "other-0.abc-delete").exists()


def test_open_file_handles_are_bounded(tmp_path: Path) -> None:
    with manager(tmp_path, **{"log.max.open.files": "5"}) as logs:
        for p in range(6):
            log = logs.get_or_create_log("many", p)
            for i in range(8):
                log.append(batch(i))
            assert len(log.segments) > 2
            assert logs.handles.open_count <= 5
        for (_, p), log in sorted(logs.logs().items()):
            offset = 0
            while offset < log.log_end_offset:
                data = log.read_bytes(offset, 1 << 20)
                offset = list(iter_batches(data))[-1].next_offset
                assert logs.handles.open_count <= 5
            log.append(batch(p))
        assert logs.handles.open_count <= 5


def test_retention_and_cleaner_via_manager(tmp_path: Path) -> None:
    clock_now = [10**9]
    config = LogConfig.from_properties(
        {"retention.ms": "1000", "cleanup.policy": "compact,delete"}, defaults=SMALL
    )
    logs = LogManager(
        tmp_path, config, LogManagerConfig(), clock=lambda: clock_now[0],
        compactor=keep_everything, start_scheduler=False,
    )  # fmt: skip
    log = logs.get_or_create_log("c", 0)
    for i in range(10):
        log.append(batch(i, ts=clock_now[0]))
    log.high_watermark = log.log_end_offset
    assert logs.run_cleaner() == 1
    offsets = read_offset_checkpoint(tmp_path / "cleaner-offset-checkpoint")
    assert offsets == {("c", 0): log.segments[-1].base_offset}
    assert logs.run_cleaner() == 0  # nothing dirty
    clock_now[0] += 5000
    assert logs.run_retention() > 0
    assert log.log_start_offset == 10
    logs.shutdown()


def test_cleaner_logs_its_stats_per_partition(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = LogConfig.from_properties({"cleanup.policy": "compact"}, defaults=SMALL)
    logs = LogManager(tmp_path, SMALL, start_scheduler=False)  # the real cleaner
    before: dict[int, tuple[int, int, int]] = {}  # partition: end, segments, bytes
    for partition, count in ((0, 12), (1, 16)):
        log = logs.get_or_create_log("orders", partition, config)
        for i in range(count):
            log.append(batch(i))
        log.high_watermark = log.log_end_offset
        dirty = log.segments[:-1]
        before[partition] = (log.active_segment.base_offset, len(dirty), sum(s.size for s in dirty))
    logs.get_or_create_log("plain", 0).append(batch())  # not compacted: no line
    caplog.set_level(logging.INFO, logger="tidal.log.storage")

    assert logs.run_cleaner() == 2

    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert not [line for line in lines if "plain-0" in line]
    for partition, (end, cleaned, bytes_read) in before.items():
        log = logs.get_log("orders", partition)
        assert log is not None
        bytes_written = sum(s.size for s in log.segments[:cleaned])
        kept = len({i % 4 for i in range(end)})  # the last record of each key
        assert 0 < bytes_written < bytes_read
        assert (
            f"cleaned orders-{partition} up to offset {end}: "
            f"records kept {kept}, removed {end - kept}; "
            f"bytes read {bytes_read}, written {bytes_written}"
        ) in lines
    logs.shutdown()


def test_scheduler_thread_runs_tasks(tmp_path: Path) -> None:
    config = LogConfig.from_properties({"retention.ms": "1"}, defaults=SMALL)
    props = {
        "log.retention.check.interval.ms": "10",
        "log.flush.offset.checkpoint.interval.ms": "10",
    }
    logs = LogManager(tmp_path, config, LogManagerConfig.from_properties(props))
    log = logs.get_or_create_log("s", 0)
    for i in range(10):
        log.append(batch(i))
    log.high_watermark = log.log_end_offset
    deadline = time.monotonic() + 5
    while log.log_start_offset < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert log.log_start_offset == 10
    while not (tmp_path / "log-start-offset-checkpoint").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    logs.shutdown()
    assert read_offset_checkpoint(tmp_path / "log-start-offset-checkpoint") == {("s", 0): 10}


def test_alter_config_applies_to_existing_log(tmp_path: Path) -> None:
    with manager(tmp_path) as logs:
        log = logs.get_or_create_log("a", 0)
        logs.get_or_create_log("a", 0, LogConfig.from_properties({"retention.ms": "5"}))
        assert log.config.retention_ms == 5
        assert all(s.config.retention_ms == 5 for s in log.segments)
