"""Golden record batches from real clients, and our batches read by real clients.

``vectors/*.bin`` hold one batch each, made by kafka-python, aiokafka,
librdkafka and the Java producer with each codec, all for the ten records of
``vectors/records.json`` (see ``vectors/generate.py``). We must decode every
one of them to exactly those records, and the clients' readers must decode
ours.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.log.records import (
    BATCH_HEADER_SIZE,
    Compression,
    CorruptRecordError,
    Header,
    Record,
    SimpleRecord,
    crc32c,
    decode_batch,
    decompress,
    encode_batch,
    validate_batch,
)

VECTORS = Path(__file__).parent / "vectors"
CLIENTS = ("kafka-python", "aiokafka", "librdkafka", "java")
INSTALL = "pip install -e .[test]"


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else bytes.fromhex(text)


def _load_records() -> list[Record]:
    doc = json.loads((VECTORS / "records.json").read_text())
    return [
        Record(
            offset=r["offset"],
            timestamp=r["timestamp"],
            key=_bytes(r["key"]),
            value=_bytes(r["value"]),
            headers=tuple(Header(k, _bytes(v)) for k, v in r["headers"]),
        )
        for r in doc["records"]
    ]


EXPECTED = _load_records()
SOURCES: dict[str, dict[str, Any]] = json.loads((VECTORS / "sources.json").read_text())
VECTOR_FILES = sorted(p.name for p in VECTORS.glob("*.bin"))
SIMPLE_RECORDS = [SimpleRecord(r.value, r.key, r.timestamp, r.headers) for r in EXPECTED]


def _vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def _codec_of(name: str) -> Compression:
    return Compression[SOURCES[name]["codec"].upper()]


def test_every_client_and_codec_has_a_vector() -> None:
    expected = {f"{client}-{codec.name.lower()}.bin" for client in CLIENTS for codec in Compression}
    assert set(VECTOR_FILES) == expected
    assert set(SOURCES) == expected


# -- their batches, our decoder ---------------------------------------------------


@pytest.mark.parametrize("name", VECTOR_FILES)
def test_vector_decodes_to_the_expected_records(name: str) -> None:
    buf = _vector(name)
    batch = decode_batch(buf)
    assert batch.records == EXPECTED
    header = batch.header
    assert header.size == len(buf)
    assert header.magic == 2
    assert header.compression is _codec_of(name)
    assert header.records_count == len(EXPECTED)
    assert header.last_offset_delta == len(EXPECTED) - 1
    assert header.base_offset == 0
    assert header.base_timestamp == EXPECTED[0].timestamp
    assert header.max_timestamp == max(r.timestamp for r in EXPECTED)
    assert not header.is_transactional
    assert not header.is_control


@pytest.mark.parametrize("name", VECTOR_FILES)
def test_vector_crc_is_valid(name: str) -> None:
    buf = _vector(name)
    header = validate_batch(buf, from_producer=True)
    assert crc32c(buf[21:]) == header.crc
    corrupted = bytearray(buf)
    corrupted[-1] ^= 0x01
    with pytest.raises(CorruptRecordError, match="CRC"):
        decode_batch(bytes(corrupted))


@pytest.mark.parametrize("name", VECTOR_FILES)
def test_our_record_encoding_is_byte_identical(name: str) -> None:
    """Every client lays out these records exactly as we do; for uncompressed
    batches the whole batch matches once the header fields a client chooses
    (producer id, epoch, sequence, leader epoch) are taken over."""
    buf = _vector(name)
    header = decode_batch(buf).header
    ours = encode_batch(
        SIMPLE_RECORDS,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        partition_leader_epoch=header.partition_leader_epoch,
    )
    codec = header.compression
    if codec is Compression.NONE:
        assert ours == buf
    else:
        assert decompress(codec, buf[BATCH_HEADER_SIZE:]) == ours[BATCH_HEADER_SIZE:]


def test_snappy_framing_differs_by_client() -> None:
    """Java, kafka-python and aiokafka frame snappy the xerial way; librdkafka
    writes one raw block. Both must decode (checked above)."""
    xerial = b"\x82SNAPPY\x00"
    for client in ("java", "kafka-python", "aiokafka"):
        assert _vector(f"{client}-snappy.bin")[BATCH_HEADER_SIZE:].startswith(xerial)
    assert not _vector("librdkafka-snappy.bin")[BATCH_HEADER_SIZE:].startswith(xerial)


# -- our batches, their decoders --------------------------------------------------


def _check_client_records(records: list[Any]) -> None:
    assert len(records) == len(EXPECTED)
    for theirs, ours in zip(records, EXPECTED, strict=True):
        assert theirs.offset == ours.offset
        assert theirs.timestamp == ours.timestamp
        assert theirs.key == ours.key
        assert theirs.value == ours.value
        assert [tuple(h) for h in theirs.headers] == [(h.key, h.value) for h in ours.headers]


@pytest.mark.parametrize("codec", list(Compression), ids=lambda c: c.name.lower())
def test_kafka_python_reads_our_batches(codec: Compression) -> None:
    reason = f"kafka-python is a test peer: {INSTALL}"
    default_records = pytest.importorskip("kafka.record.default_records", reason=reason)
    memory_records = pytest.importorskip("kafka.record.memory_records", reason=reason)
    if codec is Compression.SNAPPY:
        pytest.importorskip(
            "snappy", reason="kafka-python reads snappy with: pip install python-snappy"
        )

    buf = encode_batch(SIMPLE_RECORDS, compression=codec, base_offset=0)
    batch = default_records.DefaultRecordBatch(bytearray(buf))
    assert batch.validate_crc()
    assert batch.compression_type == codec
    _check_client_records(list(batch))

    # The same through MemoryRecords, as a fetch response is read: two batches
    # back to back, the second at a later base offset.
    second = encode_batch(SIMPLE_RECORDS, compression=codec, base_offset=10)
    memory = memory_records.MemoryRecords(buf + second)
    batches = []
    while memory.has_next():
        batches.append(memory.next_batch())
    assert [b.base_offset for b in batches] == [0, 10]
    assert [r.offset for r in batches[1]] == list(range(10, 20))


@pytest.mark.parametrize("codec", list(Compression), ids=lambda c: c.name.lower())
def test_aiokafka_reads_our_batches(codec: Compression) -> None:
    default_records = pytest.importorskip(
        "aiokafka.record.default_records", reason=f"aiokafka is a test peer: {INSTALL}"
    )
    buf = encode_batch(SIMPLE_RECORDS, compression=codec)
    batch = default_records.DefaultRecordBatch(bytearray(buf))
    assert batch.validate_crc()
    assert batch.compression_type == codec
    _check_client_records(list(batch))
