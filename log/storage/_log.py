"""``PartitionLog``: the segmented log of one topic partition.

A partition directory ``<data dir>/<topic>-<partition>/`` holds::

    00000000000000000000.log         batches [0, 4096)
    00000000000000000000.index       8-byte entries, trimmed (inactive)
    00000000000000000000.timeindex   12-byte entries, trimmed (inactive)
    00000000000000004096.log         the active segment, appended to
    00000000000000004096.index       preallocated to segment.index.bytes
    00000000000000004096.timeindex   preallocated to segment.index.bytes
    leader-epoch-checkpoint          epoch -> start offset

Offsets: ``log_start_offset <= high_watermark <= log_end_offset``. The log
start offset moves with retention and ``delete_records``; the high watermark
is set by the caller (on a single node, to the log end offset after each
append); the recovery point is the offset below which everything is fsynced.
One re-entrant lock guards the segment list and the active segment; reads
take it only to find their byte range.

The class is assembled from three modules: this one (opening, offsets,
appends, rolling, flushing, retention, closing), ``_log_reads`` (Fetch
ranges and ``ListOffsets``) and ``_log_maintenance`` (DeleteRecords,
truncation and segment deletion); the values it returns are in ``_results``.
"""

from __future__ import annotations

import bisect
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tidal.log.records import (
    BatchHeader,
    InvalidRecordError,
    read_batch_header,
    set_base_offset,
    set_log_append_time,
    set_partition_leader_epoch,
    validate_batch,
)
from tidal.log.storage._config import LogConfig
from tidal.log.storage._epoch import LeaderEpochCache
from tidal.log.storage._errors import LogClosedError, OffsetsOutOfOrderError
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._log_maintenance import LogMaintenance
from tidal.log.storage._log_reads import LogReads
from tidal.log.storage._recovery import load_segments
from tidal.log.storage._results import LogAppendInfo
from tidal.log.storage._retention import delete_old_segments
from tidal.log.storage._segment import LogSegment
from tidal.log.storage._txn_index import TransactionIndex

__all__ = ["PartitionLog", "wall_clock_ms"]

_log = logging.getLogger(__name__)

Buffer = bytes | bytearray | memoryview


def wall_clock_ms() -> int:
    """Milliseconds since the epoch (the default clock)."""
    return time.time_ns() // 1_000_000


def _validate(
    buf: Buffer, max_size: int | None, from_producer: bool, require_keys: bool = False
) -> list[BatchHeader]:
    if not len(buf):
        raise InvalidRecordError("no record batches to append")
    headers, pos = [], 0
    while pos < len(buf):
        header = validate_batch(
            buf, pos, max_size=max_size, from_producer=from_producer, require_keys=require_keys
        )
        headers.append(header)
        pos += header.size
    return headers


class PartitionLog(LogReads, LogMaintenance):
    """Append, read and maintain the segments of one partition.

    Opening recovers the directory (see ``_recovery``). ``clock`` returns
    milliseconds and drives ``segment.ms``, retention and LogAppendTime.
    """

    def __init__(
        self,
        directory: Path | str,
        config: LogConfig | None = None,
        *,
        clock: Callable[[], int] = wall_clock_ms,
        handles: FileHandleCache | None = None,
        recovery_point: int = 0,
        had_clean_shutdown: bool = False,
        log_start_offset: int = 0,
        high_watermark: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = config if config is not None else LogConfig()
        self.clock = clock
        self.handles = handles if handles is not None else FileHandleCache()
        self._lock = threading.RLock()
        self._closed = False
        self._segments, self.recovery_report = load_segments(
            self.directory, self.config, self.handles, now_ms=clock(),
            recovery_point=recovery_point, had_clean_shutdown=had_clean_shutdown,
            log_start_offset=log_start_offset,
        )  # fmt: skip
        self._bases = [s.base_offset for s in self._segments]
        leo = self.log_end_offset
        self._log_start_offset = min(max(log_start_offset, self._segments[0].base_offset), leo)
        self._recovery_point = min(recovery_point, leo)
        if self.recovery_report.recovered:
            self._recovery_point = min(self._recovery_point, self._segments[-1].base_offset)
        hwm = self._log_start_offset if high_watermark is None else high_watermark
        self._high_watermark = min(max(hwm, self._log_start_offset), leo)
        self.leader_epoch_cache = LeaderEpochCache(self.directory)
        self.leader_epoch_cache.truncate_from_end(leo)
        #: aborted transactions (``.txnindex`` files), written by the broker
        self.txn_index = TransactionIndex(self.directory)
        self.txn_index.truncate_to(leo)
        self.txn_index.delete_before(self._segments[0].base_offset)
        self._unflushed_messages = 0
        self._last_flush_ms = clock()
        self._rolled_flush_offset: int | None = None
        self._pending_deletes: list[tuple[int, LogSegment]] = []

    def __repr__(self) -> str:
        return f"PartitionLog({self.directory}, {self.log_start_offset}..{self.log_end_offset})"

    # ---- offsets ---------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        """The first offset readers may ask for."""
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        """The offset the next appended record gets."""
        return self._segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        """The last committed offset + 1 (set by the caller)."""
        return self._high_watermark

    @high_watermark.setter
    def high_watermark(self, offset: int) -> None:
        with self._lock:
            self._high_watermark = min(max(offset, self._log_start_offset), self.log_end_offset)

    @property
    def recovery_point(self) -> int:
        """Everything below this offset is fsynced."""
        return self._recovery_point

    @property
    def size(self) -> int:
        """Bytes in all ``.log`` files."""
        with self._lock:
            return sum(s.size for s in self._segments)

    @property
    def segments(self) -> list[LogSegment]:
        """A snapshot of the segments, oldest first (the last is active)."""
        with self._lock:
            return list(self._segments)

    @property
    def lock(self) -> threading.RLock:
        """The log's re-entrant lock (held by appends, reads and swaps)."""
        return self._lock

    @property
    def active_segment(self) -> LogSegment:
        """The segment appends go to."""
        return self._segments[-1]

    def update_config(self, config: LogConfig) -> None:
        """Apply a new config (``AlterConfigs``); index sizes change at the next roll."""
        with self._lock:
            self.config = config
            for segment in self._segments:
                segment.config = config

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError(f"{self.directory} is closed")

    # ---- appending -------------------------------------------------------------

    def append(
        self, records: Buffer, *, leader_epoch: int = 0, from_producer: bool = True
    ) -> LogAppendInfo:
        """Append one or more batches as the leader.

        Each batch is validated (size against ``max.message.bytes``, magic,
        CRC, record count; producer rules when ``from_producer``), then its
        base offset and leader epoch are rewritten in place. Any invalid batch
        raises a ``RecordsError`` subclass and nothing is appended. A compacted
        log refuses records without a key (``InvalidRecordError``), as Kafka does.
        """
        buf = bytearray(records)
        headers = _validate(
            buf, self.config.max_message_bytes, from_producer, require_keys=self.config.compact
        )
        with self._lock:
            self._check_open()
            now = self.clock()
            append_time = now if self.config.log_append_time else -1
            first = offset = self.log_end_offset
            pos = 0
            for i, header in enumerate(headers):
                set_base_offset(buf, offset, pos)
                set_partition_leader_epoch(buf, leader_epoch, pos)
                if append_time >= 0:
                    set_log_append_time(buf, append_time, pos)
                    headers[i] = read_batch_header(buf, pos)
                else:
                    header.base_offset, header.partition_leader_epoch = offset, leader_epoch
                offset = header.next_offset
                pos += header.size
            self._append_locked(buf, headers, now)
            self.leader_epoch_cache.assign(leader_epoch, first)
            return self._info(headers, append_time, len(buf))

    def append_raw(self, records: Buffer) -> LogAppendInfo:
        """Append batches keeping their offsets (replica fetch, compaction output).

        The first batch must start at or above the log end offset and each
        batch above the previous one, else ``OffsetsOutOfOrderError``.
        """
        buf = bytes(records)
        headers = _validate(buf, None, False)
        with self._lock:
            self._check_open()
            expected = self.log_end_offset
            for header in headers:
                if header.base_offset < expected:
                    raise OffsetsOutOfOrderError(
                        f"batch at offset {header.base_offset} does not follow offset "
                        f"{expected - 1} in {self.directory}"
                    )
                expected = header.next_offset
            self._append_locked(buf, headers, self.clock())
            for header in headers:
                self.leader_epoch_cache.assign(header.partition_leader_epoch, header.base_offset)
            return self._info(headers, -1, len(buf))

    def _info(self, headers: list[BatchHeader], append_time: int, size: int) -> LogAppendInfo:
        return LogAppendInfo(
            first_offset=headers[0].base_offset,
            last_offset=headers[-1].last_offset,
            log_append_time=append_time,
            log_start_offset=self._log_start_offset,
            max_timestamp=max(h.max_timestamp for h in headers),
            records_count=sum(h.records_count for h in headers),
            valid_bytes=size,
        )

    def _append_locked(self, buf: Buffer, headers: list[BatchHeader], now: int) -> None:
        max_ts = max(h.max_timestamp for h in headers)
        first, last = headers[0].base_offset, headers[-1].last_offset
        active = self._segments[-1]
        if (active.size == 0 and active.base_offset != first) or active.should_roll(
            len(buf), max_ts, last, now
        ):
            active = self._roll_locked(first, now)
        active.append(buf, headers)
        self._unflushed_messages += sum(h.records_count for h in headers)
        if self._unflushed_messages >= self.config.flush_messages:
            self.flush()

    # ---- rolling and flushing ----------------------------------------------------

    def roll(self) -> LogSegment:
        """Start a new active segment at the log end offset (no-op when empty)."""
        with self._lock:
            self._check_open()
            return self._roll_locked(self.log_end_offset, self.clock())

    def _roll_locked(self, base_offset: int, now: int) -> LogSegment:
        old = self._segments[-1]
        if old.size == 0:
            if old.base_offset == base_offset:
                return old
            old.delete_files()
            self._segments.pop()
        else:
            old.on_become_inactive()
            # Kafka flushes a rolled segment in the background; the scheduler
            # picks this up in maybe_flush.
            self._rolled_flush_offset = base_offset
        segment = LogSegment(self.directory, base_offset, self.config, self.handles, created_ms=now)
        segment.create_files()
        self._segments.append(segment)
        self._bases = [s.base_offset for s in self._segments]
        _log.debug("rolled %s at offset %d", self.directory, base_offset)
        return segment

    def flush(self, upto_offset: int | None = None) -> None:
        """fsync segments holding offsets up to ``upto_offset`` (default: all)
        and move the recovery point there."""
        with self._lock:
            self._check_open()
            target = self.log_end_offset if upto_offset is None else upto_offset
            if target <= self._recovery_point:
                return
            first = max(bisect.bisect_right(self._bases, self._recovery_point) - 1, 0)
            todo = [s for s in self._segments[first:] if s.base_offset < target]
            active = self._segments[-1]
            for segment in todo:
                segment.write_indexes(active=segment is active)
            self._unflushed_messages = 0
            self._last_flush_ms = self.clock()
        for segment in todo:
            try:
                segment.fsync()
            except FileNotFoundError:  # deleted meanwhile by retention
                continue
        if todo:
            self.txn_index.flush(todo[0].base_offset)
        with self._lock:
            self._recovery_point = max(self._recovery_point, min(target, self.log_end_offset))

    def maybe_flush(self, now: int) -> None:
        """Flush for ``flush.ms`` or a recently rolled segment (scheduler hook)."""
        if self._closed:
            return
        rolled, self._rolled_flush_offset = self._rolled_flush_offset, None
        if now - self._last_flush_ms >= self.config.flush_ms:
            self.flush()
        elif rolled is not None:
            self.flush(rolled)

    # ---- retention ---------------------------------------------------------------
    # (here, not in _log_maintenance: ``_retention`` works on a whole PartitionLog)

    def delete_old_segments(self, now: int | None = None) -> int:
        """Apply retention (``retention.ms``, ``retention.bytes``, log start
        offset); returns the number of segments deleted."""
        with self._lock:
            self._check_open()
            count = delete_old_segments(self, self.clock() if now is None else now)
        self.delete_expired_files(self.clock() if now is None else now)
        return count

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Write and trim the indexes and close every descriptor (no fsync)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for segment in self._segments:
                segment.close()
            for _, segment in self._pending_deletes:
                self.handles.discard(segment)

    def _abandon(self) -> None:
        # A crash: descriptors go away, nothing is written.
        with self._lock:
            self._closed = True
            for segment in self._segments:
                self.handles.discard(segment)

    def delete(self) -> None:
        """Close and remove the partition directory."""
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
