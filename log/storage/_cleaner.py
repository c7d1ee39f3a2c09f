"""Log compaction: keep the latest record per key, as Kafka's LogCleaner does.

The cleaner works on the bytes of a partition's non-active segments, oldest
first, and returns one cleaned byte string per segment. Records keep their
original offsets; only batches whose last offset is below
``clean_upto_offset`` are cleaned, everything from the first batch at or past
that bound is copied byte for byte. Three passes:

1. **Scan** the batch headers of the cleaned range (no record decoding except
   the one-record control batches) and resolve transactions: a transactional
   batch belongs to the open transaction of its producer id until a control
   batch (COMMIT or ABORT) of the same producer id closes it. Batches whose
   transaction has no marker below the bound stay *open*. The scan also notes
   the last data batch of every producer id.
2. **Map**: decode the batches outside transactions and those of committed
   transactions, and map each key to the highest offset holding it. Aborted
   and open transactions never enter the map, so they cannot shadow a record.
3. **Filter**: a record survives when it has no key (Kafka refuses those on
   compacted topics; we keep them untouched) or its offset is the mapped one.
   Tombstones (null values) follow KIP-534: the first pass that keeps one
   rewrites its batch with a delete horizon (``now_ms + delete_retention_ms``,
   attribute bit 6, stored in the base timestamp); a later pass run at or
   after that horizon drops them. Records of aborted transactions are all
   removed; open transactions and control batches are copied unchanged.

A batch from which nothing is removed and that needs no horizon is copied
byte for byte; otherwise it is rebuilt with ``encode_batch_from`` (same base
offset, last offset delta, producer fields, codec and flags). A batch left
with no records is dropped, except the last data batch of each producer id,
kept empty so the producer's sequence numbers survive (Kafka keeps the batch
at its producer's ``lastDataOffset`` for the same reason).

Control batches are always kept. Kafka drops a marker only once its
transaction's data are gone and the marker's own delete horizon has passed;
keeping markers is always correct (consumers skip them, and a
``read_committed`` reader needs the ABORT marker of any transaction whose data
survive), and costs a few dozen bytes per transaction.

Unlike Kafka's bounded ``SkimpyOffsetMap`` of key hashes, the offset map is a
dict of whole keys, so memory grows with the number of distinct keys in the
cleaned range; there are no hash collisions to lose a record. Batches are
decoded twice (map, then filter) rather than held in memory, as Kafka does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidal.log.records import (
    BATCH_HEADER_SIZE,
    LOG_OVERHEAD,
    NO_PRODUCER_ID,
    BatchHeader,
    ControlRecordType,
    CorruptRecordError,
    EndTransactionMarker,
    Record,
    decode_batch,
    encode_batch_from,
    read_batch_header,
)

__all__ = ["CleanerStats", "compact_segments"]

Buffer = bytes | bytearray | memoryview

# What the scan decided about a batch of the cleaned range.
_COMPACT = 0  # outside any transaction, or in a committed one: compacted
_ABORTED = 1  # in an aborted transaction: every record removed
_OPEN = 2  # in a transaction with no marker below the bound: copied as is
_CONTROL = 3  # a COMMIT or ABORT marker: copied as is


@dataclass(slots=True)
class CleanerStats:
    """Counters of one or more cleaning passes; ``compact_segments`` adds to them.

    Record counts cover the batches below ``clean_upto_offset`` (the ones the
    cleaner looks at); byte counts cover every segment passed in.

    >>> stats = CleanerStats()
    >>> compact_segments([], clean_upto_offset=0, now_ms=0, delete_retention_ms=0, stats=stats)
    []
    >>> stats.bytes_read
    0
    """

    bytes_read: int = 0
    bytes_written: int = 0
    records_read: int = 0
    records_kept: int = 0
    records_removed: int = 0
    batches_read: int = 0
    batches_rewritten: int = 0
    batches_removed: int = 0

    @property
    def compaction_ratio(self) -> float:
        """Bytes written per byte read (1.0 when nothing was read)."""
        return self.bytes_written / self.bytes_read if self.bytes_read else 1.0


class _Batch:
    """A batch of the cleaned range: where it is and what happens to it."""

    __slots__ = ("fate", "header", "pos", "segment")

    def __init__(self, segment: int, pos: int, header: BatchHeader, fate: int) -> None:
        self.segment = segment
        self.pos = pos
        self.header = header
        self.fate = fate


def compact_segments(
    segments: Sequence[Buffer],
    *,
    clean_upto_offset: int,
    now_ms: int,
    delete_retention_ms: int,
    stats: CleanerStats | None = None,
) -> list[bytes]:
    """Compact the contents of a partition's non-active segments.

    ``segments`` are the full ``.log`` files, oldest first. The result holds
    one byte string per segment, in the same order, each a concatenation of
    record batches at their original offsets (possibly empty). Batches whose
    last offset is at or past ``clean_upto_offset`` (and all after them) are
    copied unchanged; the caller passes the first offset it may not clean
    (Kafka: the minimum of the active segment's base offset, the last stable
    offset and the ``min.compaction.lag.ms`` bound). ``now_ms`` and
    ``delete_retention_ms`` set and check tombstone delete horizons. Counters
    are added to ``stats`` when given.

    Raises :class:`~tidal.log.records.CorruptRecordError` when a cleaned
    batch is corrupt, a segment ends in a partial batch before the bound, or
    offsets do not increase; nothing is returned then, so the caller keeps
    its segments.

    >>> from tidal.log.records import SimpleRecord, decode_batch, encode_batch
    >>> log = encode_batch([SimpleRecord(b"old", key=b"k")]) + encode_batch(
    ...     [SimpleRecord(b"new", key=b"k")], base_offset=1)
    >>> [out] = compact_segments([log], clean_upto_offset=2, now_ms=0, delete_retention_ms=0)
    >>> [(r.offset, r.value) for r in decode_batch(out).records]
    [(1, b'new')]
    """
    batches, last_data_batch, stop_segment, stop_pos = _scan(segments, clean_upto_offset)
    offset_map = _build_offset_map(segments, batches)
    if stats is None:
        stats = CleanerStats()

    chunks: list[list[Buffer]] = [[] for _ in segments]
    for batch in batches:
        segment = segments[batch.segment]
        out = _clean_batch(
            segment,
            batch,
            offset_map,
            now_ms=now_ms,
            new_horizon=now_ms + delete_retention_ms,
            retain_empty=last_data_batch.get(batch.header.producer_id) is batch,
            stats=stats,
        )
        if out is None:
            chunks[batch.segment].append(
                memoryview(segment)[batch.pos : batch.pos + batch.header.size]
            )
        elif out:
            stats.batches_rewritten += 1
            chunks[batch.segment].append(out)
        else:
            stats.batches_removed += 1

    result: list[bytes] = []
    for index, segment in enumerate(segments):
        if index < stop_segment:
            cleaned = b"".join(chunks[index])
        elif index == stop_segment:
            cleaned = b"".join([*chunks[index], memoryview(segment)[stop_pos:]])
        else:
            cleaned = bytes(segment)
        stats.bytes_read += len(segment)
        stats.bytes_written += len(cleaned)
        result.append(cleaned)
    return result


def _scan(
    segments: Sequence[Buffer], clean_upto_offset: int
) -> tuple[list[_Batch], dict[int, _Batch], int, int]:
    """Pass 1: walk headers up to the bound and resolve transactions.

    Returns the batches of the cleaned range, the last data batch of each
    producer id among them, and the segment index and position where the
    uncleaned range starts (``len(segments), 0`` when everything is cleaned).
    """
    batches: list[_Batch] = []
    open_transactions: dict[int, list[_Batch]] = {}
    last_data_batch: dict[int, _Batch] = {}
    min_base_offset = -1
    for index, segment in enumerate(segments):
        pos = 0
        while pos < len(segment):
            header = _read_header(segment, index, pos, min_base_offset)
            if header.last_offset >= clean_upto_offset:
                return batches, last_data_batch, index, pos
            min_base_offset = header.next_offset
            batch = _Batch(index, pos, header, _COMPACT)
            producer_id = header.producer_id
            if header.is_control:
                batch.fate = _CONTROL
                marker = EndTransactionMarker.from_batch(decode_batch(segment, pos))
                fate = _COMPACT if marker.type is ControlRecordType.COMMIT else _ABORTED
                for member in open_transactions.pop(producer_id, ()):
                    member.fate = fate
            else:
                if header.is_transactional:
                    batch.fate = _OPEN
                    open_transactions.setdefault(producer_id, []).append(batch)
                if producer_id != NO_PRODUCER_ID:
                    last_data_batch[producer_id] = batch
            batches.append(batch)
            pos += header.size
    return batches, last_data_batch, len(segments), 0


def _read_header(segment: Buffer, index: int, pos: int, min_base_offset: int) -> BatchHeader:
    """The header at ``pos``, checked enough to walk on and copy safely."""
    where = f"segment {index}, position {pos}"
    if len(segment) - pos < BATCH_HEADER_SIZE:
        raise CorruptRecordError(f"{where}: partial batch header")
    header = read_batch_header(segment, pos)
    if header.magic != 2:
        raise CorruptRecordError(f"{where}: unsupported batch magic {header.magic}")
    if header.batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD or pos + header.size > len(segment):
        raise CorruptRecordError(f"{where}: batch length {header.batch_length} does not fit")
    if header.last_offset_delta < 0 or header.base_offset < min_base_offset:
        raise CorruptRecordError(
            f"{where}: offsets {header.base_offset}..{header.last_offset} do not follow "
            f"offset {min_base_offset - 1}"
        )
    return header


def _build_offset_map(segments: Sequence[Buffer], batches: Sequence[_Batch]) -> dict[bytes, int]:
    """Pass 2: the highest offset of every key outside aborted or open transactions."""
    offset_map: dict[bytes, int] = {}
    for batch in batches:
        if batch.fate == _COMPACT:
            for record in decode_batch(segments[batch.segment], batch.pos).records:
                if record.key is not None:
                    offset_map[record.key] = record.offset  # offsets only increase
    return offset_map


def _clean_batch(
    segment: Buffer,
    batch: _Batch,
    offset_map: dict[bytes, int],
    *,
    now_ms: int,
    new_horizon: int,
    retain_empty: bool,
    stats: CleanerStats,
) -> bytes | None:
    """Pass 3 for one batch: ``None`` to copy it as is, ``b""`` to drop it,
    or the rebuilt batch."""
    header = batch.header
    stats.batches_read += 1
    if batch.fate in (_OPEN, _CONTROL):
        stats.records_read += header.records_count
        stats.records_kept += header.records_count
        return None
    records = decode_batch(segment, batch.pos).records
    kept: list[Record]
    if batch.fate == _ABORTED:
        kept = []
    else:
        horizon = header.delete_horizon_ms
        drop_tombstones = horizon is not None and now_ms >= horizon
        kept = [
            r
            for r in records
            if r.key is None
            or (offset_map[r.key] == r.offset and not (drop_tombstones and r.value is None))
        ]
    stats.records_read += len(records)
    stats.records_kept += len(kept)
    stats.records_removed += len(records) - len(kept)
    if not kept and not retain_empty:
        return b""
    set_horizon = header.delete_horizon_ms is None and any(
        r.value is None and r.key is not None for r in kept
    )
    if len(kept) == len(records) and not set_horizon:
        return None
    horizon = new_horizon if set_horizon else header.delete_horizon_ms
    return encode_batch_from(header, kept, delete_horizon_ms=horizon)
