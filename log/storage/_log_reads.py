"""Reading a partition log: Fetch byte ranges and ``ListOffsets`` answers.

Mixed into ``PartitionLog``. A read never decodes records: it finds the
segment holding the start offset by bisecting the segments' base offsets,
then lets the segment walk batch headers to a ``FileRange`` of whole
batches, cut short before ``max_offset`` (the high watermark or last stable
offset) so uncommitted batches are never served::

    segments   [0 ........) [4096 ..........) [8192 (active) ......)
    read(5000)                   |<- batch holding 5000, whole batches
                                     up to max_bytes or max_offset ->|
    result     FileRange(segment 4096, position, length, first_offset)

The log's lock is held only while the range is found; the bytes are read or
sent afterwards through the segment's descriptor lease. ``ListOffsets`` by
timestamp goes through each segment's time index and decodes only the
batches that may hold the answer.
"""

from __future__ import annotations

import bisect
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tidal.log.records import decode_batch
from tidal.log.storage._epoch import LeaderEpochCache
from tidal.log.storage._errors import OffsetOutOfRangeError
from tidal.log.storage._results import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_TIMESTAMP,
    FileRange,
    TimestampAndOffset,
)
from tidal.log.storage._segment import LogSegment

__all__ = ["LogReads"]


class LogReads:
    """``PartitionLog``'s reads and offset lookups (a mixin)."""

    # The PartitionLog state reads look at (set in its __init__).
    directory: Path
    leader_epoch_cache: LeaderEpochCache
    _lock: threading.RLock
    _segments: list[LogSegment]
    _bases: list[int]
    _log_start_offset: int

    if TYPE_CHECKING:  # PartitionLog's own members

        @property
        def log_end_offset(self) -> int: ...
        def _check_open(self) -> None: ...

    def read(
        self,
        start_offset: int,
        max_bytes: int,
        *,
        max_offset: int | None = None,
        min_one_batch: bool = True,
    ) -> FileRange:
        """Whole batches from the one holding ``start_offset``: at most
        ``max_bytes`` (at least one batch with ``min_one_batch``), only batches
        entirely below ``max_offset`` (high watermark or LSO; default the log
        end offset). Raises ``OffsetOutOfRangeError`` outside
        ``[log_start_offset, log_end_offset]``."""
        with self._lock:
            self._check_open()
            leo = self.log_end_offset
            if not self._log_start_offset <= start_offset <= leo:
                raise OffsetOutOfRangeError(
                    f"offset {start_offset} is outside [{self._log_start_offset}, {leo}] "
                    f"of {self.directory}"
                )
            upper = leo if max_offset is None else min(max_offset, leo)
            first = max(bisect.bisect_right(self._bases, start_offset) - 1, 0)
            for segment in self._segments[first:]:
                if segment.base_offset >= upper or start_offset >= upper:
                    break
                max_position = None
                if upper < segment.next_offset:
                    found = segment.translate_offset(upper)
                    max_position = found[0] if found else None
                result = segment.read(start_offset, max_bytes, max_position, min_one_batch)
                if result is not None:
                    position, length, header = result
                    return FileRange(segment, position, length, header.base_offset)
            return FileRange(self._segments[-1], 0, 0, -1)

    def read_bytes(
        self, start_offset: int, max_bytes: int, *, max_offset: int | None = None
    ) -> bytes:
        """``read(...)`` returned as bytes."""
        return self.read(start_offset, max_bytes, max_offset=max_offset).read_bytes()

    def offset_for_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        """Kafka's ``ListOffsets``: the first offset whose record timestamp is
        >= ``timestamp``, or a sentinel: ``LATEST_TIMESTAMP`` (-1),
        ``EARLIEST_TIMESTAMP`` (-2), ``MAX_TIMESTAMP`` (-3). ``None`` when no
        record is that new."""
        with self._lock:
            self._check_open()
            cache = self.leader_epoch_cache
            if timestamp == EARLIEST_TIMESTAMP:
                start = self._log_start_offset
                return TimestampAndOffset(-1, start, cache.epoch_for_offset(start))
            if timestamp == LATEST_TIMESTAMP:
                leo = self.log_end_offset
                return TimestampAndOffset(-1, leo, cache.epoch_for_offset(leo - 1))
            if timestamp == MAX_TIMESTAMP:
                return self._max_timestamp_offset()
            for segment in self._segments:
                if segment.largest_timestamp < timestamp:
                    continue
                found = segment.find_offset_by_timestamp(timestamp, self._log_start_offset)
                if found is not None:
                    ts, offset = found
                    return TimestampAndOffset(ts, offset, cache.epoch_for_offset(offset))
            return None

    def _max_timestamp_offset(self) -> TimestampAndOffset | None:
        best = max(self._segments, key=lambda s: s.max_timestamp)
        if best.max_timestamp < 0:
            return None
        found = best.translate_offset(best.offset_of_max_timestamp)
        offset = best.offset_of_max_timestamp
        if found is not None:
            position, header = found
            batch = decode_batch(best.read_bytes(position, header.size), verify_crc=False)
            offset = next(
                (r.offset for r in batch.records if r.timestamp == best.max_timestamp), offset
            )
        epoch = self.leader_epoch_cache.epoch_for_offset(offset)
        return TimestampAndOffset(best.max_timestamp, offset, epoch)
