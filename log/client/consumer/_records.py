"""Turning one partition of a Fetch response into consumer records.

Sans-I/O: takes the partition's raw ``records`` bytes and the offset that
was asked for, returns the records to hand out and the next offset to fetch.
Rules (Kafka's ``CompletedFetch``):

* a response may end with a partial batch (the broker cuts at
  ``max_bytes``); it is ignored and fetched again from its start;
* a compressed batch is returned whole, so records below the requested
  offset at the start of the first batch are skipped;
* control batches (transaction markers) are never returned, but the
  position moves past them;
* under ``read_committed`` the broker lists aborted transactions as
  ``(producer_id, first_offset)``; entries are taken from a min-heap once a
  batch of that producer reaches ``first_offset``, batches of producers in
  the aborted set are skipped, and the producer's ABORT marker ends it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tidal.log.client.consumer._structs import ConsumerRecord, IsolationLevel, TopicPartition
from tidal.log.records import (
    ControlRecordType,
    EndTransactionMarker,
    RecordTooLargeError,
    decode_batch,
    decode_batch_into,
    iter_batches,
)

__all__ = [
    "Deserializer",
    "PartitionRecords",
    "RecordDeserializationError",
    "parse_partition_records",
]

#: A key or value deserializer: raw bytes (or None) to the application's value.
Deserializer = Callable[[bytes | None], Any]


class RecordDeserializationError(Exception):
    """A key or value deserializer raised; the position stays at the record,
    so ``seek`` past ``offset`` to skip it."""

    def __init__(self, tp: TopicPartition, offset: int, cause: BaseException) -> None:
        super().__init__(
            f"error deserializing {tp.topic}-{tp.partition} at offset {offset}: {cause!r}"
        )
        self.topic_partition = tp
        self.offset = offset


@dataclass(slots=True)
class PartitionRecords:
    """Records of one partition from one fetch, and where to fetch next."""

    tp: TopicPartition
    fetch_offset: int
    next_offset: int
    records: list[ConsumerRecord] = field(default_factory=list)


def _aborted_heap(aborted: Iterable[tuple[int, int]] | None) -> list[tuple[int, int]]:
    heap = [(first_offset, producer_id) for producer_id, first_offset in aborted or ()]
    heapq.heapify(heap)
    return heap


def _deserialize(
    tp: TopicPartition,
    records: list[ConsumerRecord],
    first: int,
    key_deserializer: Deserializer | None,
    value_deserializer: Deserializer | None,
) -> None:
    """Replace raw keys and values of ``records[first:]`` in place."""
    for i in range(first, len(records)):
        rec = records[i]
        try:
            if key_deserializer is not None:
                rec.key = key_deserializer(rec.key)
            if value_deserializer is not None:
                rec.value = value_deserializer(rec.value)
        except Exception as exc:
            raise RecordDeserializationError(tp, rec.offset, exc) from exc


def parse_partition_records(
    tp: TopicPartition,
    records: bytes | bytearray | memoryview | None,
    fetch_offset: int,
    *,
    isolation: IsolationLevel = IsolationLevel.READ_UNCOMMITTED,
    aborted_transactions: Iterable[tuple[int, int]] | None = None,
    key_deserializer: Deserializer | None = None,
    value_deserializer: Deserializer | None = None,
    check_crcs: bool = True,
) -> PartitionRecords:
    """Decode a partition's ``records`` fetched from ``fetch_offset``.

    ``aborted_transactions`` are ``(producer_id, first_offset)`` pairs from
    the response (used only under ``read_committed``). Raises
    ``RecordTooLargeError`` when bytes arrived but not one whole batch (the
    fetch size is below the first batch), ``CorruptRecordError`` for a bad
    batch and :class:`RecordDeserializationError` when a deserializer fails
    (records before it are lost with this call; the caller re-fetches).

    Example::

        from tidal.log.records import SimpleRecord, encode_batch

        raw = encode_batch([SimpleRecord(b"a"), SimpleRecord(b"b")], base_offset=10)
        got = parse_partition_records(TopicPartition("t", 0), raw, 11)
        assert [r.value for r in got.records] == [b"b"] and got.next_offset == 12
    """
    result = PartitionRecords(tp, fetch_offset, fetch_offset)
    if not records:
        return result
    read_committed = isolation is IsolationLevel.READ_COMMITTED
    heap = _aborted_heap(aborted_transactions) if read_committed else []
    aborted_producers: set[int] = set()
    out = result.records
    topic, partition = tp
    deserialize = key_deserializer is not None or value_deserializer is not None
    pos = 0
    for header in iter_batches(records):
        batch_pos = pos
        pos += header.size
        result.next_offset = max(result.next_offset, header.next_offset)
        if read_committed and header.producer_id >= 0:
            while heap and heap[0][0] <= header.last_offset:
                aborted_producers.add(heapq.heappop(heap)[1])
            if header.is_control:
                marker = EndTransactionMarker.from_batch(
                    decode_batch(records, batch_pos, verify_crc=check_crcs)
                )
                if marker.type is ControlRecordType.ABORT:
                    aborted_producers.discard(header.producer_id)
                continue
            if header.is_transactional and header.producer_id in aborted_producers:
                continue
        if header.is_control or header.next_offset <= fetch_offset:
            continue
        # Deserialized values may be containers, so the records stay tracked
        # by the cycle collector when a deserializer replaces their fields.
        first = len(out)
        decode_batch_into(
            out,
            ConsumerRecord,
            records,
            header,
            batch_pos,
            topic=topic,
            partition=partition,
            min_offset=fetch_offset,
            verify_crc=check_crcs,
            untrack=not deserialize,
        )
        if deserialize:
            _deserialize(tp, out, first, key_deserializer, value_deserializer)
    if pos == 0:
        raise RecordTooLargeError(
            f"{tp.topic}-{tp.partition} at offset {fetch_offset}: the first batch is larger "
            f"than the {len(records)} bytes fetched; raise max_partition_fetch_bytes"
        )
    return result
