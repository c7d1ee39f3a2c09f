"""Compression codecs of record batches (attributes bits 0-2).

A compressed batch keeps its 61-byte header in the clear; only the records
section is compressed, as one unit::

    +--------------------+------------------------------------------+
    | header (61 bytes)  | codec(record 0 | record 1 | ... | n-1)    |
    +--------------------+------------------------------------------+

What each codec's payload looks like, as written by the clients in the field::

    gzip    RFC 1952 members; readers accept several members back to back
    snappy  raw block:   [uvarint uncompressed length][snappy elements]
            xerial (Java, kafka-python):
            | 82 'SNAPPY' 00 | int32 version | int32 min compat |
            | int32 BE length | raw block | int32 BE length | raw block | ...
    lz4     LZ4 frame(s): magic 04 22 4D 18, FLG, BD, [content size], HC,
            blocks, end mark 00000000; FLG bit 5 (block independence) set,
            since Java's reader rejects linked blocks
    zstd    zstd frame(s), content size often absent (Java streams them)

We write gzip, raw snappy (as librdkafka does; Java and every other reader
accept it), independent-block lz4 frames without content size or checksum
(as Java does) and single zstd frames.

Reading is defensive: ``max_size`` caps the decompressed size so that a small
batch cannot expand into gigabytes, and whatever a codec library raises on
malformed input comes out as :class:`CorruptRecordError` naming the codec.
"""

from __future__ import annotations

import io
import zlib
from enum import IntEnum

import cramjam
import lz4.frame
import zstandard

from tidal.log.records._errors import CorruptRecordError, UnsupportedCompressionError

__all__ = ["Compression", "compress", "decompress"]

_Buffer = bytes | bytearray | memoryview

#: Default cap of :func:`decompress` output.
DEFAULT_MAX_SIZE = 1 << 30

_GZIP_WBITS = 31  # zlib: gzip container, 32 KiB window
_GZIP_LEVEL = 6  # java.util.zip.Deflater's default, as GZIPOutputStream uses
_ZSTD_LEVEL = 3  # zstd's and Kafka's default
_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER_SIZE = 16
_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE_MASK = 0xFFFFFFF0
_ZSTD_SKIPPABLE_MAGIC = 0x184D2A50
_ZSTD_READ_CHUNK = 256 * 1024

# Exceptions the codec libraries raise on malformed input. zstandard's and
# cramjam's error classes derive from Exception only, so they are named.
_LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    zlib.error,
    cramjam.DecompressionError,
    zstandard.ZstdError,
    RuntimeError,
    ValueError,
    OverflowError,
    EOFError,
    OSError,
)


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


def compress(codec: Compression, data: _Buffer) -> bytes:
    """Compress ``data`` (a batch's concatenated records) with ``codec``.

    >>> decompress(Compression.LZ4, compress(Compression.LZ4, b"abc" * 10))
    b'abcabcabcabcabcabcabcabcabcabc'
    """
    if codec is Compression.NONE:
        return bytes(data)
    if codec is Compression.GZIP:
        deflate = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        return deflate.compress(data) + deflate.flush()
    if codec is Compression.SNAPPY:
        return bytes(cramjam.snappy.compress_raw(data))
    if codec is Compression.LZ4:
        frame: bytes = lz4.frame.compress(
            data,
            block_size=lz4.frame.BLOCKSIZE_MAX64KB,
            block_linked=False,
            content_checksum=False,
            store_size=False,
        )
        return frame
    if codec is Compression.ZSTD:
        return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)
    raise UnsupportedCompressionError(f"unknown compression codec {codec!r}")


def decompress(codec: Compression, data: _Buffer, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Decompress a batch's records section; output larger than ``max_size``
    raises :class:`CorruptRecordError`, as does any malformed input."""
    if codec is Compression.NONE:
        if len(data) > max_size:
            raise _too_large(codec, max_size)
        return bytes(data)
    reader = _DECOMPRESSORS.get(codec)
    if reader is None:
        raise UnsupportedCompressionError(f"unknown compression codec {codec!r}")
    try:
        return reader(memoryview(data), max_size)
    except CorruptRecordError:
        raise
    except _LIBRARY_ERRORS as exc:
        raise CorruptRecordError(f"{codec.name.lower()}: malformed data: {exc}") from exc


def _too_large(codec: Compression, max_size: int) -> CorruptRecordError:
    return CorruptRecordError(f"{codec.name.lower()}: decompressed size exceeds {max_size} bytes")


def _corrupt(codec: Compression, why: str) -> CorruptRecordError:
    return CorruptRecordError(f"{codec.name.lower()}: {why}")


def _gzip_decompress(data: memoryview, max_size: int) -> bytes:
    out = bytearray()
    rest: bytes | memoryview = data
    while True:
        inflate = zlib.decompressobj(_GZIP_WBITS)
        # With max_length a call returns early only when the output hit the
        # limit, so a short answer means all input was consumed.
        out += inflate.decompress(rest, max_size - len(out) + 1)
        if len(out) > max_size:
            raise _too_large(Compression.GZIP, max_size)
        if not inflate.eof:
            raise _corrupt(Compression.GZIP, "truncated stream")
        # Zero padding after a member is allowed, as gzip(1) and Python's
        # gzip module allow it; anything else must be another member.
        rest = inflate.unused_data.lstrip(b"\x00")
        if not rest:
            return bytes(out)


def _snappy_decompress(data: memoryview, max_size: int) -> bytes:
    if len(data) < _XERIAL_HEADER_SIZE or data[: len(_XERIAL_MAGIC)] != _XERIAL_MAGIC:
        # No valid raw block starts with the xerial magic (its third byte
        # would be a copy before any literal), so the check is unambiguous.
        return _snappy_raw(data, max_size)
    out = bytearray()
    pos = _XERIAL_HEADER_SIZE
    while pos < len(data):
        if pos + 4 > len(data):
            raise _corrupt(Compression.SNAPPY, "truncated xerial chunk length")
        length = int.from_bytes(data[pos : pos + 4], "big", signed=True)
        pos += 4
        if length < 0 or pos + length > len(data):
            raise _corrupt(Compression.SNAPPY, f"bad xerial chunk length {length}")
        out += _snappy_raw(data[pos : pos + length], max_size - len(out))
        pos += length
    return bytes(out)


def _snappy_raw(block: memoryview, max_size: int) -> bytes:
    """One raw snappy block, its size checked before anything is allocated."""
    size = 0
    for i in range(5):  # the preamble is a uvarint of at most 32 bits
        if i >= len(block):
            raise _corrupt(Compression.SNAPPY, "truncated block preamble")
        byte = block[i]
        size |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            break
    else:
        raise _corrupt(Compression.SNAPPY, "bad block preamble")
    if size > max_size:
        raise _too_large(Compression.SNAPPY, max_size)
    return bytes(cramjam.snappy.decompress_raw(block))


def _lz4_decompress(data: memoryview, max_size: int) -> bytes:
    out = bytearray()
    rest: bytes | memoryview = data
    while True:
        frame = lz4.frame.LZ4FrameDecompressor()
        out += frame.decompress(rest, max_length=max_size - len(out) + 1)
        if len(out) > max_size:
            raise _too_large(Compression.LZ4, max_size)
        if not frame.eof:
            raise _corrupt(Compression.LZ4, "truncated frame")
        rest = frame.unused_data
        if not rest:
            return bytes(out)


def _zstd_decompress(data: memoryview, max_size: int) -> bytes:
    # zstandard's stream reader decodes frames without a content size and
    # across frames with bounded reads, but it stops silently at a truncated
    # frame; walking the frame structure first catches that.
    _zstd_check_frames(data)
    out = bytearray()
    source = io.BytesIO(data)
    with zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True) as reader:
        while chunk := reader.read(min(_ZSTD_READ_CHUNK, max_size - len(out) + 1)):
            out += chunk
            if len(out) > max_size:
                raise _too_large(Compression.ZSTD, max_size)
    return bytes(out)


def _zstd_check_frames(data: memoryview) -> None:
    """Check that ``data`` is a sequence of complete zstd frames (RFC 8878
    section 3.1), reading only frame and block headers."""
    pos = 0
    end = len(data)
    if end == 0:
        raise _corrupt(Compression.ZSTD, "empty input")
    while pos < end:
        if pos + 4 > end:
            raise _corrupt(Compression.ZSTD, "truncated frame magic")
        magic = int.from_bytes(data[pos : pos + 4], "little")
        if magic & _ZSTD_SKIPPABLE_MASK == _ZSTD_SKIPPABLE_MAGIC:
            if pos + 8 > end:
                raise _corrupt(Compression.ZSTD, "truncated skippable frame")
            pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
            continue
        if magic != _ZSTD_MAGIC:
            raise _corrupt(Compression.ZSTD, f"bad frame magic {magic:#010x}")
        if pos + 5 > end:
            raise _corrupt(Compression.ZSTD, "truncated frame header")
        descriptor = data[pos + 4]
        single_segment = descriptor >> 5 & 1
        content_size_bytes = (single_segment, 2, 4, 8)[descriptor >> 6]
        pos += 5 + (1 - single_segment) + (0, 1, 2, 4)[descriptor & 3] + content_size_bytes
        last_block = False
        while not last_block:
            if pos + 3 > end:
                raise _corrupt(Compression.ZSTD, "truncated block header")
            block_header = int.from_bytes(data[pos : pos + 3], "little")
            last_block = bool(block_header & 1)
            block_type = block_header >> 1 & 3
            pos += 3 + (1 if block_type == 1 else block_header >> 3)
        pos += 4 if descriptor & 4 else 0  # content checksum
    if pos > end:
        raise _corrupt(Compression.ZSTD, "truncated frame")


_DECOMPRESSORS = {
    Compression.GZIP: _gzip_decompress,
    Compression.SNAPPY: _snappy_decompress,
    Compression.LZ4: _lz4_decompress,
    Compression.ZSTD: _zstd_decompress,
}
