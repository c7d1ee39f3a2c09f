"""Zigzag varints used inside record batches (protobuf ``sint32``/``sint64``).

Records use *signed* zigzag varints for every length and delta; the unsigned
varints of flexible RPC bodies live in the protocol package instead.
"""

from __future__ import annotations

from tidal.log.records._errors import CorruptRecordError

__all__ = ["read_varint", "varint_size", "write_varint"]

_MAX_SHIFT = 63


def write_varint(value: int, out: bytearray) -> None:
    """Append ``value`` to ``out`` as a zigzag varint (up to 64 bits)."""
    zz = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    while zz > 0x7F:
        out.append((zz & 0x7F) | 0x80)
        zz >>= 7
    out.append(zz)


def varint_size(value: int) -> int:
    """The number of bytes :func:`write_varint` uses for ``value``."""
    zz = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    return (zz.bit_length() + 6) // 7 or 1


def read_varint(buf: bytes | bytearray | memoryview, pos: int, end: int) -> tuple[int, int]:
    """Decode a zigzag varint at ``pos`` that must end before ``end``.

    Returns ``(value, next_pos)``; a varint running past ``end`` or longer than
    ten bytes raises :class:`CorruptRecordError`.
    """
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise CorruptRecordError("varint runs past the end of its buffer")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > _MAX_SHIFT:
            raise CorruptRecordError("varint longer than 10 bytes")
    result &= 0xFFFFFFFFFFFFFFFF
    return (result >> 1) ^ -(result & 1), pos
