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


class _StructSerde:
    """Error messages shared by the fixed-width number serdes."""

    __slots__ = ()

    _size: int
    _expects: str  # the accepted values, for error messages

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


# The hot paths below inline one precompiled struct call each: no helper call per record.
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")
_PACK_ERRORS = (struct.error, OverflowError, TypeError)
_UNPACK_ERRORS = (struct.error, TypeError)


class IntegerSerde(_StructSerde, Serde[int]):
    """A 32-bit signed integer, 4 bytes big-endian (Kafka's ``IntegerSerializer``)."""

    __slots__ = ()
    _size = 4
    _expects = "an int in [-2**31, 2**31 - 1]"

    def serialize(self, obj: int | None) -> bytes | None:
        """The 4 bytes of ``obj``."""
        if obj is None:
            return None
        try:
            return _INT.pack(obj)
        except _PACK_ERRORS as exc:
            raise self._bad_value(obj) from exc

    def deserialize(self, data: bytes | None) -> int | None:
        """The integer in 4 bytes."""
        if data is None:
            return None
        try:
            value: int = _INT.unpack(data)[0]
        except _UNPACK_ERRORS as exc:
            raise self._bad_data(data) from exc
        return value


class LongSerde(_StructSerde, Serde[int]):
    """A 64-bit signed integer, 8 bytes big-endian (Kafka's ``LongSerializer``)."""

    __slots__ = ()
    _size = 8
    _expects = "an int in [-2**63, 2**63 - 1]"

    def serialize(self, obj: int | None) -> bytes | None:
        """The 8 bytes of ``obj``."""
        if obj is None:
            return None
        try:
            return _LONG.pack(obj)
        except _PACK_ERRORS as exc:
            raise self._bad_value(obj) from exc

    def deserialize(self, data: bytes | None) -> int | None:
        """The integer in 8 bytes."""
        if data is None:
            return None
        try:
            value: int = _LONG.unpack(data)[0]
        except _UNPACK_ERRORS as exc:
            raise self._bad_data(data) from exc
        return value


class FloatSerde(_StructSerde, Serde[float]):
    """An IEEE 754 binary32, 4 bytes big-endian (Kafka's ``FloatSerializer``).

    Values round to the nearest binary32; values beyond its range raise."""

    __slots__ = ()
    _size = 4
    _expects = "a float within binary32 range"

    def serialize(self, obj: float | None) -> bytes | None:
        """The 4 bytes of ``obj``."""
        if obj is None:
            return None
        try:
            return _FLOAT.pack(obj)
        except _PACK_ERRORS as exc:
            raise self._bad_value(obj) from exc

    def deserialize(self, data: bytes | None) -> float | None:
        """The float in 4 bytes."""
        if data is None:
            return None
        try:
            value: float = _FLOAT.unpack(data)[0]
        except _UNPACK_ERRORS as exc:
            raise self._bad_data(data) from exc
        return value


class DoubleSerde(_StructSerde, Serde[float]):
    """An IEEE 754 binary64, 8 bytes big-endian (Kafka's ``DoubleSerializer``)."""

    __slots__ = ()
    _size = 8
    _expects = "a float"

    def serialize(self, obj: float | None) -> bytes | None:
        """The 8 bytes of ``obj``."""
        if obj is None:
            return None
        try:
            return _DOUBLE.pack(obj)
        except _PACK_ERRORS as exc:
            raise self._bad_value(obj) from exc

    def deserialize(self, data: bytes | None) -> float | None:
        """The float in 8 bytes."""
        if data is None:
            return None
        try:
            value: float = _DOUBLE.unpack(data)[0]
        except _UNPACK_ERRORS as exc:
            raise self._bad_data(data) from exc
        return value
