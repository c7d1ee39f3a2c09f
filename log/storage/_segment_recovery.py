"""Rebuilding a segment's in-memory state from its files: load, recover, truncate.

``LogSegment`` keeps its size, next offset, largest timestamp and index
entries in memory; these methods (mixed into it) derive them again from disk.
``load`` trusts the indexes of a segment known to be flushed and walks only
the batches past the last index entry; ``recover`` trusts nothing and validates every
batch; ``truncate_to`` cuts the segment at an offset (replication
divergence) and re-derives the tail state.

``recover`` scans the ``.log`` through ``mmap`` and a ``memoryview`` (no
copies), re-indexing each batch, and cuts the file at the first batch that
fails a check::

    position 0      batch   length, magic and CRC-32C valid
    ...             batch   base offset >= the previous batch's next offset
    cut             batch   the first torn or corrupt batch, or one whose
                            offsets go back: the file ends here (ftruncate)
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tidal.log.records import BatchHeader, RecordsError, validate_batch
from tidal.log.storage import _faults
from tidal.log.storage._errors import CorruptIndexError
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._index import OffsetIndex, TimeIndex

__all__ = ["SegmentRecovery"]

# Offsets must fit the index's 4-byte offset relative to the segment base.
_INT32_MAX = 2**31 - 1


class SegmentRecovery:
    """``LogSegment``'s loading, recovery and truncation (a mixin)."""

    # The LogSegment state these methods rebuild (set in its __init__).
    base_offset: int
    handles: FileHandleCache
    offset_index: OffsetIndex
    time_index: TimeIndex
    size: int
    next_offset: int
    max_timestamp: int
    offset_of_max_timestamp: int
    _bytes_since_index: int
    _first_batch_timestamp: int | None

    if TYPE_CHECKING:  # LogSegment's own methods

        @property
        def log_path(self) -> Path: ...
        def walk(self, start: int, end: int | None = None) -> Iterator[tuple[int, BatchHeader]]: ...
        def translate_offset(
            self, offset: int, start: int = 0
        ) -> tuple[int, BatchHeader] | None: ...
        def write_indexes(self, *, active: bool, fsync: bool = False) -> None: ...
        def _index_batch(self, header: BatchHeader, position: int) -> None: ...

    def load(self, active: bool) -> bool:
        """Read size and indexes of an existing segment; find its next offset by
        walking from the last index entry. False when the indexes must be rebuilt."""
        self.size = self.log_path.stat().st_size
        if self.size and not (self.offset_index.path.exists() and self.time_index.path.exists()):
            return False
        try:
            self.offset_index.load()
            self.time_index.load()
            self.offset_index.sanity_check(self.size)
        except CorruptIndexError:
            return False
        last_offset, position = self.offset_index.lookup(2**63 - 1)
        self.next_offset = last_offset + 1 if len(self.offset_index) else self.base_offset
        end = position
        ts, ts_offset = self.time_index.last_entry
        self.max_timestamp, self.offset_of_max_timestamp = ts, ts_offset
        for pos, header in self.walk(position):
            self.next_offset = header.next_offset
            if header.max_timestamp > self.max_timestamp:
                self.max_timestamp = header.max_timestamp
                self.offset_of_max_timestamp = header.last_offset
            end = pos + header.size
            self._bytes_since_index = end - position
        if end != self.size:
            return False  # the walk stopped early: a torn tail needs recovery
        try:
            self.time_index.sanity_check(self.next_offset - 1)
        except CorruptIndexError:
            return False
        if active:
            self.write_indexes(active=True)  # Kafka's resizeIndexes on the active segment
        return True

    def recover(self, previous_next_offset: int) -> tuple[int, str] | None:
        """Scan every batch (length, magic, CRC, offsets), rebuild both indexes
        and cut the file at the first bad batch.

        Returns ``(position, reason)`` of the cut, or ``None`` when all valid.
        """
        self.offset_index.reset()
        self.time_index.reset()
        self.max_timestamp, self.offset_of_max_timestamp = -1, self.base_offset
        self._bytes_since_index = 0
        self._first_batch_timestamp = None
        self.size = self.log_path.stat().st_size
        expected = max(previous_next_offset, self.base_offset)
        position, problem = 0, None
        if self.size:
            with (
                self.handles.lease(self) as fd,
                mmap.mmap(fd, self.size, access=mmap.ACCESS_READ) as mm,
                memoryview(mm) as view,
            ):
                position, expected, problem = self._scan(view, expected)
        self.next_offset = expected
        if problem is not None:
            if _faults.armed():
                _faults.fire("segment.recover.before_truncate")
            with self.handles.lease(self) as fd:
                os.ftruncate(fd, position)
            self.size = position
        return None if problem is None else (position, problem)

    def _scan(self, mm: memoryview, expected: int) -> tuple[int, int, str | None]:
        position, size = 0, len(mm)
        while position < size:
            try:
                header = validate_batch(mm, position, check_records=False)
            except RecordsError as exc:
                return position, expected, str(exc)
            if header.base_offset < expected or header.last_offset - self.base_offset > _INT32_MAX:
                return (
                    position,
                    expected,
                    (
                        f"batch offsets {header.base_offset}..{header.last_offset} do not follow "
                        f"offset {expected - 1}"
                    ),
                )
            self._index_batch(header, position)
            expected = header.next_offset
            position += header.size
        return position, expected, None

    def truncate_to(self, offset: int) -> int:
        """Drop the batch holding ``offset`` and all later ones; returns bytes removed."""
        found = self.translate_offset(offset)
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        if found is None:
            return 0
        position, header = found
        removed = self.size - position
        with self.handles.lease(self) as fd:
            os.ftruncate(fd, position)
        self.size = position
        self.next_offset = header.base_offset
        ts, ts_offset = self.time_index.last_entry
        self.max_timestamp, self.offset_of_max_timestamp = ts, ts_offset
        _, start = self.offset_index.lookup(2**63 - 1)
        self._bytes_since_index = 0
        for pos, batch in self.walk(start):
            if batch.max_timestamp > self.max_timestamp:
                self.max_timestamp = batch.max_timestamp
                self.offset_of_max_timestamp = batch.last_offset
            self._bytes_since_index = pos + batch.size - start
        if self.size == 0:
            self._first_batch_timestamp = None
        return removed
