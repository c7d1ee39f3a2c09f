"""The leader epoch cache and its ``leader-epoch-checkpoint`` file.

Each entry says "epoch E started at offset S"; the file is Kafka's checkpoint
format (see ``_checkpoint``) with ``E S`` entries::

    0
    2
    0 0
    3 1500

Replication uses it to answer ``OffsetsForLeaderEpoch`` and to truncate a
follower to where its log diverges from the leader's.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from tidal.log.storage._checkpoint import CorruptCheckpointError, read_checkpoint, write_checkpoint

__all__ = ["LEADER_EPOCH_CHECKPOINT", "EpochEntry", "LeaderEpochCache"]

LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
_log = logging.getLogger(__name__)

#: ``(epoch, start_offset)``
EpochEntry = tuple[int, int]


class LeaderEpochCache:
    """Epoch → start offset, persisted on every change."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LEADER_EPOCH_CHECKPOINT
        self._lock = threading.Lock()
        try:
            rows = read_checkpoint(self.path, 2)
            self._entries: list[EpochEntry] = [(int(e), int(s)) for e, s in rows]
        except (CorruptCheckpointError, ValueError) as exc:
            _log.warning("ignoring unreadable %s: %s", self.path, exc)
            self._entries = []

    def entries(self) -> list[EpochEntry]:
        """A copy of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    @property
    def latest_epoch(self) -> int | None:
        """The newest epoch, or ``None`` when empty."""
        with self._lock:
            return self._entries[-1][0] if self._entries else None

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that ``epoch`` starts at ``start_offset`` (ignored unless newer)."""
        if epoch < 0:
            return
        with self._lock:
            if self._entries and epoch <= self._entries[-1][0]:
                return
            # An epoch that starts where an older one did replaces it (Kafka's
            # removeWhileMatching on the start offset).
            self._entries = [entry for entry in self._entries if entry[1] < start_offset]
            self._entries.append((epoch, start_offset))
            self._flush()

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """``(epoch, end_offset)`` as ``OffsetsForLeaderEpoch`` answers: the start
        offset of the first epoch above ``epoch``, or the log end offset."""
        with self._lock:
            if not self._entries or epoch < self._entries[0][0]:
                return -1, -1
            found = -1
            for i, (e, _) in enumerate(self._entries):
                if e > epoch:
                    return found, self._entries[i][1]
                found = e
            return found, log_end_offset

    def epoch_for_offset(self, offset: int) -> int | None:
        """The epoch whose range holds ``offset``, or ``None``."""
        with self._lock:
            found = None
            for epoch, start in self._entries:
                if start > offset:
                    break
                found = epoch
            return found

    def truncate_from_end(self, end_offset: int) -> None:
        """Forget epochs starting at or after ``end_offset`` (log truncated)."""
        with self._lock:
            kept = [entry for entry in self._entries if entry[1] < end_offset]
            if kept != self._entries:
                self._entries = kept
                self._flush()

    def truncate_from_start(self, start_offset: int) -> None:
        """Forget epochs wholly below ``start_offset``; the epoch holding it
        now starts there (log start offset moved)."""
        with self._lock:
            below = [entry for entry in self._entries if entry[1] <= start_offset]
            if not below or (len(below) == 1 and below[0][1] == start_offset):
                return
            self._entries = [(below[-1][0], start_offset), *self._entries[len(below) :]]
            self._flush()

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries = []
            self._flush()

    def _flush(self) -> None:
        if self.path.parent.exists():
            write_checkpoint(self.path, self._entries)
