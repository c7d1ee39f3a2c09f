"""Sparse offset index and time index of a segment, in Kafka's file format.

``<base>.index`` maps offsets to file positions, 8 bytes per entry::

    0  relative_offset  int32   offset - segment base offset
    4  position         int32   byte position of the batch in <base>.log

``<base>.timeindex`` maps timestamps to offsets, 12 bytes per entry::

    0  timestamp        int64   largest timestamp seen so far in the segment
    8  relative_offset  int32   last offset of the batch that carried it

Both are big-endian and strictly increasing. While a segment is active its
index files are preallocated to ``segment.index.bytes`` (rounded down to a
whole entry) and trimmed to their entries on roll and close, like Kafka. The
entries live in compact ``array`` columns searched with ``bisect``; appends
are written to the file on ``flush`` (a crash loses at most what recovery
rebuilds anyway).
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from bisect import bisect_right
from pathlib import Path

from tidal.log.storage._errors import CorruptIndexError

__all__ = ["OffsetIndex", "TimeIndex"]

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
_INT32_MAX = 2**31 - 1
_NO_TIMESTAMP = -1


class _Index:
    """Columns of entries plus the bookkeeping to mirror them to a file."""

    entry_size = 0

    def __init__(self, path: Path, base_offset: int, max_index_size: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.max_entries = max_index_size // self.entry_size
        self._keys: array[int] = array("q")  # relative offsets or timestamps
        self._values: array[int] = array("q")  # positions or relative offsets
        self._written = 0  # entries already in the file
        self._shrunk = False  # entries were removed since the last write

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def is_full(self) -> bool:
        """No room for another entry within ``segment.index.bytes``."""
        return len(self._keys) >= self.max_entries

    def _pack(self, key: int, value: int) -> bytes:
        raise NotImplementedError

    def _unpack(self, data: bytes) -> None:
        raise NotImplementedError

    def load(self) -> None:
        """Read the entries from the file (missing file: none).

        Raises ``CorruptIndexError`` when the size is not a whole number of
        entries; call ``sanity_check`` for the content checks.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        if len(data) % self.entry_size:
            raise CorruptIndexError(
                f"{self.path}: size {len(data)} is not a multiple of {self.entry_size}"
            )
        self._keys = array("q")
        self._values = array("q")
        self._unpack(data)
        self._written = len(self._keys)
        self._shrunk = False

    def reset(self) -> None:
        """Drop every entry (before a rebuild)."""
        self._keys = array("q")
        self._values = array("q")
        self._shrunk = True
        self._written = 0

    def _truncate_entries(self, keep: int) -> None:
        if keep < len(self._keys):
            del self._keys[keep:]
            del self._values[keep:]
            self._shrunk = True
            self._written = min(self._written, keep)

    def write(self, *, preallocate: bool, fsync: bool = False) -> None:
        """Bring the file up to date with the entries.

        ``preallocate`` sizes the file to ``max_entries`` (active segment);
        otherwise it is trimmed to exactly the entries (Kafka's ``trimToValidSize``).
        """
        count = len(self._keys)
        exact = count * self.entry_size
        target = self.max_entries * self.entry_size if preallocate else exact
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if self._shrunk and size > exact:
                os.ftruncate(fd, exact)  # zero whatever follows when regrown
                size = exact
            if self._written < count:
                out = b"".join(
                    self._pack(self._keys[i], self._values[i]) for i in range(self._written, count)
                )
                os.pwrite(fd, out, self._written * self.entry_size)
                size = max(size, exact)
            if size != max(target, exact):
                os.ftruncate(fd, max(target, exact))
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._written = count
        self._shrunk = False

    def delete_file(self) -> None:
        """Remove the index file if present."""
        self.path.unlink(missing_ok=True)


class OffsetIndex(_Index):
    """Relative offset → position, one entry every ``index.interval.bytes``."""

    entry_size = 8

    def _pack(self, key: int, value: int) -> bytes:
        return _OFFSET_ENTRY.pack(key, value)

    def _unpack(self, data: bytes) -> None:
        column = array("i", data)
        if sys.byteorder == "little":
            column.byteswap()
        self._keys = array("q", column[0::2])
        self._values = array("q", column[1::2])

    @property
    def last_offset(self) -> int:
        """Absolute offset of the last entry, or the base offset when empty."""
        return self.base_offset + self._keys[-1] if self._keys else self.base_offset

    def entries(self) -> list[tuple[int, int]]:
        """All entries as ``(absolute offset, position)``."""
        return [(self.base_offset + k, v) for k, v in zip(self._keys, self._values, strict=True)]

    def append(self, offset: int, position: int) -> None:
        """Add an entry; offsets must increase and fit the 32-bit relative offset."""
        relative = offset - self.base_offset
        if self._keys and relative <= self._keys[-1]:
            raise CorruptIndexError(
                f"{self.path}: offset {offset} is not above the last entry {self.last_offset}"
            )
        if not 0 <= relative <= _INT32_MAX:
            raise CorruptIndexError(f"{self.path}: offset {offset} is out of the segment's range")
        if self.is_full:
            raise CorruptIndexError(f"{self.path}: index is full ({self.max_entries} entries)")
        self._keys.append(relative)
        self._values.append(position)

    def lookup(self, offset: int) -> tuple[int, int]:
        """``(offset, position)`` of the last entry at or below ``offset``;
        ``(base_offset, 0)`` when there is none."""
        i = bisect_right(self._keys, offset - self.base_offset) - 1
        if i < 0:
            return self.base_offset, 0
        return self.base_offset + self._keys[i], self._values[i]

    def floor_position(self, position: int) -> int:
        """The largest indexed position at or below ``position``, or -1."""
        i = bisect_right(self._values, position) - 1
        return self._values[i] if i >= 0 else -1

    def truncate_to(self, offset: int) -> None:
        """Remove entries for offsets at or above ``offset``."""
        self._truncate_entries(bisect_right(self._keys, offset - self.base_offset - 1))

    def sanity_check(self, log_size: int) -> None:
        """Raise ``CorruptIndexError`` unless offsets and positions strictly
        increase and every position lies inside the ``.log``."""
        previous_key = previous_position = -1
        for key, position in zip(self._keys, self._values, strict=True):
            if key <= previous_key or position <= previous_position or position >= log_size:
                raise CorruptIndexError(
                    f"{self.path}: entry (relative offset {key}, position {position}) is out of "
                    f"order or beyond the log size {log_size}"
                )
            previous_key, previous_position = key, position


class TimeIndex(_Index):
    """Timestamp → relative offset; appended only when the timestamp grows."""

    entry_size = 12

    def _pack(self, key: int, value: int) -> bytes:
        return _TIME_ENTRY.pack(key, value)

    def _unpack(self, data: bytes) -> None:
        for timestamp, relative in _TIME_ENTRY.iter_unpack(data):
            self._keys.append(timestamp)
            self._values.append(relative)

    @property
    def is_full(self) -> bool:
        """Kafka keeps the last slot free for the entry written on roll."""
        return len(self._keys) >= self.max_entries - 1

    @property
    def last_entry(self) -> tuple[int, int]:
        """``(timestamp, offset)`` of the last entry, ``(-1, base_offset)`` when empty."""
        if not self._keys:
            return _NO_TIMESTAMP, self.base_offset
        return self._keys[-1], self.base_offset + self._values[-1]

    def entries(self) -> list[tuple[int, int]]:
        """All entries as ``(timestamp, absolute offset)``."""
        return [(k, self.base_offset + v) for k, v in zip(self._keys, self._values, strict=True)]

    def maybe_append(self, timestamp: int, offset: int, *, skip_full_check: bool = False) -> None:
        """Add ``(timestamp, offset)`` if ``timestamp`` is above the last entry's."""
        if not skip_full_check and self.is_full:
            raise CorruptIndexError(f"{self.path}: time index is full")
        last_ts, last_offset = self.last_entry
        if self._keys and offset < last_offset:
            raise CorruptIndexError(
                f"{self.path}: offset {offset} is below the last entry's {last_offset}"
            )
        if timestamp > last_ts and len(self._keys) < self.max_entries:
            self._keys.append(timestamp)
            self._values.append(offset - self.base_offset)

    def lookup(self, timestamp: int) -> tuple[int, int]:
        """``(timestamp, offset)`` of the last entry at or below ``timestamp``;
        ``(-1, base_offset)`` when there is none."""
        i = bisect_right(self._keys, timestamp) - 1
        if i < 0:
            return _NO_TIMESTAMP, self.base_offset
        return self._keys[i], self.base_offset + self._values[i]

    def truncate_to(self, offset: int) -> None:
        """Remove entries whose offset is at or above ``offset``."""
        relative = offset - self.base_offset
        keep = len(self._values)
        while keep and self._values[keep - 1] >= relative:
            keep -= 1
        self._truncate_entries(keep)

    def sanity_check(self, last_offset: int) -> None:
        """Raise ``CorruptIndexError`` unless timestamps and offsets increase and
        no entry points past ``last_offset`` (the segment's last offset)."""
        previous_ts, previous_rel = _NO_TIMESTAMP, -1
        for timestamp, relative in zip(self._keys, self._values, strict=True):
            if (
                timestamp <= previous_ts
                or relative < previous_rel
                or relative < 0
                or self.base_offset + relative > last_offset
            ):
                raise CorruptIndexError(
                    f"{self.path}: entry (timestamp {timestamp}, relative offset {relative}) is "
                    f"out of order or beyond the segment's last offset {last_offset}"
                )
            previous_ts, previous_rel = timestamp, relative
