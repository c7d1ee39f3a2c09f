"""Moving the ends of a partition log: DeleteRecords, truncation, segment deletion.

Mixed into ``PartitionLog``. Everything here takes data out of the log:
from the front (``delete_records``; retention and compaction call
``delete_segments``, ``retire_segment`` and ``replace_segments``) or from the
back (``truncate_to`` after replication divergence), keeping the offsets
ordered ``log_start_offset <= high_watermark <= log_end_offset``::

    [0 ......) [4096 ......) [8192 ...|...) [12288 (active) ...|...)
    |<- deleted: wholly ->|           |                          |
        below the log start           log start offset           truncate_to(offset):
        offset                        (delete_records)           the batch holding
                                                                 offset and all after

A deleted segment is first renamed ``<base>.log.deleted`` (so a crash cannot
bring it back) and its files are removed after ``file.delete.delay.ms``,
giving readers holding a ``FileRange`` on it time to finish.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tidal.log.storage._config import LogConfig
from tidal.log.storage._epoch import LeaderEpochCache
from tidal.log.storage._errors import OffsetOutOfRangeError
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._segment import LogSegment
from tidal.log.storage._txn_index import TransactionIndex

__all__ = ["LogMaintenance"]

# The PartitionLog's logger: its records stay under one name.
_log = logging.getLogger("tidal.log.storage._log")


class LogMaintenance:
    """``PartitionLog``'s DeleteRecords, truncation and segment deletion (a mixin)."""

    # The PartitionLog state these methods change (set in its __init__).
    directory: Path
    config: LogConfig
    handles: FileHandleCache
    clock: Callable[[], int]
    leader_epoch_cache: LeaderEpochCache
    txn_index: TransactionIndex
    _lock: threading.RLock
    _segments: list[LogSegment]
    _bases: list[int]
    _log_start_offset: int
    _high_watermark: int
    _recovery_point: int
    _pending_deletes: list[tuple[int, LogSegment]]

    if TYPE_CHECKING:  # PartitionLog's own members

        @property
        def log_end_offset(self) -> int: ...
        def _check_open(self) -> None: ...
        def _roll_locked(self, base_offset: int, now: int) -> LogSegment: ...

    def delete_records(self, before_offset: int) -> int:
        """``DeleteRecords``: move the log start offset up to ``before_offset``
        (at most the high watermark) and drop segments wholly below it.
        Returns the new log start offset."""
        with self._lock:
            self._check_open()
            if before_offset > self._high_watermark:
                raise OffsetOutOfRangeError(
                    f"cannot move the log start offset of {self.directory} to {before_offset}, "
                    f"above the high watermark {self._high_watermark}"
                )
            if before_offset > self._log_start_offset:
                self._log_start_offset = before_offset
                self.leader_epoch_cache.truncate_from_start(before_offset)
                doomed = [
                    s
                    for s, following in zip(self._segments, self._segments[1:], strict=False)
                    if following.base_offset <= before_offset
                ]
                self.delete_segments(doomed, "log start offset moved")
            return self._log_start_offset

    def truncate_to(self, offset: int) -> None:
        """Remove every batch from the one holding ``offset`` onward
        (replication divergence). The log end offset becomes that batch's
        base offset."""
        with self._lock:
            self._check_open()
            if offset >= self.log_end_offset:
                return
            if offset <= self._segments[0].base_offset:
                self.truncate_fully_and_start_at(offset)
                return
            doomed = [s for s in self._segments if s.base_offset >= offset]
            self.delete_segments(doomed, "truncated", immediately=True)
            active = self._segments[-1]
            active.truncate_to(offset)
            active.write_indexes(active=True)
            self._after_truncation()

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Delete every segment and restart the log empty at ``offset``."""
        with self._lock:
            self._check_open()
            old = list(self._segments)
            segment = LogSegment(
                self.directory, offset, self.config, self.handles, created_ms=self.clock()
            )
            for s in old:
                s.delete_files()
            segment.create_files()
            self._segments = [segment]
            self._bases = [offset]
            self._log_start_offset = offset
            self.leader_epoch_cache.clear()
            self._after_truncation()

    def _after_truncation(self) -> None:
        leo = self.log_end_offset
        self._high_watermark = min(self._high_watermark, leo)
        self._recovery_point = min(self._recovery_point, leo)
        self._log_start_offset = min(self._log_start_offset, leo)
        self.leader_epoch_cache.truncate_from_end(leo)
        self.txn_index.truncate_to(leo)
        self.txn_index.delete_before(self._segments[0].base_offset)

    def delete_segments(
        self, doomed: list[LogSegment], reason: str, *, immediately: bool = False
    ) -> None:
        """Remove ``doomed`` from the log: renamed ``.deleted`` and removed after
        ``file.delete.delay.ms``. Deleting every segment first rolls, as Kafka
        does, so the log keeps an (empty) active segment."""
        with self._lock:
            if not doomed:
                return
            if len(doomed) == len(self._segments):
                self._roll_locked(self.log_end_offset, self.clock())
            ids = {id(s) for s in doomed}
            self._segments = [s for s in self._segments if id(s) not in ids]
            self._bases = [s.base_offset for s in self._segments]
            self._log_start_offset = max(self._log_start_offset, self._segments[0].base_offset)
            self.txn_index.delete_before(self._segments[0].base_offset)
            for segment in doomed:
                _log.info("deleting segment %s (%s)", segment.log_path, reason)
                segment.rename(".deleted")
                if immediately:
                    segment.delete_files()
                else:
                    self.retire_segment(segment)

    def retire_segment(self, segment: LogSegment) -> None:
        """Remove an already ``.deleted`` segment after ``file.delete.delay.ms``."""
        with self._lock:
            if self.config.file_delete_delay_ms == 0:
                segment.delete_files()
            else:
                due = self.clock() + self.config.file_delete_delay_ms
                self._pending_deletes.append((due, segment))

    def delete_expired_files(self, now: int) -> None:
        """Remove ``.deleted`` segments whose ``file.delete.delay.ms`` passed."""
        with self._lock:
            due = [s for t, s in self._pending_deletes if t <= now]
            self._pending_deletes = [(t, s) for t, s in self._pending_deletes if t > now]
        for segment in due:
            segment.delete_files()

    def replace_segments(self, old: LogSegment, new: LogSegment) -> None:
        """Swap ``new`` in for ``old`` (same base offset; the cleaner's last step)."""
        with self._lock:
            i = self._segments.index(old)
            self._segments[i] = new
