"""Compression codecs of record batches (attributes bits 0-2).

PLACEHOLDER: being implemented. Contract:

    class Compression(IntEnum): NONE=0, GZIP=1, SNAPPY=2, LZ4=3, ZSTD=4
    def compress(codec: Compression, data: bytes) -> bytes
    def decompress(codec: Compression, data: bytes | memoryview, max_size: int = ...) -> bytes
"""

from __future__ import annotations

from enum import IntEnum

from tidal.log.records._errors import CorruptRecordError, UnsupportedCompressionError

__all__ = ["Compression", "compress", "decompress"]


class Compression(IntEnum):
    """Codec ids as stored in the low three bits of a batch's attributes."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @classmethod
    def from_id(cls, codec_id: int) -> Compression:
        """The codec for an attributes value's low bits; unknown ids raise
        :class:`UnsupportedCompressionError`."""
        try:
            return cls(codec_id)
        except ValueError:
            raise UnsupportedCompressionError(f"unknown compression codec id {codec_id}") from None


def compress(codec: Compression, data: bytes) -> bytes:
    """Compress ``data`` (a batch's concatenated records) with ``codec``."""
    if codec is Compression.NONE:
        return data
    raise NotImplementedError(codec)


def decompress(codec: Compression, data: bytes | memoryview, max_size: int = 1 << 30) -> bytes:
    """Decompress a batch's records section; output larger than ``max_size``
    raises :class:`CorruptRecordError`."""
    if codec is Compression.NONE:
        return bytes(data)
    raise CorruptRecordError(f"codec {codec.name} not available")
