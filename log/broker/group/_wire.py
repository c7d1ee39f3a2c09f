"""The few Kafka encoding primitives the ``__consumer_offsets`` records need.

Big-endian fixed-width ints, int16-length strings, int32-length bytes and
int32-count arrays; in flexible versions unsigned-varint lengths plus one
(0 meaning null) and tagged fields. Every length is checked against the bytes
left before anything is sliced, so a corrupt record raises
``CorruptGroupRecordError`` and never allocates what it claims.
"""

from __future__ import annotations

import struct
from typing import NoReturn

__all__ = ["CorruptGroupRecordError", "Reader", "Writer", "subscribed_topics"]

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


class CorruptGroupRecordError(ValueError):
    """A ``__consumer_offsets`` key or value (or a subscription) that does not parse."""


class Reader:
    """A cursor over one encoded struct; ``flexible`` switches to compact encodings."""

    def __init__(self, data: bytes, *, flexible: bool = False) -> None:
        self.data = data
        self.pos = 0
        self.flexible = flexible

    def fail(self, why: str) -> NoReturn:
        """Raise ``CorruptGroupRecordError`` naming the position."""
        raise CorruptGroupRecordError(f"{why} at byte {self.pos} of {len(self.data)}")

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            self.fail(f"{n} bytes wanted, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int16(self) -> int:
        """A big-endian int16."""
        value: int = _I16.unpack(self._take(2))[0]
        return value

    def int32(self) -> int:
        """A big-endian int32."""
        value: int = _I32.unpack(self._take(4))[0]
        return value

    def int64(self) -> int:
        """A big-endian int64."""
        value: int = _I64.unpack(self._take(8))[0]
        return value

    def uvarint(self) -> int:
        """An unsigned varint (at most 5 bytes)."""
        value = shift = 0
        while True:
            byte = self._take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                self.fail("varint longer than 5 bytes")

    def _length(self, wide: bool) -> int:
        """A length; -1 for null."""
        if self.flexible:
            return self.uvarint() - 1
        return self.int32() if wide else self.int16()

    def nullable_string(self) -> str | None:
        """A (compact) nullable string."""
        n = self._length(wide=False)
        if n < 0:
            return None
        try:
            return self._take(n).decode()
        except UnicodeDecodeError:
            self.fail("string is not UTF-8")

    def string(self) -> str:
        """A (compact) string that may not be null."""
        value = self.nullable_string()
        if value is None:
            self.fail("null string")
        return value

    def blob(self) -> bytes:
        """(Compact) bytes; null reads as empty."""
        n = self._length(wide=True)
        return b"" if n < 0 else self._take(n)

    def array_length(self) -> int:
        """A (compact) array count; null reads as empty."""
        n = self._length(wide=True)
        if n > len(self.data) - self.pos:
            self.fail(f"array of {n} elements")
        return max(n, 0)

    def tagged_fields(self) -> None:
        """Skip a tagged-field section (flexible versions only)."""
        if not self.flexible:
            return
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self._take(self.uvarint())


class Writer:
    """Append-only classic (non-flexible) encoder."""

    def __init__(self) -> None:
        self.out = bytearray()

    def int16(self, value: int) -> None:
        """A big-endian int16."""
        self.out += _I16.pack(value)

    def int32(self, value: int) -> None:
        """A big-endian int32."""
        self.out += _I32.pack(value)

    def int64(self, value: int) -> None:
        """A big-endian int64."""
        self.out += _I64.pack(value)

    def nullable_string(self, value: str | None) -> None:
        """An int16-length string, -1 for null."""
        if value is None:
            self.int16(-1)
            return
        data = value.encode()
        self.int16(len(data))
        self.out += data

    def string(self, value: str) -> None:
        """An int16-length string."""
        self.nullable_string(value)

    def blob(self, value: bytes) -> None:
        """int32-length bytes."""
        self.int32(len(value))
        self.out += value

    def done(self) -> bytes:
        """The encoded bytes."""
        return bytes(self.out)


def subscribed_topics(subscription: bytes) -> set[str]:
    """The topics of a "consumer" protocol subscription (any version).

    Every ConsumerProtocolSubscription version starts with ``int16 version``
    and ``topics [string]``; later fields are left unread, as Kafka's readers
    do. Raises ``CorruptGroupRecordError`` when the bytes do not parse.
    """
    r = Reader(subscription)
    r.int16()
    return {r.string() for _ in range(r.array_length())}
