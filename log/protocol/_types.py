"""Wire primitives of the Kafka protocol, each with ``encode`` and ``decode``.

Layouts (big-endian throughout)::

    INT8/16/32/64, UINT16, FLOAT64    fixed width
    BOOLEAN                           int8, 0 = false
    VARINT / VARLONG                  zigzag varint (records use these)
    UNSIGNED_VARINT                   7 bits per byte, low group first, <= 5 bytes
    UUID                              16 bytes
    STRING / NULLABLE_STRING          int16 length (-1 = null) + UTF-8
    COMPACT_[NULLABLE_]STRING         uvarint length+1 (0 = null) + UTF-8
    [NULLABLE_]BYTES                  int32 length (-1 = null) + bytes
    COMPACT_[NULLABLE_]BYTES          uvarint length+1 (0 = null) + bytes
    RECORDS                           NULLABLE_BYTES, COMPACT_NULLABLE_BYTES when flexible
    ARRAY(T) / COMPACT_ARRAY(T)       int32 count (-1 = null) / uvarint count+1, then items
    TAGGED_FIELDS                     uvarint count, then (uvarint tag, uvarint size, bytes)

Every decoder takes ``(buf, pos)`` where ``buf`` ends where the message ends,
checks each length against the bytes left and against :class:`DecodeLimits`
before it allocates, and raises only :class:`ProtocolDecodeError`. The
message compiler (``_compiler.py``) inlines the same layouts into generated
code; these objects serve headers, hand-written codecs and tests.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tidal.log.protocol._exceptions import ProtocolDecodeError, ProtocolEncodeError

__all__ = [
    "BOOLEAN",
    "BYTES",
    "COMPACT_BYTES",
    "COMPACT_NULLABLE_BYTES",
    "COMPACT_NULLABLE_STRING",
    "COMPACT_STRING",
    "DEFAULT_LIMITS",
    "FLOAT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "NULLABLE_BYTES",
    "NULLABLE_STRING",
    "RECORDS",
    "STRING",
    "TAGGED_FIELDS",
    "UINT16",
    "UNSIGNED_VARINT",
    "UUID",
    "VARINT",
    "VARLONG",
    "ZERO_UUID",
    "Array",
    "Buffer",
    "CompactArray",
    "DecodeLimits",
    "Primitive",
    "read_uvarint",
    "write_uvarint",
]

T = TypeVar("T")
Buffer = bytes | bytearray | memoryview

#: Kafka's all-zero UUID, the "no topic id" value.
ZERO_UUID = uuid.UUID(int=0)
#: Kafka rejects strings longer than ``Short.MAX_VALUE`` bytes, compact or not.
MAX_STRING_LENGTH = 0x7FFF


@dataclass(frozen=True)
class DecodeLimits:
    """Upper bounds a decoder enforces before allocating, on top of the bytes left.

    ``max_bytes`` bounds BYTES and RECORDS fields (default: Kafka's
    ``socket.request.max.bytes``); ``max_array_length`` bounds array counts.

    ``records_views`` is not a bound but rides along because codecs are
    compiled per limits: when set, a RECORDS field decoded from a
    ``memoryview`` is a slice of that view (no copy) rather than ``bytes``.
    Only a caller that owns the decoded buffer and never reuses it may set
    it (the protocol engine does, for a client's responses).
    """

    max_bytes: int = 104_857_600
    max_array_length: int = 1 << 24
    records_views: bool = False


DEFAULT_LIMITS = DecodeLimits()


def read_uvarint(buf: Buffer, pos: int) -> tuple[int, int]:
    """Decode an unsigned varint of at most 5 bytes (a uint32) at ``pos``."""
    try:
        b = buf[pos]
        if b < 0x80:
            return b, pos + 1
        result = b & 0x7F
        shift = 7
        while True:
            pos += 1
            b = buf[pos]
            result |= (b & 0x7F) << shift
            if b < 0x80:
                if result >> 32:  # a fifth byte may carry only 4 bits
                    raise ProtocolDecodeError(f"unsigned varint exceeds 32 bits: {result}")
                return result, pos + 1
            shift += 7
            if shift > 28:
                raise ProtocolDecodeError("unsigned varint longer than 5 bytes")
    except IndexError:
        raise ProtocolDecodeError("unsigned varint runs past the end of the message") from None


def write_uvarint(value: int, out: bytearray) -> None:
    """Append ``value`` (0 <= value < 2**32) as an unsigned varint."""
    if value < 0x80:
        out.append(value)
        return
    if value >> 32:
        raise ProtocolEncodeError(f"unsigned varint out of range: {value}")
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _read_zigzag(buf: Buffer, pos: int, max_bytes: int) -> tuple[int, int]:
    result = 0
    shift = 0
    for _ in range(max_bytes):
        if pos >= len(buf):
            raise ProtocolDecodeError("varint runs past the end of the message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
    raise ProtocolDecodeError(f"varint longer than {max_bytes} bytes")


def _write_zigzag(value: int, out: bytearray, bits: int) -> None:
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ProtocolEncodeError(f"varint out of range for {bits} bits: {value}")
    zz = ((value << 1) ^ (value >> (bits - 1))) & ((1 << bits) - 1)
    while zz > 0x7F:
        out.append((zz & 0x7F) | 0x80)
        zz >>= 7
    out.append(zz)


class Primitive(Generic[T]):
    """A wire type: ``encode(value, out)`` appends, ``decode(buf, pos)`` reads.

    ``family`` names the layout for the message compiler; ``default`` is the
    value a field of this type takes when a version does not carry it.
    """

    family: str = ""
    default: Any = None

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def encode(self, value: T, out: bytearray) -> None:
        raise NotImplementedError

    def decode(self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS) -> tuple[T, int]:
        raise NotImplementedError


class _Fixed(Primitive[T]):
    family = "fixed"

    def __init__(self, name: str, fmt: str, default: T) -> None:
        super().__init__(name)
        self.fmt = fmt
        self.default = default
        self._struct = struct.Struct(">" + fmt)
        self.size = self._struct.size

    def encode(self, value: T, out: bytearray) -> None:
        try:
            out += self._struct.pack(value)
        except struct.error as e:
            raise ProtocolEncodeError(f"{self.name}: {e} ({value!r})") from None

    def decode(self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS) -> tuple[T, int]:
        if pos + self.size > len(buf):
            raise ProtocolDecodeError(f"{self.name} runs past the end of the message")
        return self._struct.unpack_from(buf, pos)[0], pos + self.size


class _Zigzag(Primitive[int]):
    family = "zigzag"
    default = 0

    def __init__(self, name: str, bits: int) -> None:
        super().__init__(name)
        self.bits = bits
        self.max_bytes = (bits + 6) // 7

    def encode(self, value: int, out: bytearray) -> None:
        _write_zigzag(value, out, self.bits)

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[int, int]:
        return _read_zigzag(buf, pos, self.max_bytes)


class _UnsignedVarint(Primitive[int]):
    family = "uvarint"
    default = 0

    def encode(self, value: int, out: bytearray) -> None:
        if value < 0:
            raise ProtocolEncodeError(f"unsigned varint out of range: {value}")
        write_uvarint(value, out)

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[int, int]:
        return read_uvarint(buf, pos)


class _Uuid(Primitive[uuid.UUID]):
    family = "uuid"
    default = ZERO_UUID

    def encode(self, value: uuid.UUID, out: bytearray) -> None:
        out += value.bytes

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[uuid.UUID, int]:
        if pos + 16 > len(buf):
            raise ProtocolDecodeError("uuid runs past the end of the message")
        return uuid.UUID(bytes=bytes(buf[pos : pos + 16])), pos + 16


class _Sized(Primitive[Any]):
    """Strings and byte strings: a length prefix then the payload."""

    def __init__(self, name: str, family: str, *, nullable: bool, compact: bool) -> None:
        super().__init__(name)
        self.family = family
        self.nullable = nullable
        self.compact = compact
        self.default = None if nullable else ("" if family == "string" else b"")
        self._len = struct.Struct(">h" if family == "string" else ">i")

    def encode(self, value: Any, out: bytearray) -> None:
        if value is None:
            if not self.nullable:
                raise ProtocolEncodeError(f"{self.name} is not nullable")
            if self.compact:
                out.append(0)
            else:
                out += self._len.pack(-1)
            return
        data = value.encode() if self.family == "string" else bytes(value)
        if self.family == "string" and len(data) > MAX_STRING_LENGTH:
            raise ProtocolEncodeError(f"{self.name} longer than {MAX_STRING_LENGTH} bytes")
        if self.compact:
            write_uvarint(len(data) + 1, out)
        else:
            out += self._len.pack(len(data))
        out += data

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[Any, int]:
        if self.compact:
            n, pos = read_uvarint(buf, pos)
            n -= 1
        else:
            if pos + self._len.size > len(buf):
                raise ProtocolDecodeError(f"{self.name} length runs past the end of the message")
            n = self._len.unpack_from(buf, pos)[0]
            pos += self._len.size
        if n < 0:
            if n == -1 and self.nullable:
                return None, pos
            raise ProtocolDecodeError(f"{self.name} has invalid length {n}")
        limit = MAX_STRING_LENGTH if self.family == "string" else limits.max_bytes
        if n > len(buf) - pos or n > limit:
            raise ProtocolDecodeError(f"{self.name} of {n} bytes exceeds the bytes left or limit")
        end = pos + n
        if self.family == "string":
            try:
                return str(buf[pos:end], "utf-8"), end
            except UnicodeDecodeError:
                raise ProtocolDecodeError(f"{self.name} is not valid UTF-8") from None
        return bytes(buf[pos:end]), end


class Array(Primitive[Any]):
    """An int32-counted array of ``element`` (count -1 = null when nullable)."""

    family = "array"
    compact = False

    def __init__(self, element: Primitive[Any], *, nullable: bool = False) -> None:
        prefix = "Compact" if self.compact else ""
        super().__init__(f"{prefix}Array({element.name})")
        self.element = element
        self.nullable = nullable
        self.default = None if nullable else []

    def encode(self, value: Any, out: bytearray) -> None:
        if value is None:
            if not self.nullable:
                raise ProtocolEncodeError(f"{self.name} is not nullable")
            out += b"\x00" if self.compact else b"\xff\xff\xff\xff"
            return
        if self.compact:
            write_uvarint(len(value) + 1, out)
        else:
            out += struct.pack(">i", len(value))
        for item in value:
            self.element.encode(item, out)

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[Any, int]:
        if self.compact:
            n, pos = read_uvarint(buf, pos)
            n -= 1
        else:
            n, pos = INT32.decode(buf, pos)
        if n < 0:
            if n == -1 and self.nullable:
                return None, pos
            raise ProtocolDecodeError(f"{self.name} has invalid count {n}")
        if n > len(buf) - pos or n > limits.max_array_length:
            raise ProtocolDecodeError(f"{self.name} of {n} items exceeds the bytes left or limit")
        items = []
        for _ in range(n):
            item, pos = self.element.decode(buf, pos, limits)
            items.append(item)
        return items, pos


class CompactArray(Array):
    """A uvarint-counted array (count+1, 0 = null when nullable)."""

    compact = True


class _TaggedFields(Primitive[dict[int, bytes]]):
    """A tagged-field section as raw ``{tag: payload}``; the compiler decodes
    known tags itself and keeps unknown ones in this form."""

    family = "tagged"

    def encode(self, value: dict[int, bytes], out: bytearray) -> None:
        write_uvarint(len(value), out)
        for tag in sorted(value):
            write_uvarint(tag, out)
            write_uvarint(len(value[tag]), out)
            out += value[tag]

    def decode(
        self, buf: Buffer, pos: int, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> tuple[dict[int, bytes], int]:
        count, pos = read_uvarint(buf, pos)
        fields: dict[int, bytes] = {}
        for _ in range(count):
            tag, pos = read_uvarint(buf, pos)
            size, pos = read_uvarint(buf, pos)
            if size > len(buf) - pos:
                raise ProtocolDecodeError(f"tagged field {tag} runs past the end")
            fields[tag] = bytes(buf[pos : pos + size])
            pos += size
        return fields, pos


INT8: Primitive[int] = _Fixed("INT8", "b", 0)
INT16: Primitive[int] = _Fixed("INT16", "h", 0)
INT32: Primitive[int] = _Fixed("INT32", "i", 0)
INT64: Primitive[int] = _Fixed("INT64", "q", 0)
UINT16: Primitive[int] = _Fixed("UINT16", "H", 0)
FLOAT64: Primitive[float] = _Fixed("FLOAT64", "d", 0.0)
BOOLEAN: Primitive[bool] = _Fixed("BOOLEAN", "?", False)
VARINT: Primitive[int] = _Zigzag("VARINT", 32)
VARLONG: Primitive[int] = _Zigzag("VARLONG", 64)
UNSIGNED_VARINT: Primitive[int] = _UnsignedVarint("UNSIGNED_VARINT")
UUID: Primitive[uuid.UUID] = _Uuid("UUID")
STRING: Primitive[str] = _Sized("STRING", "string", nullable=False, compact=False)
NULLABLE_STRING: Primitive[str | None] = _Sized(
    "NULLABLE_STRING", "string", nullable=True, compact=False
)
COMPACT_STRING: Primitive[str] = _Sized("COMPACT_STRING", "string", nullable=False, compact=True)
COMPACT_NULLABLE_STRING: Primitive[str | None] = _Sized(
    "COMPACT_NULLABLE_STRING", "string", nullable=True, compact=True
)
BYTES: Primitive[bytes] = _Sized("BYTES", "bytes", nullable=False, compact=False)
NULLABLE_BYTES: Primitive[bytes | None] = _Sized(
    "NULLABLE_BYTES", "bytes", nullable=True, compact=False
)
COMPACT_BYTES: Primitive[bytes] = _Sized("COMPACT_BYTES", "bytes", nullable=False, compact=True)
COMPACT_NULLABLE_BYTES: Primitive[bytes | None] = _Sized(
    "COMPACT_NULLABLE_BYTES", "bytes", nullable=True, compact=True
)
TAGGED_FIELDS: Primitive[dict[int, bytes]] = _TaggedFields("TAGGED_FIELDS")
#: Record batches inside Produce and Fetch: NULLABLE_BYTES on the wire, and
#: COMPACT_NULLABLE_BYTES in flexible versions (the compiler picks).
RECORDS: Primitive[bytes | None] = _Sized("RECORDS", "records", nullable=True, compact=False)
