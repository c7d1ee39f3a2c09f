"""Fetch data straight from segment files to the socket.

A Fetch handler puts a :class:`SegmentChunk` (a ``FileRange`` of whole
batches) in a partition's ``records``; the connection's encoder keeps it out
of line and the server hands it to :func:`send_chunk`, which leases the
segment's descriptor (so retention cannot close it under us) and lets
``loop.sendfile`` call ``os.sendfile``. ``loop.sendfile`` first waits for the
transport's buffer to drain and pauses reading meanwhile, so it pays only for
ranges big enough: ``Broker.sendfile_min_bytes`` is that threshold, smaller
ranges are read with ``pread`` and written with the rest of the frame.
"""

from __future__ import annotations

import asyncio

from tidal.log.protocol import RecordsChunk
from tidal.log.storage import FileRange

__all__ = ["DEFAULT_SENDFILE_MIN_BYTES", "SegmentChunk", "send_chunk"]

#: Ranges of at least this many bytes are sent with sendfile (see the module
#: docstring and the measurement in ``bench/broker``); ``None`` disables it.
DEFAULT_SENDFILE_MIN_BYTES: int | None = 256 * 1024


class SegmentChunk(RecordsChunk):
    """Records of a Fetch response as a byte range of a segment file."""

    __slots__ = ("range",)

    def __init__(self, rng: FileRange) -> None:
        self.range = rng

    def __len__(self) -> int:
        return self.range.length

    def read_bytes(self) -> bytes:
        return self.range.read_bytes()

    def __repr__(self) -> str:
        return f"SegmentChunk({self.range.path.name}@{self.range.position}+{self.range.length})"


async def send_chunk(
    loop: asyncio.AbstractEventLoop, transport: asyncio.WriteTransport, chunk: SegmentChunk
) -> None:
    """Write ``chunk`` to ``transport`` with sendfile (after what is buffered)."""
    rng = chunk.range
    with rng.lease() as fd, open(fd, "rb", buffering=0, closefd=False) as file:
        sent = await loop.sendfile(transport, file, rng.position, rng.length)
    if sent != rng.length:
        raise ConnectionError(f"sent {sent} of {rng.length} bytes of {rng.path}")
