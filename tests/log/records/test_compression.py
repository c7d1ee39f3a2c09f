"""Compression codecs: round trips, the formats other clients write, and
defensive decoding (malformed input, decompression bombs)."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable

import cramjam
import lz4.frame
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from tidal.log.records._compression import Compression, compress, decompress
from tidal.log.records._errors import CorruptRecordError, UnsupportedCompressionError

CODECS = list(Compression)
COMPRESSED = [c for c in Compression if c is not Compression.NONE]

XERIAL_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)


def xerial(data: bytes, chunk_size: int = 32 * 1024) -> bytes:
    """Snappy in xerial framing, as Java's SnappyOutputStream writes it."""
    out = bytearray(XERIAL_HEADER)
    for i in range(0, len(data), chunk_size):
        block = bytes(cramjam.snappy.compress_raw(data[i : i + chunk_size]))
        out += struct.pack(">i", len(block)) + block
    return bytes(out)


def records_like(n: int) -> bytes:
    """Compressible bytes resembling a records section."""
    return b"".join(b"\x00key-%d\x00value-%d-%s" % (i, i, b"x" * (i % 17)) for i in range(n))


# -- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
@given(data=st.binary(max_size=4096))
def test_round_trip(codec: Compression, data: bytes) -> None:
    assert decompress(codec, compress(codec, data)) == data


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_round_trip_large_and_compressible(codec: Compression) -> None:
    data = records_like(20_000)  # several hundred KiB: many lz4 blocks, xerial-sized chunks
    packed = compress(codec, data)
    if codec is not Compression.NONE:
        assert len(packed) < len(data) // 3
    assert decompress(codec, memoryview(packed)) == data


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_accepts_buffers(codec: Compression) -> None:
    data = records_like(50)
    for buf in (data, bytearray(data), memoryview(data)):
        packed = compress(codec, buf)
        assert decompress(codec, bytearray(packed)) == data


# -- formats written by other clients -----------------------------------------


def test_gzip_is_an_rfc1952_stream() -> None:
    data = records_like(100)
    packed = compress(Compression.GZIP, data)
    assert packed[:3] == b"\x1f\x8b\x08"
    assert gzip.decompress(packed) == data


def test_gzip_reads_multiple_members_and_zero_padding() -> None:
    one, two = records_like(10), records_like(20)
    stream = gzip.compress(one) + gzip.compress(two, mtime=0) + b"\x00" * 8
    assert decompress(Compression.GZIP, stream) == one + two


def test_gzip_rejects_trailing_garbage() -> None:
    with pytest.raises(CorruptRecordError, match="gzip"):
        decompress(Compression.GZIP, gzip.compress(b"abc") + b"garbage")


def test_snappy_writes_raw_blocks() -> None:
    data = records_like(100)
    packed = compress(Compression.SNAPPY, data)
    assert not packed.startswith(b"\x82SNAPPY")
    assert bytes(cramjam.snappy.decompress_raw(packed)) == data


@pytest.mark.parametrize("size", [0, 1, 1000, 32 * 1024, 100_000])
def test_snappy_reads_xerial_framing(size: int) -> None:
    data = records_like(size // 10 + 1)[:size]
    framed = xerial(data)
    assert framed.startswith(b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
    assert decompress(Compression.SNAPPY, framed) == data


def test_snappy_reads_xerial_with_little_endian_version() -> None:
    # Some producers (an old Redpanda) wrote version and compat little-endian;
    # like Java and kafka-python we do not look at them.
    data = records_like(30)
    framed = bytearray(xerial(data))
    framed[8:16] = struct.pack("<ii", 1, 1)
    assert decompress(Compression.SNAPPY, bytes(framed)) == data


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"\x00\x00", id="short-length"),
        pytest.param(b"\x00\x00\x00\x10abc", id="length-past-end"),
        pytest.param(b"\xff\xff\xff\xff", id="negative-length"),
    ],
)
def test_snappy_rejects_bad_xerial_chunks(tail: bytes) -> None:
    with pytest.raises(CorruptRecordError, match="snappy"):
        decompress(Compression.SNAPPY, xerial(b"hello") + tail)


def test_lz4_frames_are_block_independent() -> None:
    packed = compress(Compression.LZ4, records_like(20_000))
    assert packed[:4] == b"\x04\x22\x4d\x18"  # frame magic, little-endian 0x184D2204
    flg = packed[4]
    assert flg >> 6 == 0b01  # version
    assert flg & 0x20, "FLG bit 5 (block independence) must be set: Java rejects linked blocks"
    assert not flg & 0x10  # no block checksums
    assert not flg & 0x04  # no content checksum
    info = lz4.frame.get_frame_info(packed)
    assert info["block_linked"] is False
    assert info["block_size"] == 64 * 1024  # Java's reader and writer use 64 KiB blocks


def test_lz4_reads_frames_with_content_size_and_checksums() -> None:
    data = records_like(500)
    packed = lz4.frame.compress(data, store_size=True, content_checksum=True, block_checksum=True)
    assert decompress(Compression.LZ4, packed) == data


def test_lz4_reads_concatenated_frames() -> None:
    one, two = records_like(10), records_like(40)
    packed = lz4.frame.compress(one) + lz4.frame.compress(two, block_linked=False)
    assert decompress(Compression.LZ4, packed) == one + two


def test_zstd_reads_frames_without_content_size() -> None:
    data = records_like(5000)
    writer = zstandard.ZstdCompressor(write_content_size=False)
    packed = writer.compress(data)
    assert zstandard.get_frame_parameters(packed).content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert decompress(Compression.ZSTD, packed) == data


def test_zstd_reads_a_streamed_multi_frame_payload() -> None:
    # What a streaming writer that flushes frames produces (zstd-jni, Java).
    parts = [records_like(n) for n in (1, 300, 7000)]
    packed = b"".join(
        zstandard.ZstdCompressor(write_content_size=False, write_checksum=i % 2 == 0).compress(p)
        for i, p in enumerate(parts)
    )
    skippable = struct.pack("<II", 0x184D2A5E, 4) + b"skip"
    assert decompress(Compression.ZSTD, packed + skippable) == b"".join(parts)


def test_zstd_rejects_a_truncated_frame() -> None:
    packed = zstandard.ZstdCompressor(write_content_size=False).compress(records_like(300))
    for cut in (1, 3, len(packed) // 2):
        with pytest.raises(CorruptRecordError, match="zstd"):
            decompress(Compression.ZSTD, packed[:-cut])


@pytest.mark.parametrize("codec", COMPRESSED, ids=lambda c: c.name)
def test_truncated_and_empty_input_is_corrupt(codec: Compression) -> None:
    packed = compress(codec, records_like(300))
    with pytest.raises(CorruptRecordError, match=codec.name.lower()):
        decompress(codec, packed[: len(packed) // 2])
    with pytest.raises(CorruptRecordError, match=codec.name.lower()):
        decompress(codec, b"")


# -- defensive decoding ---------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_max_size_is_enforced(codec: Compression) -> None:
    data = b"\x00" * 100_000
    packed = compress(codec, data)
    assert decompress(codec, packed, max_size=len(data)) == data
    with pytest.raises(CorruptRecordError, match="exceeds 99999 bytes"):
        decompress(codec, packed, max_size=len(data) - 1)


BOMBS: list[tuple[Compression, Callable[[bytes], bytes]]] = [
    (Compression.GZIP, gzip.compress),
    (Compression.SNAPPY, xerial),
    (Compression.SNAPPY, lambda d: bytes(cramjam.snappy.compress_raw(d))),
    (Compression.LZ4, lambda d: lz4.frame.compress(d, store_size=False)),
    (Compression.ZSTD, zstandard.ZstdCompressor(write_content_size=False).compress),
]


@pytest.mark.parametrize(("codec", "make"), BOMBS, ids=["gzip", "xerial", "snappy", "lz4", "zstd"])
def test_decompression_bomb_is_stopped(codec: Compression, make: Callable[[bytes], bytes]) -> None:
    packed = make(b"\x00" * (64 << 20))
    assert len(packed) < 4 << 20
    with pytest.raises(CorruptRecordError, match="exceeds"):
        decompress(codec, packed, max_size=1 << 20)


@pytest.mark.parametrize("codec", COMPRESSED, ids=lambda c: c.name)
@settings(max_examples=300)
@given(data=st.binary(max_size=512))
def test_garbage_raises_only_corrupt_record_error(codec: Compression, data: bytes) -> None:
    try:
        decompress(codec, data, max_size=1 << 16)
    except CorruptRecordError as exc:
        message = str(exc)
    else:
        return
    assert codec.name.lower() in message


@pytest.mark.parametrize("codec", COMPRESSED, ids=lambda c: c.name)
@settings(max_examples=300)
@given(data=st.data())
def test_mutated_payloads_raise_only_corrupt_record_error(
    codec: Compression, data: st.DataObject
) -> None:
    packed = bytearray(compress(codec, records_like(40)))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(packed) - 1))
        packed[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(packed)))
    try:
        decompress(codec, bytes(packed[:cut]), max_size=1 << 16)
    except CorruptRecordError as exc:
        message = str(exc)
    else:
        return
    assert codec.name.lower() in message


def test_unknown_codec_id() -> None:
    for codec_id in (5, 6, 7):
        with pytest.raises(UnsupportedCompressionError, match=f"id {codec_id}"):
            Compression.from_id(codec_id)
    assert issubclass(UnsupportedCompressionError, CorruptRecordError)
    assert UnsupportedCompressionError.kafka_error_code == 76
    assert [Compression.from_id(i) for i in range(5)] == list(Compression)
