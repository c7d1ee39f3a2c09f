"""Serdes for bytes, text and fixed-width numbers, byte-compatible with Kafka's.

The numeric serdes write what Kafka's Java serializers write:

=============  ==========================================  ============
serde          layout                                      Kafka class
=============  ==========================================  ============
IntegerSerde   4 bytes, big-endian two's complement         IntegerSerializer
LongSerde      8 bytes, big-endian two's complement         LongSerializer
FloatSerde     4 bytes, IEEE 754 binary32, big-endian      FloatSerializer
DoubleSerde    8 bytes, IEEE 754 binary64, big-endian      DoubleSerializer
=============  ==========================================  ============
"""

from __future__ import annotations

import struct
from typing import ClassVar, Generic, TypeVar

from tidal.streams.serdes._base import Serde, SerializationError, _preview

__all__ = [
    "BytesSerde",
    "DoubleSerde",
    "FloatSerde",
    "IntegerSerde",
    "LongSerde",
    "StringSerde",
]


class BytesSerde(Serde[bytes]):
    """Bytes as they are (``bytearray`` and ``memoryview`` are copied to ``bytes``)."""

    __slots__ = ()

    def serialize(self, obj: bytes | bytearray | memoryview | None) -> bytes | None:
        """``obj`` itself."""
        if obj is None or type(obj) is bytes:
            return obj
        if isinstance(obj, bytearray | memoryview):
            return bytes(obj)
        raise SerializationError(f"BytesSerde expects bytes, got {type(obj).__name__}")

    def deserialize(self, data: bytes | None) -> bytes | None:
        """``data`` itself."""
        return data

    def __repr__(self) -> str:
        return "BytesSerde()"


class StringSerde(Serde[str]):
    """Text in UTF-8 (Kafka's ``StringSerializer`` default)."""

    __slots__ = ()

    def serialize(self, obj: str | None) -> bytes | None:
        """The UTF-8 bytes of ``obj``."""
        if obj is None:
            return None
        if type(obj) is not str and not isinstance(obj, str):
            raise SerializationError(f"StringSerde expects str, got {type(obj).__name__}")
        try:
            return obj.encode()
        except UnicodeEncodeError as exc:
            raise SerializationError(f"StringSerde cannot encode {obj!r}: {exc}") from exc

    def deserialize(self, data: bytes | None) -> str | None:
        """``data`` decoded as UTF-8."""
        if data is None:
            return None
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            raise SerializationError(
                f"StringSerde expects UTF-8, got {_preview(data)}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return "StringSerde()"


_N = TypeVar("_N", int, float)

_PACK_ERRORS = (struct.error, OverflowError, TypeError)
_UNPACK_ERRORS = (struct.error, TypeError)


class _StructSerde(Generic[_N]):
    """The fixed-width number serdes: one precompiled ``struct.Struct`` per class.

    The hot paths make one struct call each: no helper call per record."""

    __slots__ = ()

    _struct: ClassVar[struct.Struct]
    _size: int
    _expects: str  # the accepted values, for error messages

    def serialize(self, obj: _N | None) -> bytes | None:
        """The ``_size`` big-endian bytes of ``obj``."""
        if obj is None:
            return None
        try:
            return self._struct.pack(obj)
        except _PACK_ERRORS as exc:
            raise self._bad_value(obj) from exc

    def deserialize(self, data: bytes | None) -> _N | None:
        """The number in ``_size`` big-endian bytes."""
        if data is None:
            return None
        try:
            value: _N = self._struct.unpack(data)[0]
        except _UNPACK_ERRORS as exc:
            raise self._bad_data(data) from exc
        return value

    def _bad_value(self, obj: object) -> SerializationError:
        return SerializationError(f"{type(self).__name__} expects {self._expects}, got {obj!r}")

    def _bad_data(self, data: object) -> SerializationError:
        got = (
            f"{len(data)}"
            if isinstance(data, bytes | bytearray | memoryview)
            else type(data).__name__
        )
        return SerializationError(f"{type(self).__name__} expects {self._size} bytes, got {got}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IntegerSerde(_StructSerde[int], Serde[int]):
    """A 32-bit signed integer, 4 bytes big-endian (Kafka's ``IntegerSerializer``)."""

    __slots__ = ()
    _struct = struct.Struct(">i")
    _size = 4
    _expects = "an int in [-2**31, 2**31 - 1]"


class LongSerde(_StructSerde[int], Serde[int]):
    """A 64-bit signed integer, 8 bytes big-endian (Kafka's ``LongSerializer``)."""

    __slots__ = ()
    _struct = struct.Struct(">q")
    _size = 8
    _expects = "an int in [-2**63, 2**63 - 1]"


class FloatSerde(_StructSerde[float], Serde[float]):
    """An IEEE 754 binary32, 4 bytes big-endian (Kafka's ``FloatSerializer``).

    Values round to the nearest binary32; values beyond its range raise."""

    __slots__ = ()
    _struct = struct.Struct(">f")
    _size = 4
    _expects = "a float within binary32 range"


class DoubleSerde(_StructSerde[float], Serde[float]):
    """An IEEE 754 binary64, 8 bytes big-endian (Kafka's ``DoubleSerializer``)."""

    __slots__ = ()
    _struct = struct.Struct(">d")
    _size = 8
    _expects = "a float"
