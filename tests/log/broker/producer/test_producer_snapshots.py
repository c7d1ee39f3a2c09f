"""Producer state snapshot files: Kafka's layout, read and written byte for byte."""

import json
import shutil
import struct
from pathlib import Path

import pytest

from tidal.log.broker.producer import (
    BatchMetadata,
    CorruptSnapshotError,
    ProducerStateEntry,
    ProducerStateManager,
    decode_snapshot,
    encode_snapshot,
    list_snapshots,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from tidal.log.records import SimpleRecord, crc32c, encode_batch, iter_batches, read_batch_header
from tidal.log.storage import PartitionLog

KAFKA_DIR = Path(__file__).parents[2] / "storage" / "vectors" / "kafka-segment"
KAFKA_SNAPSHOT = KAFKA_DIR / "00000000000000000050.snapshot"
LAST_KAFKA_TIMESTAMP = 1_700_000_019_003


def kafka_batches_by_producer() -> dict[int, list[tuple[int, int, int, int, int]]]:
    """(first seq, last seq, first offset, last offset, max timestamp) per producer."""
    data = (KAFKA_DIR / "00000000000000000000.log").read_bytes()
    found: dict[int, list[tuple[int, int, int, int, int]]] = {}
    for h in iter_batches(data):
        found.setdefault(h.producer_id, []).append(
            (h.base_sequence, h.last_sequence, h.base_offset, h.last_offset, h.max_timestamp)
        )
    return found


def test_reads_the_snapshot_kafka_wrote() -> None:
    entries = read_snapshot(KAFKA_SNAPSHOT)
    manifest = json.loads((KAFKA_DIR / "manifest.json").read_text())
    batches = kafka_batches_by_producer()
    assert sorted(e.producer_id for e in entries) == sorted(batches) == [5, 6]
    assert sum(len(b) for b in batches.values()) == len(manifest["batches"])
    for entry in entries:
        first_seq, last_seq, first_offset, last_offset, max_ts = batches[entry.producer_id][-1]
        assert entry.producer_epoch == 0
        assert entry.coordinator_epoch == -1
        assert entry.current_txn_first_offset is None
        assert entry.last_timestamp == max_ts
        assert list(entry.batches) == [
            BatchMetadata(last_seq, last_offset, last_offset - first_offset, max_ts)
        ]
        assert entry.batches[0].first_seq == first_seq
        assert entry.batches[0].first_offset == first_offset
    by_id = {e.producer_id: e for e in entries}
    assert (by_id[5].last_seq, by_id[5].last_data_offset) == (22, 22)
    assert (by_id[6].last_seq, by_id[6].last_data_offset) == (26, 49)


def test_writes_kafka_snapshots_byte_for_byte() -> None:
    data = KAFKA_SNAPSHOT.read_bytes()
    assert encode_snapshot(decode_snapshot(data)) == data


def test_round_trip_of_every_field(tmp_path: Path) -> None:
    entries = [
        ProducerStateEntry(
            7,
            3,
            coordinator_epoch=12,
            last_timestamp=1234,
            current_txn_first_offset=500,
            batches=(BatchMetadata(10, 510, 4, 1234),),
        ),
        ProducerStateEntry(8, 0, last_timestamp=99),  # only a marker so far: no batch
        ProducerStateEntry(2**62, 32767, batches=(BatchMetadata(2**31 - 1, 2**40, 0, -1),)),
    ]
    path = snapshot_path(tmp_path, 1_000)
    assert path.name == "00000000000000001000.snapshot"
    write_snapshot(path, entries)
    assert read_snapshot(path) == entries
    assert len(path.read_bytes()) == 10 + 46 * len(entries)


def recrc(data: bytes) -> bytes:
    return data[:2] + struct.pack(">I", crc32c(data[6:])) + data[6:]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:-1], "CRC"),
        (lambda b: recrc(b[:6] + struct.pack(">i", 3) + b[10:]), "declares"),
        (lambda b: recrc(b[:6] + struct.pack(">i", -1) + b[10:]), "declares"),
        (lambda b: b[:4], "shorter"),
        (lambda b: struct.pack(">h", 2) + b[2:], "version"),
        (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "CRC"),
        (lambda b: b[:6] + struct.pack(">i", -1) + b[10:], "CRC"),
    ],
)
def test_damaged_snapshots_are_rejected(damage: object, message: str) -> None:
    data = KAFKA_SNAPSHOT.read_bytes()
    with pytest.raises(CorruptSnapshotError, match=message):
        decode_snapshot(damage(data))  # type: ignore[operator]


def test_take_snapshot_keeps_the_newest_two(tmp_path: Path) -> None:
    state = ProducerStateManager(tmp_path, clock=lambda: 0)
    raw = encode_batch(
        [SimpleRecord(b"v", timestamp=5)], producer_id=1, producer_epoch=0, base_sequence=0
    )
    h = read_batch_header(raw)
    for i in range(4):
        state.on_appended(h, i, i, 5)
        assert state.take_snapshot() == snapshot_path(tmp_path, i + 1)
    assert state.take_snapshot() is None  # nothing new at offset 4
    assert state.snapshot_offsets() == [3, 4]
    assert state.take_snapshot(10) == snapshot_path(tmp_path, 10)
    assert list(list_snapshots(tmp_path)) == [4, 10]
    (tmp_path / "00000000000000000007.snapshot.tmp").write_bytes(b"")
    (tmp_path / "junk.snapshot").write_bytes(b"")
    assert list(list_snapshots(tmp_path)) == [4, 10]


def test_loads_kafka_partition_with_its_snapshot(tmp_path: Path) -> None:
    directory = tmp_path / "kafka-segment-0"
    shutil.copytree(KAFKA_DIR, directory)
    (directory / "manifest.json").unlink()
    log = PartitionLog(directory, had_clean_shutdown=True)
    try:
        state = ProducerStateManager.load(log, clock=lambda: LAST_KAFKA_TIMESTAMP)
        assert state.map_end_offset == log.log_end_offset == 50
        batches = kafka_batches_by_producer()
        for pid in (5, 6):
            entry = state.last_entry(pid)
            assert entry is not None
            # The snapshot held one batch each; the older four come back from the log.
            assert [
                (b.first_seq, b.last_seq, b.first_offset, b.last_offset, b.timestamp)
                for b in entry.batches
            ] == batches[pid][-5:]
        # A retry of producer 6's fourth-newest batch (sequences 18-19) gets offset 41.
        retry = encode_batch(
            [SimpleRecord(b"a", timestamp=1), SimpleRecord(b"b", timestamp=1)],
            producer_id=6,
            producer_epoch=0,
            base_sequence=18,
        )
        verdict = state.check_and_plan(read_batch_header(retry))
        assert verdict.duplicate is not None
        assert verdict.duplicate.first_offset == 41
        following = encode_batch(
            [SimpleRecord(b"c", timestamp=1)], producer_id=6, producer_epoch=0, base_sequence=27
        )
        assert state.check_and_plan(read_batch_header(following)).should_append
    finally:
        log.close()


def test_expired_producers_are_dropped_when_a_snapshot_loads(tmp_path: Path) -> None:
    directory = tmp_path / "kafka-segment-0"
    shutil.copytree(KAFKA_DIR, directory)
    log = PartitionLog(directory, had_clean_shutdown=True)
    try:
        # One day after producer 5's last write but before producer 6's.
        now = 1_700_000_009_001 + 86_400_000
        state = ProducerStateManager.load(log, clock=lambda: now)
        assert list(state.producers) == [6]
    finally:
        log.close()
