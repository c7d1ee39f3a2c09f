"""The aborted-transaction index: Kafka's ``.txnindex`` files.

Each segment that holds ABORT markers has a ``<base offset>.txnindex`` next to
its ``.log``, an append-only file of 34-byte entries, one per aborted
transaction whose marker lies in that segment (Kafka's ``TransactionIndex``
and ``AbortedTxn``)::

    0      2             10             18            26                 34
    | int16 | int64       | int64        | int64       | int64            |
    |version| producerId  | firstOffset  | lastOffset  | lastStableOffset |

``version`` is 0; ``firstOffset`` is the first offset the producer wrote in
the transaction on this partition, ``lastOffset`` the offset of the ABORT
marker, ``lastStableOffset`` the partition's last stable offset once the
transaction was decided. A ``read_committed`` Fetch lists the aborted
transactions overlapping the range it returns so the consumer can drop their
records (``collect``).

``TransactionIndex`` keeps every file of one partition directory in memory
(a few dozen bytes per aborted transaction) and appends to the files. No
asyncio: the broker calls it under the partition's append path.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TXN_INDEX_SUFFIX", "AbortedTxn", "CorruptTxnIndexError", "TransactionIndex"]

_log = logging.getLogger(__name__)

TXN_INDEX_SUFFIX = ".txnindex"
_ENTRY = struct.Struct(">hqqqq")
_FILE = re.compile(r"^(\d{20})\.txnindex$")


class CorruptTxnIndexError(ValueError):
    """A ``.txnindex`` entry that does not parse."""


@dataclass(frozen=True, slots=True)
class AbortedTxn:
    """One aborted transaction on one partition (Kafka's ``AbortedTxn``)."""

    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int

    #: entries are this many bytes on disk
    SIZE = _ENTRY.size

    def encode(self) -> bytes:
        """The 34-byte entry, version 0."""
        return _ENTRY.pack(
            0, self.producer_id, self.first_offset, self.last_offset, self.last_stable_offset
        )

    @classmethod
    def decode(cls, data: bytes | memoryview, position: int = 0) -> AbortedTxn:
        """The entry at ``position`` of ``data``."""
        if len(data) - position < _ENTRY.size:
            raise CorruptTxnIndexError(f"{len(data) - position} bytes left, an entry needs 34")
        version, pid, first, last, stable = _ENTRY.unpack_from(data, position)
        if version != 0:
            raise CorruptTxnIndexError(f"unknown aborted transaction entry version {version}")
        return cls(pid, first, last, stable)


def txn_index_path(directory: Path, base_offset: int) -> Path:
    """``<directory>/<20-digit base offset>.txnindex``."""
    return directory / f"{base_offset:020d}{TXN_INDEX_SUFFIX}"


class TransactionIndex:
    """Every ``.txnindex`` of one partition directory.

    >>> index = TransactionIndex(log.directory)                  # doctest: +SKIP
    >>> index.append(AbortedTxn(7, 100, 130, 131), segment_base=0)  # doctest: +SKIP
    >>> index.collect(fetch_offset=90, upper_bound_offset=200)   # doctest: +SKIP
    [AbortedTxn(producer_id=7, first_offset=100, last_offset=130, last_stable_offset=131)]
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        #: entries by the base offset of the segment (file) holding their marker
        self._files: dict[int, list[AbortedTxn]] = {}
        self._sorted: list[AbortedTxn] = []
        self._ends: list[int] = []
        self._last_offset = -1
        # Retention and truncation run on the log manager's thread, reads on the loop.
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        for path in sorted(self.directory.iterdir()) if self.directory.exists() else ():
            match = _FILE.match(path.name)
            if match is None:
                continue
            data = path.read_bytes()
            entries, position = [], 0
            try:
                while position + _ENTRY.size <= len(data):
                    entries.append(AbortedTxn.decode(data, position))
                    position += _ENTRY.size
            except CorruptTxnIndexError as exc:
                _log.warning(
                    "%s: keeping %d entries before a corrupt one: %s", path, len(entries), exc
                )
            if position != len(data):  # a torn or corrupt tail: keep whole entries only
                with open(path, "r+b") as f:
                    f.truncate(position)
            self._files[int(match.group(1))] = entries
        self._recompute_last()

    def _recompute_last(self) -> None:
        # ``_sorted`` (every entry by marker offset) and ``_ends`` (their marker
        # offsets) let ``collect`` bisect instead of scanning every entry.
        self._sorted = [e for base in sorted(self._files) for e in self._files[base]]
        self._sorted.sort(key=lambda e: e.last_offset)
        self._ends = [e.last_offset for e in self._sorted]
        self._last_offset = self._ends[-1] if self._ends else -1

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._files.values())

    def entries(self) -> list[AbortedTxn]:
        """Every entry, in offset order of their markers."""
        return list(self._sorted)

    def append(self, entry: AbortedTxn, *, segment_base: int) -> None:
        """Add ``entry`` to the file of the segment holding its marker.

        Markers are appended in offset order, so a marker at or below the
        last one indexed is a replay of one already known and is skipped.
        """
        with self._lock:
            if entry.last_offset <= self._last_offset:
                return
            with open(txn_index_path(self.directory, segment_base), "ab") as f:
                f.write(entry.encode())
            self._files.setdefault(segment_base, []).append(entry)
            self._sorted.append(entry)
            self._ends.append(entry.last_offset)
            self._last_offset = entry.last_offset

    def collect(self, fetch_offset: int, upper_bound_offset: int) -> list[AbortedTxn]:
        """Aborted transactions a Fetch from ``fetch_offset`` must report when
        it returns data below ``upper_bound_offset`` (Kafka's
        ``collectAbortedTxns``): the marker at or after the fetch offset, the
        first offset below the bound."""
        with self._lock:
            start = bisect.bisect_left(self._ends, fetch_offset)
            return [e for e in self._sorted[start:] if e.first_offset < upper_bound_offset]

    def truncate_to(self, offset: int) -> None:
        """Forget entries whose marker is at or above ``offset`` (log truncation)."""
        with self._lock:
            for base in sorted(self._files):
                entries = self._files[base]
                kept = [e for e in entries if e.last_offset < offset]
                if len(kept) == len(entries):
                    continue
                path = txn_index_path(self.directory, base)
                if kept:
                    with open(path, "r+b") as f:
                        f.truncate(len(kept) * _ENTRY.size)
                    self._files[base] = kept
                else:
                    path.unlink(missing_ok=True)
                    del self._files[base]
            self._recompute_last()

    def delete_before(self, base_offset: int) -> None:
        """Delete the files of segments below ``base_offset`` (deleted segments)."""
        with self._lock:
            for base in [b for b in self._files if b < base_offset]:
                txn_index_path(self.directory, base).unlink(missing_ok=True)
                del self._files[base]
            self._recompute_last()

    def flush(self, from_base: int = 0) -> None:
        """fsync the files of segments from ``from_base`` on."""
        with self._lock:
            bases = [b for b in self._files if b >= from_base]
        for base in bases:
            path = txn_index_path(self.directory, base)
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
