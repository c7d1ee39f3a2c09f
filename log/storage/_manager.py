"""``LogManager``: every partition log of a data directory, and the scheduler.

The data directory, as Kafka lays it out::

    <data dir>/
        .lock                                flock held while a manager has the dir
        .kafka_cleanshutdown                 present only after a clean shutdown
        recovery-point-offset-checkpoint     topic partition offset: fsynced below
        log-start-offset-checkpoint          topic partition offset (DeleteRecords)
        replication-offset-checkpoint        topic partition high watermark
        cleaner-offset-checkpoint            topic partition first dirty offset
        orders-0/                            a PartitionLog (see _log)
        orders-1/
        old-3.5f0c...e1-delete/              a deleted partition being removed

One daemon thread runs retention (``log.retention.check.interval.ms``),
flushing (``flush.ms``, rolled segments), checkpointing
(``log.flush.offset.checkpoint.interval.ms``) and compaction
(``log.cleaner.backoff.ms``). Appends never wait for it: compaction holds a
log's lock only for the final renames.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tidal.log.storage._checkpoint import read_offset_checkpoint, write_offset_checkpoint
from tidal.log.storage._cleaner import CleanerStats, compact_segments
from tidal.log.storage._config import LogConfig, LogManagerConfig
from tidal.log.storage._dir_lock import LOCK_FILE, DirectoryLock
from tidal.log.storage._errors import InvalidTopicError, LogClosedError
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._log import PartitionLog, wall_clock_ms
from tidal.log.storage._retention import Compactor, clean_log

__all__ = ["CLEAN_SHUTDOWN_FILE", "LogManager", "validate_topic_name"]

_log = logging.getLogger(__name__)

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
REPLICATION_CHECKPOINT = "replication-offset-checkpoint"
CLEANER_CHECKPOINT = "cleaner-offset-checkpoint"
_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_PARTITION_DIR = re.compile(r"^(.+)-(\d+)$")

TopicPartition = tuple[str, int]


def validate_topic_name(topic: str) -> None:
    """Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not "." or ".."."""
    if topic in (".", "..") or not _TOPIC.match(topic):
        raise InvalidTopicError(
            f"invalid topic name {topic!r}: use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"
        )


class LogManager:
    """Create, load, look up and delete partition logs under ``data_dir``.

    The directory is locked first (``<data_dir>/.lock``, see ``_dir_lock``):
    while one manager has it, another raises ``DataDirInUseError``; shutdown
    releases it. Logs found at start are recovered (a full scan of unflushed
    segments if the last shutdown was not clean). ``start_scheduler=False`` leaves the
    background work to explicit calls (``run_retention``, ``run_cleaner``,
    ``flush_logs``, ``checkpoint``), which tests use.
    """

    def __init__(
        self,
        data_dir: Path | str,
        default_config: LogConfig | None = None,
        manager_config: LogManagerConfig | None = None,
        *,
        clock: Callable[[], int] = wall_clock_ms,
        compactor: Compactor | None = None,
        start_scheduler: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._dir_lock = DirectoryLock(self.data_dir)
        self.default_config = default_config if default_config is not None else LogConfig()
        self.manager_config = manager_config if manager_config is not None else LogManagerConfig()
        self.clock = clock
        self.compactor = compactor if compactor is not None else compact_segments
        self.handles = FileHandleCache(self.manager_config.max_open_files)
        self._lock = threading.RLock()
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._cleaner_offsets: dict[TopicPartition, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        try:
            self._load_logs()
        except BaseException:
            for log in self._logs.values():
                log.close()
            self._dir_lock.release()
            raise
        if start_scheduler:
            self._thread = threading.Thread(
                target=self._run, name="tidal-log-scheduler", daemon=True
            )
            self._thread.start()

    # ---- loading -----------------------------------------------------------------

    def _load_logs(self) -> None:
        marker = self.data_dir / CLEAN_SHUTDOWN_FILE
        had_clean_shutdown = marker.exists()
        # A directory no broker has run over yet: only the lock file in it.
        is_new = not had_clean_shutdown and all(
            path.name == LOCK_FILE for path in self.data_dir.iterdir()
        )
        recovery = read_offset_checkpoint(self.data_dir / RECOVERY_POINT_CHECKPOINT)
        starts = read_offset_checkpoint(self.data_dir / LOG_START_OFFSET_CHECKPOINT)
        hwms = read_offset_checkpoint(self.data_dir / REPLICATION_CHECKPOINT)
        self._cleaner_offsets = read_offset_checkpoint(self.data_dir / CLEANER_CHECKPOINT)
        for path in sorted(self.data_dir.iterdir()):
            if not path.is_dir():
                continue
            if path.name.endswith("-delete"):
                shutil.rmtree(path, ignore_errors=True)  # a deletion cut short
                continue
            match = _PARTITION_DIR.match(path.name)
            if match is None or not _TOPIC.match(match.group(1)):
                _log.warning("ignoring %s: not a <topic>-<partition> directory", path)
                continue
            tp = (match.group(1), int(match.group(2)))
            self._logs[tp] = PartitionLog(
                path, self.default_config, clock=self.clock, handles=self.handles,
                recovery_point=recovery.get(tp, 0), had_clean_shutdown=had_clean_shutdown,
                log_start_offset=starts.get(tp, 0), high_watermark=hwms.get(tp),
            )  # fmt: skip
        # From here on a crash is an unclean shutdown.
        marker.unlink(missing_ok=True)
        if is_new:
            _log.info("new log directory %s", self.data_dir)
        else:
            _log.info("loaded %d logs from %s (clean shutdown: %s)", len(self._logs),
                      self.data_dir, had_clean_shutdown)  # fmt: skip

    # ---- partitions ------------------------------------------------------------------

    def get_or_create_log(
        self, topic: str, partition: int, config: LogConfig | None = None
    ) -> PartitionLog:
        """The log of ``topic``-``partition``, created empty if new.

        ``config`` applies to a new log and replaces the config of an existing
        one (as an ``AlterConfigs`` would).
        """
        validate_topic_name(topic)
        if partition < 0:
            raise InvalidTopicError(f"invalid partition {partition} for topic {topic!r}")
        with self._lock:
            self._check_open()
            log = self._logs.get((topic, partition))
            if log is None:
                log = PartitionLog(
                    self.data_dir / f"{topic}-{partition}", config or self.default_config,
                    clock=self.clock, handles=self.handles,
                )  # fmt: skip
                self._logs[(topic, partition)] = log
            elif config is not None:
                log.update_config(config)
            return log

    def get_log(self, topic: str, partition: int) -> PartitionLog | None:
        """The log of ``topic``-``partition``, or ``None``."""
        with self._lock:
            return self._logs.get((topic, partition))

    def logs(self) -> dict[TopicPartition, PartitionLog]:
        """A snapshot of every log by ``(topic, partition)``."""
        with self._lock:
            return dict(self._logs)

    def delete_log(self, topic: str, partition: int) -> bool:
        """Close and remove a partition (renamed ``<dir>.<uuid>-delete`` first,
        as Kafka does, so a crash mid-way cannot resurrect it). False if absent."""
        with self._lock:
            log = self._logs.pop((topic, partition), None)
            self._cleaner_offsets.pop((topic, partition), None)
        if log is None:
            return False
        log.close()
        doomed = log.directory.with_name(f"{log.directory.name}.{uuid.uuid4().hex}-delete")
        log.directory.rename(doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        return True

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError(f"log manager of {self.data_dir} is shut down")

    # ---- background work -----------------------------------------------------------------

    def run_retention(self, now: int | None = None) -> int:
        """Apply retention to every log; returns the number of segments deleted."""
        now = self.clock() if now is None else now
        deleted = 0
        for log in self.logs().values():
            try:
                deleted += log.delete_old_segments(now)
            except LogClosedError:
                continue
        return deleted

    def flush_logs(self, now: int | None = None) -> None:
        """Flush logs due by ``flush.ms`` and segments rolled since the last call."""
        now = self.clock() if now is None else now
        for log in self.logs().values():
            try:
                log.maybe_flush(now)
            except LogClosedError:
                continue

    def run_cleaner(self, now: int | None = None) -> int:
        """Compact every dirty enough ``compact`` log; returns how many were cleaned.

        Each partition cleaned logs its ``CleanerStats`` at INFO.
        """
        now = self.clock() if now is None else now
        cleaned = 0
        for tp, log in self.logs().items():
            if not log.config.compact:
                continue
            stats = CleanerStats()
            try:
                end = clean_log(log, now, self._cleaner_offsets.get(tp, 0), self.compactor, stats)
            except LogClosedError:
                continue
            if end is not None:
                cleaned += 1
                _log.info(
                    "cleaned %s-%d up to offset %d: records kept %d, removed %d; "
                    "bytes read %d, written %d",
                    *tp,
                    end,
                    stats.records_kept,
                    stats.records_removed,
                    stats.bytes_read,
                    stats.bytes_written,
                )
                with self._lock:
                    if tp in self._logs:
                        self._cleaner_offsets[tp] = end
        if cleaned:
            self._write_cleaner_checkpoint()
        return cleaned

    def checkpoint(self) -> None:
        """Write the recovery point, log start offset and high watermark checkpoints."""
        logs = self.logs()
        write_offset_checkpoint(
            self.data_dir / RECOVERY_POINT_CHECKPOINT,
            {tp: log.recovery_point for tp, log in logs.items()},
        )
        write_offset_checkpoint(
            self.data_dir / LOG_START_OFFSET_CHECKPOINT,
            {tp: log.log_start_offset for tp, log in logs.items()},
        )
        write_offset_checkpoint(
            self.data_dir / REPLICATION_CHECKPOINT,
            {tp: log.high_watermark for tp, log in logs.items()},
        )
        self._write_cleaner_checkpoint()

    def _write_cleaner_checkpoint(self) -> None:
        with self._lock:
            offsets = dict(self._cleaner_offsets)
        write_offset_checkpoint(self.data_dir / CLEANER_CHECKPOINT, offsets)

    def _tasks(self) -> list[tuple[int, Callable[[], object]]]:
        config = self.manager_config
        tasks: list[tuple[int, Callable[[], object]]] = [
            (config.retention_check_interval_ms, self.run_retention),
            (min(config.flush_scheduler_interval_ms, 1000), self.flush_logs),
            (config.flush_offset_checkpoint_interval_ms or 1, self.checkpoint),
        ]
        if config.cleaner_enable:
            tasks.append((config.cleaner_backoff_ms or 1, self.run_cleaner))
        return tasks

    def _run(self) -> None:
        tasks = self._tasks()
        due = [time.monotonic() + interval / 1000 for interval, _ in tasks]
        while not self._stop.is_set():
            now = time.monotonic()
            for i, (interval, task) in enumerate(tasks):
                if now >= due[i]:
                    try:
                        task()
                    except Exception:  # noqa: BLE001 - the thread must outlive one bad run
                        _log.exception("log scheduler task %s failed", task.__name__)
                    due[i] = time.monotonic() + interval / 1000
            self._stop.wait(max(min(due) - time.monotonic(), 0.001))

    # ---- shutdown ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the scheduler, flush and close every log, write the checkpoints
        and the clean shutdown marker, then release the directory's lock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        try:
            if self._thread is not None:
                self._thread.join()
            for log in self.logs().values():
                log.flush()
                log.close()
            self.checkpoint()
            marker = self.data_dir / CLEAN_SHUTDOWN_FILE
            marker.write_text(json.dumps({"version": 0, "brokerEpoch": -1}))
        finally:
            self._dir_lock.release()

    def _abandon(self) -> None:
        # A crash (``_faults.abandon``): the scheduler stops, every log's
        # descriptors go away and the lock is dropped, as the kernel drops it
        # at ``kill -9``; no checkpoint and no clean-shutdown marker is written.
        with self._lock:
            self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for log in self.logs().values():
            log._abandon()
        self._dir_lock.release()

    def __enter__(self) -> LogManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
