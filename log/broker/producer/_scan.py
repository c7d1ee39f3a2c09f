"""Reading producer state back out of a partition log.

Two walks over batch headers (records are never decoded, except the single
record of a transaction marker):

- ``iter_log_batches`` walks forward from an offset, to replay the batches a
  snapshot does not cover;
- ``backfill_batches`` looks back a bounded window before a snapshot's offset
  for the older batches of each producer. A snapshot has room for only the
  newest batch of each producer (Kafka's format), so without this a restart
  would shrink the duplicate window from five batches to one, and a retry of
  the second-newest in-flight batch would be rejected as out of order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from tidal.log.broker.producer._entry import (
    NUM_BATCHES_TO_RETAIN,
    BatchMetadata,
    ProducerStateEntry,
)
from tidal.log.records import (
    BatchHeader,
    EndTransactionMarker,
    RecordsError,
    decode_batch,
)
from tidal.log.storage import LogSegment, PartitionLog

__all__ = [
    "BACKFILL_OFFSETS",
    "backfill_batches",
    "iter_log_batches",
    "marker_coordinator_epoch",
    "read_marker",
]

#: How far (in offsets) before a snapshot ``backfill_batches`` looks.
BACKFILL_OFFSETS = 100_000


def iter_log_batches(
    log: PartitionLog, start_offset: int, end_offset: int | None = None
) -> Iterator[tuple[LogSegment, int, BatchHeader]]:
    """``(segment, position, header)`` of every batch holding offsets in
    ``[start_offset, end_offset)``, in log order. Call under ``log.lock``."""
    for segment in log.segments:
        if segment.next_offset <= start_offset:
            continue
        if end_offset is not None and segment.base_offset >= end_offset:
            return
        position = 0
        if segment.base_offset < start_offset:
            found = segment.translate_offset(start_offset)
            if found is None:
                continue
            position = found[0]
        for pos, header in segment.walk(position):
            if end_offset is not None and header.base_offset >= end_offset:
                return
            if header.last_offset >= start_offset:
                yield segment, pos, header


def read_marker(
    segment: LogSegment, position: int, header: BatchHeader
) -> EndTransactionMarker | None:
    """The transaction marker at ``position``, or None when it cannot be read."""
    try:
        batch = decode_batch(segment.read_bytes(position, header.size), verify_crc=False)
        return EndTransactionMarker.from_batch(batch)
    except RecordsError:
        return None


def marker_coordinator_epoch(segment: LogSegment, position: int, header: BatchHeader) -> int | None:
    """The coordinator epoch in the transaction marker at ``position``, or
    None when the marker cannot be read."""
    marker = read_marker(segment, position, header)
    return None if marker is None else marker.coordinator_epoch


def backfill_batches(
    log: PartitionLog, snapshot_offset: int, producers: dict[int, ProducerStateEntry]
) -> None:
    """Put back the older batches of producers loaded from a snapshot.

    For each producer whose entry holds a single batch (as every snapshot
    entry does), the data batches of the same producer and epoch found in the
    ``BACKFILL_OFFSETS`` before that batch are prepended, newest kept, up to
    five in all: the state a full replay of the log would have produced.
    """
    wanted = {
        pid: entry.batches[0]
        for pid, entry in producers.items()
        if len(entry.batches) == 1 and entry.batches[0].first_offset > log.log_start_offset
    }
    if not wanted:
        return
    oldest = min(batch.first_offset for batch in wanted.values())
    start = max(log.log_start_offset, oldest - BACKFILL_OFFSETS)
    found: dict[int, deque[BatchMetadata]] = {}
    for _, _, header in iter_log_batches(log, start, snapshot_offset):
        pid = header.producer_id
        newest = wanted.get(pid)
        if (
            newest is None
            or header.is_control
            or header.producer_epoch != producers[pid].producer_epoch
            or header.last_offset >= newest.first_offset
        ):
            continue
        older = found.setdefault(pid, deque(maxlen=NUM_BATCHES_TO_RETAIN - 1))
        older.append(
            BatchMetadata(
                header.last_sequence, header.last_offset, header.last_offset_delta,
                header.max_timestamp,
            )
        )  # fmt: skip
    for pid, older in found.items():
        entry = producers[pid]
        entry.batches.extendleft(reversed(older))
