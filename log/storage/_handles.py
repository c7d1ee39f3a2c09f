"""``FileHandleCache``: a bound on the ``.log`` descriptors a broker keeps open.

A broker with many partitions has far more segment files than it may hold
descriptors (``ulimit -n``), so segments do not own theirs: every read,
write and fsync borrows one from a cache shared by all segments of a
``LogManager`` and sized by its ``max_open_files``. The least recently used
descriptor is closed when the bound is passed, but never one that is lent
out: a ``sendfile`` in flight must not see its descriptor closed under it.
A segment deleted while a lease holds its descriptor is marked ``doomed``
and closed when the last lease ends. The cache asks nothing of a segment but
the path of its ``.log`` and is keyed by the segment object itself.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

__all__ = ["FileHandleCache", "SegmentFile"]


class SegmentFile(Protocol):
    """What the cache needs of a segment (``LogSegment`` is one)."""

    @property
    def log_path(self) -> Path:
        """Path of the segment's ``.log`` file."""
        ...


class _Handle:
    __slots__ = ("doomed", "fd", "pins")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pins = 0
        self.doomed = False


class FileHandleCache:
    """A bound on open ``.log`` descriptors shared by many segments.

    ``lease`` pins a descriptor for the duration of a ``with`` block; only
    unpinned ones are closed when more than ``max_open`` are open.
    """

    def __init__(self, max_open: int = 1024) -> None:
        self.max_open = max_open
        self._handles: OrderedDict[SegmentFile, _Handle] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def open_count(self) -> int:
        """Descriptors currently open."""
        return len(self._handles)

    @contextmanager
    def lease(self, segment: SegmentFile) -> Iterator[int]:
        """Yield an open descriptor (read/write) for ``segment``'s ``.log``."""
        with self._lock:
            handle = self._handles.get(segment)
            if handle is None:
                handle = _Handle(os.open(segment.log_path, os.O_RDWR))
                self._handles[segment] = handle
            else:
                self._handles.move_to_end(segment)
            handle.pins += 1  # pinned before evicting so it cannot close itself
            self._evict()
        try:
            yield handle.fd
        finally:
            with self._lock:
                handle.pins -= 1
                if handle.doomed and handle.pins == 0:
                    os.close(handle.fd)

    def _evict(self) -> None:
        if len(self._handles) <= self.max_open:
            return
        for segment, handle in list(self._handles.items()):
            if handle.pins == 0:
                del self._handles[segment]
                os.close(handle.fd)
                if len(self._handles) <= self.max_open:
                    return

    def discard(self, segment: SegmentFile) -> None:
        """Close ``segment``'s descriptor (once no lease holds it)."""
        with self._lock:
            handle = self._handles.pop(segment, None)
            if handle is None:
                return
            if handle.pins:
                handle.doomed = True
            else:
                os.close(handle.fd)
