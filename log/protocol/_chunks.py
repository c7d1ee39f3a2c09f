"""Records kept out of line: the hook that lets a broker ``sendfile`` Fetch data.

A ``RECORDS`` field normally holds bytes. A broker serving a Fetch may put a
:class:`RecordsChunk` there instead: an object that knows its length and can
produce its bytes, but that the I/O layer would rather copy from a file to
the socket itself. Encoding into a :class:`PiecesBuffer` writes the field's
length prefix and remembers where the chunk goes; :meth:`PiecesBuffer.pieces`
then cuts the frame into ``bytes`` runs and chunks, in wire order::

    [ size | header | ... | records len ] [ chunk ] [ ... | records len ] [ chunk ] [ ... ]
      bytes                                 file      bytes                  file      bytes

Encoding a chunk into any other ``bytearray`` reads it (``read_bytes``), so a
message holding chunks still encodes everywhere; nothing here does I/O itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Piece", "PiecesBuffer", "RecordsChunk", "put_records"]


class RecordsChunk:
    """Record bytes not in memory (a byte range of a segment file, say).

    Subclasses implement ``__len__`` and :meth:`read_bytes`; the I/O layer
    recognises its own subclass and writes it without a copy.
    """

    __slots__ = ()

    def __len__(self) -> int:
        raise NotImplementedError

    def read_bytes(self) -> bytes:
        """The chunk's bytes (what encoding into a plain buffer writes)."""
        raise NotImplementedError


Piece = bytes | bytearray | RecordsChunk


class PiecesBuffer(bytearray):
    """An encode target that keeps :class:`RecordsChunk` values out of line."""

    __slots__ = ("chunks",)

    def __init__(self, initial: bytes | bytearray = b"") -> None:
        super().__init__(initial)
        #: (position in this buffer, chunk) in the order they were encoded
        self.chunks: list[tuple[int, RecordsChunk]] = []

    @property
    def chunk_bytes(self) -> int:
        """Bytes the chunks add to the encoded message."""
        return sum(len(chunk) for _, chunk in self.chunks)

    def pieces(self) -> list[Piece]:
        """The message as ``bytes`` runs and chunks, in wire order."""
        if not self.chunks:
            return [bytearray(self)]
        out: list[Piece] = []
        start = 0
        view = memoryview(self)
        for position, chunk in self.chunks:
            if position > start:
                out.append(bytes(view[start:position]))
            out.append(chunk)
            start = position
        if start < len(self):
            out.append(bytes(view[start:]))
        view.release()
        return out


def put_records(out: bytearray, value: Any) -> None:
    """Write a ``RECORDS`` value (its length prefix is already written)."""
    if isinstance(value, RecordsChunk):
        if isinstance(out, PiecesBuffer):
            out.chunks.append((len(out), value))
        else:
            out += value.read_bytes()
    else:
        out += value
