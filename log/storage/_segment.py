"""One log segment: ``<base>.log`` plus its ``.index`` and ``.timeindex``.

``<20-digit base offset>.log`` is a plain concatenation of record batches
exactly as they travel on the wire (see ``tidal.log.records``)::

    position 0          batch (base_offset >= segment base offset)
    position 0 + size   batch
    ...                 offsets increase; gaps are allowed (compaction)

A segment never decodes records on the hot paths: appends write bytes and
index their headers; reads walk 61-byte headers from the nearest index entry
with ``pread``. Descriptors are borrowed from a shared ``FileHandleCache``
(see ``_handles``). Loading, crash recovery and truncation, which rebuild
this state from the files, live in ``_segment_recovery``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from tidal.log.records import (
    BATCH_HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    decode_batch,
    read_batch_header,
)
from tidal.log.storage import _faults
from tidal.log.storage._config import LogConfig
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._index import OffsetIndex, TimeIndex
from tidal.log.storage._segment_recovery import SegmentRecovery

__all__ = ["LogSegment", "segment_file_name"]

_INT32_MAX = 2**31 - 1
_WALK_CHUNK = 16384
_MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD


def segment_file_name(base_offset: int, extension: str) -> str:
    """Kafka's name: ``00000000000000001234.log`` for ``(1234, ".log")``."""
    return f"{base_offset:020d}{extension}"


class LogSegment(SegmentRecovery):
    """A segment's files and the state appends need (size, next offset,
    largest timestamp, bytes since the last index entry).

    ``load``, ``recover`` and ``truncate_to`` come from ``SegmentRecovery``.
    """

    def __init__(
        self,
        directory: Path,
        base_offset: int,
        config: LogConfig,
        handles: FileHandleCache,
        *,
        created_ms: int,
        suffix: str = "",
    ) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.config = config
        self.handles = handles
        self.suffix = suffix
        self.created_ms = created_ms
        jitter = config.segment_jitter_ms
        self.roll_jitter_ms = random.randrange(jitter) if jitter > 0 else 0
        self.offset_index = OffsetIndex(
            self._path(".index"), base_offset, config.segment_index_bytes
        )
        self.time_index = TimeIndex(
            self._path(".timeindex"), base_offset, config.segment_index_bytes
        )
        self.size = 0
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = base_offset
        self._bytes_since_index = 0
        self._first_batch_timestamp: int | None = None

    def __repr__(self) -> str:
        return f"LogSegment({self.log_path}, size={self.size}, next_offset={self.next_offset})"

    # ---- files ---------------------------------------------------------------

    def _path(self, extension: str) -> Path:
        return self.directory / (segment_file_name(self.base_offset, extension) + self.suffix)

    @property
    def log_path(self) -> Path:
        """Path of the ``.log`` file (with the current suffix)."""
        return self._path(".log")

    def create_files(self) -> None:
        """Create an empty ``.log`` and preallocated indexes (a new active segment)."""
        os.close(os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644))
        self.offset_index.reset()
        self.time_index.reset()
        self.offset_index.write(preallocate=True)
        self.time_index.write(preallocate=True)

    def rename(self, suffix: str) -> None:
        """Rename all three files to carry ``suffix`` (``.deleted``, ``.swap``, ``""``)."""
        old_paths = [self.log_path, self.offset_index.path, self.time_index.path]
        self.suffix = suffix
        new_paths = [self.log_path, self._path(".index"), self._path(".timeindex")]
        for old, new in zip(old_paths, new_paths, strict=True):
            if old.exists():
                os.replace(old, new)
        self.offset_index.path, self.time_index.path = new_paths[1], new_paths[2]

    def delete_files(self) -> None:
        """Close and remove the segment's files."""
        self.handles.discard(self)
        self.log_path.unlink(missing_ok=True)
        self.offset_index.delete_file()
        self.time_index.delete_file()

    def write_indexes(self, *, active: bool, fsync: bool = False) -> None:
        """Mirror the index entries to disk (preallocated while ``active``)."""
        self.offset_index.write(preallocate=active, fsync=fsync)
        self.time_index.write(preallocate=active, fsync=fsync)

    def flush(self, *, active: bool) -> None:
        """fsync the ``.log`` and write and fsync both indexes."""
        with self.handles.lease(self) as fd:
            os.fsync(fd)
        self.write_indexes(active=active, fsync=True)

    def fsync(self) -> None:
        """fsync the ``.log`` and both index files (after ``write_indexes``)."""
        with self.handles.lease(self) as fd:
            os.fsync(fd)
        for path in (self.offset_index.path, self.time_index.path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def on_become_inactive(self) -> None:
        """On roll: record the final time index entry and trim both indexes."""
        if self.max_timestamp >= 0:
            self.time_index.maybe_append(
                self.max_timestamp, self.offset_of_max_timestamp, skip_full_check=True
            )
        self.write_indexes(active=False)

    def close(self) -> None:
        """Trim and write the indexes and close the descriptor."""
        self.on_become_inactive()
        self.handles.discard(self)

    # ---- appending ------------------------------------------------------------

    def _index_batch(self, header: BatchHeader, position: int) -> None:
        # Kafka's rule, batch by batch: an index entry once more than
        # index.interval.bytes were written since the last one.
        if header.max_timestamp > self.max_timestamp:
            self.max_timestamp = header.max_timestamp
            self.offset_of_max_timestamp = header.last_offset
        if self._bytes_since_index > self.config.index_interval_bytes:
            if not self.offset_index.is_full:
                self.offset_index.append(header.last_offset, position)
            if not self.time_index.is_full:
                self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
            self._bytes_since_index = 0
        self._bytes_since_index += header.size

    def append(self, data: bytes | bytearray | memoryview, headers: Sequence[BatchHeader]) -> None:
        """Write ``data`` (the concatenated ``headers``' batches) at the end."""
        position = self.size
        with self.handles.lease(self) as fd:
            view = memoryview(data)
            written = 0
            try:
                while written < len(view):
                    written += os.pwrite(fd, view[written:], position + written)
            except BaseException:
                os.ftruncate(fd, position)
                raise
        if _faults.armed():
            _faults.fire("segment.append.after_log_write")
        for header in headers:
            self._index_batch(header, position)
            position += header.size
        if self.size == 0 and headers:
            self._first_batch_timestamp = headers[0].max_timestamp
        self.size = position
        self.next_offset = headers[-1].next_offset

    def should_roll(
        self, incoming_size: int, max_timestamp: int, last_offset: int, now: int
    ) -> bool:
        """Kafka's ``shouldRoll``: size, age, index full, or relative offset overflow."""
        config = self.config
        if self.size == 0:
            return False
        first_ts = self.first_batch_timestamp()
        waited = max_timestamp - first_ts if first_ts >= 0 else now - self.created_ms
        return (
            self.size > config.segment_bytes - incoming_size
            or waited > config.segment_ms - self.roll_jitter_ms
            or self.offset_index.is_full
            or self.time_index.is_full
            or not 0 <= last_offset - self.base_offset <= _INT32_MAX
        )

    def first_batch_timestamp(self) -> int:
        """Max timestamp of the first batch (what ``segment.ms`` is measured from)."""
        if self._first_batch_timestamp is None:
            first = next(self.walk(0), None)
            self._first_batch_timestamp = first[1].max_timestamp if first else -1
        return self._first_batch_timestamp

    @property
    def largest_timestamp(self) -> int:
        """Largest record timestamp, or the file's mtime when none (as Kafka)."""
        if self.max_timestamp >= 0:
            return self.max_timestamp
        try:
            return int(self.log_path.stat().st_mtime * 1000)
        except FileNotFoundError:
            return 0

    # ---- reading ---------------------------------------------------------------

    def walk(self, start: int, end: int | None = None) -> Iterator[tuple[int, BatchHeader]]:
        """``(position, header)`` of each whole batch in ``[start, end)``,
        stopping at a partial or implausible batch."""
        stop = self.size if end is None else end
        with self.handles.lease(self) as fd:
            pos, chunk, chunk_start = start, b"", start
            while pos + BATCH_HEADER_SIZE <= stop:
                offset = pos - chunk_start
                if offset + BATCH_HEADER_SIZE > len(chunk):
                    chunk, chunk_start, offset = os.pread(fd, _WALK_CHUNK, pos), pos, 0
                    if len(chunk) < BATCH_HEADER_SIZE:
                        return
                header = read_batch_header(chunk, offset)
                if header.batch_length < _MIN_BATCH_LENGTH or pos + header.size > stop:
                    return
                yield pos, header
                pos += header.size

    def read_bytes(self, position: int, length: int) -> bytes:
        """``length`` bytes of the ``.log`` from ``position``."""
        with self.handles.lease(self) as fd:
            return os.pread(fd, length, position)

    def translate_offset(self, offset: int, start: int = 0) -> tuple[int, BatchHeader] | None:
        """Position and header of the first batch whose last offset is >= ``offset``."""
        _, position = self.offset_index.lookup(offset)
        for pos, header in self.walk(max(position, start)):
            if header.last_offset >= offset:
                return pos, header
        return None

    def read(
        self, start_offset: int, max_bytes: int, max_position: int | None, min_one: bool
    ) -> tuple[int, int, BatchHeader] | None:
        """``(position, length, first header)`` of whole batches from the one
        holding ``start_offset``, at most ``max_bytes`` (but at least one batch
        with ``min_one``) and ending at or before ``max_position``."""
        found = self.translate_offset(start_offset)
        if found is None:
            return None
        position, first = found
        end = self.size if max_position is None else min(max_position, self.size)
        if position + first.size > end:
            return position, 0, first
        limit = min(end, position + max_bytes)
        if limit == end:  # ``end`` is the file end or a batch boundary
            return position, limit - position, first
        if first.size > limit - position:
            return position, first.size if min_one else 0, first
        # Resume the header walk from the last index entry inside the range.
        cursor = max(self.offset_index.floor_position(limit), position)
        length = cursor - position
        for pos, header in self.walk(cursor, limit):
            length = pos + header.size - position
        return position, length, first

    def find_offset_by_timestamp(self, timestamp: int, start_offset: int) -> tuple[int, int] | None:
        """``(timestamp, offset)`` of the first record at or after ``start_offset``
        whose timestamp is >= ``timestamp`` (decodes one batch)."""
        _, offset = self.time_index.lookup(timestamp)
        _, position = self.offset_index.lookup(max(offset, start_offset))
        for pos, header in self.walk(position):
            if header.max_timestamp >= timestamp and header.last_offset >= start_offset:
                batch = decode_batch(self.read_bytes(pos, header.size), verify_crc=False)
                for record in batch.records:
                    if record.timestamp >= timestamp and record.offset >= start_offset:
                        return record.timestamp, record.offset
        return None
