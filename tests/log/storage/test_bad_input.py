"""Bad batches are refused with a typed error and leave the log unchanged."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from tidal.log.records import (
    ControlRecordType,
    CorruptRecordError,
    InvalidRecordError,
    RecordsError,
    RecordTooLargeError,
    SimpleRecord,
    UnsupportedCompressionError,
    crc32c,
    encode_batch,
    encode_control_batch,
)
from tidal.log.storage import LogConfig, OffsetsOutOfOrderError, PartitionLog


def good(n: int = 3) -> bytes:
    return encode_batch([SimpleRecord(b"x" * 20, key=b"k%d" % i, timestamp=i) for i in range(n)])


def recrc(raw: bytearray) -> bytes:
    struct.pack_into(">I", raw, 17, crc32c(memoryview(raw)[21:]))
    return bytes(raw)


def mutate(fn: Callable[[bytearray], None], fix_crc: bool = True) -> bytes:
    raw = bytearray(good())
    fn(raw)
    return recrc(raw) if fix_crc else bytes(raw)


def _flip(raw: bytearray, pos: int) -> None:
    raw[pos] ^= 0x01


BAD: dict[str, tuple[bytes, type[Exception]]] = {
    "bad crc": (mutate(lambda r: _flip(r, 70), fix_crc=False), CorruptRecordError),
    "crc field": (mutate(lambda r: _flip(r, 18), fix_crc=False), CorruptRecordError),
    "magic 1": (mutate(lambda r: r.__setitem__(16, 1)), CorruptRecordError),
    "magic 3": (mutate(lambda r: r.__setitem__(16, 3)), CorruptRecordError),
    "length too long": (mutate(lambda r: struct.pack_into(">i", r, 8, len(r))), CorruptRecordError),
    "length too short": (
        mutate(lambda r: struct.pack_into(">i", r, 8, len(r) - 20)),
        CorruptRecordError,
    ),
    "length below header": (mutate(lambda r: struct.pack_into(">i", r, 8, 10)), CorruptRecordError),
    "count too high": (mutate(lambda r: struct.pack_into(">i", r, 57, 4)), RecordsError),
    "count too low": (mutate(lambda r: struct.pack_into(">i", r, 57, 2)), RecordsError),
    "count negative": (mutate(lambda r: struct.pack_into(">i", r, 57, -1)), RecordsError),
    "last offset delta": (mutate(lambda r: struct.pack_into(">i", r, 23, 5)), InvalidRecordError),
    "unknown codec": (
        mutate(lambda r: struct.pack_into(">h", r, 21, 7)),
        UnsupportedCompressionError,
    ),
    "unknown attribute": (
        mutate(lambda r: struct.pack_into(">h", r, 21, 0x100)),
        CorruptRecordError,
    ),
    "truncated": (good()[:-5], CorruptRecordError),
    "header only": (good()[:40], CorruptRecordError),
    "trailing garbage": (good() + b"\x00" * 7, CorruptRecordError),
    "empty": (b"", InvalidRecordError),
    "control from client": (
        encode_control_batch(
            ControlRecordType.COMMIT,
            producer_id=1,
            producer_epoch=0,
            coordinator_epoch=0,
            timestamp=0,
        ),
        InvalidRecordError,
    ),
}


def snapshot(log: PartitionLog) -> object:
    files = {p.name: p.read_bytes() for p in log.directory.iterdir()}
    indexes = [(s.offset_index.entries(), s.time_index.entries()) for s in log.segments]
    return files, indexes, log.log_end_offset, log.size, log.leader_epoch_cache.entries()


@pytest.fixture
def log(tmp_path: Path) -> PartitionLog:
    config = LogConfig.from_properties({"index.interval.bytes": "1", "max.message.bytes": "2000"})
    partition = PartitionLog(tmp_path / "t-0", config)
    for _ in range(3):
        partition.append(good())
    partition.flush()
    return partition


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_batch_refused_log_unchanged(log: PartitionLog, name: str) -> None:
    data, error = BAD[name]
    before = snapshot(log)
    with pytest.raises(error):
        log.append(data)
    assert snapshot(log) == before
    # A good batch after the bad one carries on where the log was.
    assert log.append(good()).first_offset == 9
    log.close()


@pytest.mark.parametrize("name", sorted(set(BAD) - {"empty"}))
def test_bad_second_batch_appends_nothing(log: PartitionLog, name: str) -> None:
    data, error = BAD[name]
    before = snapshot(log)
    with pytest.raises(error):
        log.append(good() + data)
    assert snapshot(log) == before
    log.close()


def test_oversized_batch(log: PartitionLog) -> None:
    big = encode_batch([SimpleRecord(b"x" * 3000)])
    before = snapshot(log)
    with pytest.raises(RecordTooLargeError):
        log.append(big)
    with pytest.raises(RecordTooLargeError):
        log.append(good() + big)
    assert snapshot(log) == before
    log.close()


def test_follower_path_refuses_non_monotonic_offsets(log: PartitionLog) -> None:
    before = snapshot(log)
    for raw in (
        encode_batch([SimpleRecord(b"a")], base_offset=8),  # below the log end offset
        encode_batch([SimpleRecord(b"a")], base_offset=20)
        + encode_batch([SimpleRecord(b"a")], base_offset=19),
        encode_batch([SimpleRecord(b"a")], base_offset=20) + BAD["bad crc"][0],
    ):
        with pytest.raises((OffsetsOutOfOrderError, CorruptRecordError)):
            log.append_raw(raw)
        assert snapshot(log) == before
    log.close()


def test_refused_batches_survive_reopen(log: PartitionLog, tmp_path: Path) -> None:
    for data, error in BAD.values():
        if data:
            with pytest.raises(error):
                log.append(data)
    leo = log.log_end_offset
    log.close()
    again = PartitionLog(tmp_path / "t-0", log.config)
    assert again.log_end_offset == leo
    assert again.recovery_report.truncations == []
    again.close()


def test_compacted_log_refuses_keyless_records_and_stays_unchanged(tmp_path: Path) -> None:
    config = LogConfig.from_properties({"cleanup.policy": "compact"})
    log = PartitionLog(tmp_path / "compacted-0", config)
    log.append(encode_batch([SimpleRecord(b"keyed", key=b"k")]))
    size = log.size
    with pytest.raises(InvalidRecordError, match="null key"):
        log.append(encode_batch([SimpleRecord(b"a", key=b"k"), SimpleRecord(b"keyless")]))
    assert (log.log_end_offset, log.size) == (1, size)
    log.close()
