"""Producer state snapshot files, byte for byte as Kafka writes them.

A partition directory holds ``<offset>.snapshot`` files named like segments
(20 digits): the producer state after every batch below ``offset``. Kafka's
``ProducerStateManager`` (snapshot version 1) lays a file out big-endian::

    int16   version                    1
    uint32  crc                        CRC-32C of every byte after this field
    int32   entry count                (Kafka's ArrayOf: -1 would mean null)
    entry * count, 46 bytes each:
        int64   producer_id
        int16   epoch
        int32   last_sequence          last sequence of the newest batch, -1 if none
        int64   last_offset            last offset of the newest batch, -1 if none
        int32   offset_delta           last_offset - first offset of that batch
        int64   timestamp              max timestamp of the producer's last write
        int32   coordinator_epoch      of the last transaction marker, -1 if none
        int64   current_txn_first_offset   first offset of the open transaction, -1

A snapshot keeps only the newest batch of each producer (Kafka's format has
room for one); ``rebuild`` in ``_state`` recovers older ones from the log.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from tidal.log.broker.producer._entry import BatchMetadata, ProducerStateEntry
from tidal.log.records import crc32c

__all__ = [
    "SNAPSHOT_SUFFIX",
    "SNAPSHOT_VERSION",
    "CorruptSnapshotError",
    "decode_snapshot",
    "encode_snapshot",
    "list_snapshots",
    "read_snapshot",
    "snapshot_path",
    "write_snapshot",
]

SNAPSHOT_VERSION = 1
SNAPSHOT_SUFFIX = ".snapshot"

_HEAD = struct.Struct(">hIi")  # version, crc, entry count
_ENTRY = struct.Struct(">qhiqiqiq")
_CRC_START = 6


class CorruptSnapshotError(Exception):
    """A snapshot file that cannot be trusted (bad version, CRC or length)."""


def snapshot_path(directory: Path, offset: int) -> Path:
    """``<directory>/<20-digit offset>.snapshot``."""
    return directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"


def list_snapshots(directory: Path) -> dict[int, Path]:
    """Snapshot files of a partition directory by offset, oldest first."""
    found: dict[int, Path] = {}
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return found
    for name in names:
        stem = name.removesuffix(SNAPSHOT_SUFFIX)
        if stem != name and len(stem) == 20 and stem.isdigit():
            found[int(stem)] = directory / name
    return dict(sorted(found.items()))


def encode_snapshot(entries: list[ProducerStateEntry]) -> bytes:
    """The bytes of a snapshot holding ``entries``."""
    body = bytearray(_HEAD.pack(SNAPSHOT_VERSION, 0, len(entries)))
    for entry in entries:
        body += _ENTRY.pack(
            entry.producer_id,
            entry.producer_epoch,
            entry.last_seq,
            entry.last_data_offset,
            entry.last_offset_delta,
            entry.last_timestamp,
            entry.coordinator_epoch,
            -1 if entry.current_txn_first_offset is None else entry.current_txn_first_offset,
        )
    struct.pack_into(">I", body, 2, crc32c(memoryview(body)[_CRC_START:]))
    return bytes(body)


def decode_snapshot(data: bytes) -> list[ProducerStateEntry]:
    """Entries of a snapshot; ``CorruptSnapshotError`` when it cannot be trusted."""
    if len(data) < _HEAD.size:
        raise CorruptSnapshotError(f"snapshot of {len(data)} bytes is shorter than its header")
    version, crc, count = _HEAD.unpack_from(data)
    if version != SNAPSHOT_VERSION:
        raise CorruptSnapshotError(f"unknown snapshot version {version}")
    computed = crc32c(memoryview(data)[_CRC_START:])
    if crc != computed:
        raise CorruptSnapshotError(
            f"snapshot CRC mismatch: stored {crc:#010x}, computed {computed:#010x}"
        )
    if count < 0 or len(data) != _HEAD.size + count * _ENTRY.size:
        raise CorruptSnapshotError(
            f"snapshot declares {count} entries but holds {len(data) - _HEAD.size} bytes of them"
        )
    entries = []
    for pos in range(_HEAD.size, len(data), _ENTRY.size):
        pid, epoch, seq, offset, delta, timestamp, coordinator_epoch, txn_first = (
            _ENTRY.unpack_from(data, pos)
        )
        batches = (BatchMetadata(seq, offset, delta, timestamp),) if offset >= 0 else ()
        entries.append(
            ProducerStateEntry(
                pid,
                epoch,
                coordinator_epoch=coordinator_epoch,
                last_timestamp=timestamp,
                current_txn_first_offset=txn_first if txn_first >= 0 else None,
                batches=batches,
            )
        )
    return entries


def read_snapshot(path: Path | str) -> list[ProducerStateEntry]:
    """Read a snapshot file (Kafka's or ours)."""
    return decode_snapshot(Path(path).read_bytes())


def write_snapshot(path: Path, entries: list[ProducerStateEntry]) -> None:
    """Write a snapshot durably: a temporary file, fsync, rename, fsync the directory."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(encode_snapshot(entries))
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
