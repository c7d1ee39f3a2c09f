"""What ``PartitionLog`` hands back: append results, read ranges, ``ListOffsets`` answers.

These are plain frozen values, kept apart from the log so handlers and
benchmarks can name them without reaching into the log's machinery.
``FileRange`` is the zero-copy read result: it names whole batches as a byte
range of one segment file, so a Fetch handler can ``sendfile`` them::

    <base>.log   ... | batch | batch | batch | batch | ...
                     ^ position          length ^
                     first_offset = base offset of the first batch

The three ``ListOffsets`` sentinels are Kafka's negative timestamps; a
``TimestampAndOffset`` answering one carries timestamp -1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tidal.log.storage._segment import LogSegment

__all__ = [
    "EARLIEST_TIMESTAMP",
    "LATEST_TIMESTAMP",
    "MAX_TIMESTAMP",
    "FileRange",
    "LogAppendInfo",
    "TimestampAndOffset",
]

#: ``ListOffsets`` sentinels accepted by ``offset_for_timestamp``.
LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2
MAX_TIMESTAMP = -3


@dataclass(frozen=True, slots=True)
class LogAppendInfo:
    """What an append did; ``log_append_time`` is -1 unless LogAppendTime."""

    first_offset: int
    last_offset: int
    log_append_time: int
    log_start_offset: int
    max_timestamp: int
    records_count: int
    valid_bytes: int


@dataclass(frozen=True, slots=True)
class TimestampAndOffset:
    """A ``ListOffsets`` answer; ``timestamp`` is -1 for the sentinels."""

    timestamp: int
    offset: int
    leader_epoch: int | None


@dataclass(frozen=True, slots=True)
class FileRange:
    """Whole batches as a byte range of one ``.log`` file, ready for ``sendfile``.

    >>> rng = log.read(0, 1 << 20)                        # doctest: +SKIP
    >>> with rng.lease() as fd:                           # doctest: +SKIP
    ...     os.sendfile(sock.fileno(), fd, rng.position, rng.length)
    """

    segment: LogSegment
    position: int
    length: int
    #: base offset of the first batch, -1 when empty
    first_offset: int

    @property
    def path(self) -> Path:
        """The segment file (its name changes if it is deleted meanwhile)."""
        return self.segment.log_path

    @contextmanager
    def lease(self) -> Iterator[int]:
        """A descriptor that stays open for the ``with`` block."""
        with self.segment.handles.lease(self.segment) as fd:
            yield fd

    def read_bytes(self) -> bytes:
        """The range's bytes."""
        return self.segment.read_bytes(self.position, self.length) if self.length else b""
