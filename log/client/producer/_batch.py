"""A producer batch and the futures of the records in it.

A record is appended as four list items (key, value, timestamp, headers), no
object of its own, and the batch is encoded once, in one call
(:func:`~tidal.log.records.encode_batch_columns`, compiled when the record
speedups are built), when the sender drains it; a retry resends the same
bytes (same producer id, epoch and sequence) so the broker can drop a
duplicate. Each record's :class:`RecordFuture` waits on its batch's single
future and derives its offset from the batch's base offset, as Java's
``FutureRecordMetadata`` does; no per-record future is created.

A batch the broker refuses as too large (MESSAGE_TOO_LARGE) is split in two
halves that are sent in its place, keeping its producer id, epoch and
sequences (Java's ``ProducerBatch.split``); its record futures then answer
from the half holding their record, and the batch completes when both have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from tidal.log.client._types import TopicPartition
from tidal.log.records import (
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    Compression,
    Header,
    encode_batch_columns,
)
from tidal.log.records._varint import varint_size

__all__ = [
    "ProducerBatch",
    "RecordFuture",
    "RecordMetadata",
    "encoded_record_size",
    "record_size",
]

#: Bytes a record adds on top of its key, value and headers (varints, attributes).
RECORD_OVERHEAD = 21
#: The record batch header.
BATCH_OVERHEAD = 61


def record_size(key: bytes | None, value: bytes | None, headers: tuple[Header, ...]) -> int:
    """An upper bound of a record's encoded size (Kafka's ``estimateSizeInBytesUpperBound``):
    what ``buffer_memory`` reserves, before the record's place in a batch is known."""
    size = RECORD_OVERHEAD + (len(key) if key else 0) + (len(value) if value else 0)
    for h in headers:
        size += len(h.key) * 4 + (len(h.value) if h.value else 0) + 10
    return size


def encoded_record_size(
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: tuple[Header, ...],
) -> int:
    """A record's exact size in an uncompressed v2 batch (Java's
    ``DefaultRecord.sizeInBytes``), its length prefix included. Runs once per
    record sent: a varint of -64..63 takes one byte, so only larger numbers
    call :func:`varint_size`."""
    body = 1  # attributes
    body += 1 if -64 <= timestamp_delta < 64 else varint_size(timestamp_delta)
    body += 1 if offset_delta < 64 else varint_size(offset_delta)
    if key is None:
        body += 1
    else:
        n = len(key)
        body += (1 if n < 64 else varint_size(n)) + n
    if value is None:
        body += 1
    else:
        n = len(value)
        body += (1 if n < 64 else varint_size(n)) + n
    if headers:
        body += varint_size(len(headers))
        for h in headers:
            name = len(h.key.encode())
            body += varint_size(name) + name
            body += 1 if h.value is None else varint_size(len(h.value)) + len(h.value)
    else:
        body += 1
    return (1 if body < 64 else varint_size(body)) + body


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where a record was written; ``offset`` is -1 for ``acks=0``."""

    topic: str
    partition: int
    offset: int
    timestamp: int


class ProducerBatch:
    """Records for one partition, sent together."""

    __slots__ = (
        "attempts",
        "base_offset",
        "created",
        "done",
        "encoded",
        "headers",
        "keys",
        "log_append_time",
        "memory",
        "parts",
        "producer_epoch",
        "producer_id",
        "retry_at",
        "sequence",
        "size",
        "timestamps",
        "tp",
        "values",
    )

    def __init__(self, tp: TopicPartition, created: float) -> None:
        self.tp = tp
        # one item per record in each, in offset order
        self.keys: list[bytes | None] = []
        self.values: list[bytes | None] = []
        self.timestamps: list[int] = []
        self.headers: list[tuple[Header, ...]] = []
        self.size = BATCH_OVERHEAD
        self.memory = 0
        self.created = created
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.base_offset = -1
        self.log_append_time = -1
        self.encoded: bytes | None = None
        self.sequence = NO_SEQUENCE
        self.producer_id = NO_PRODUCER_ID
        self.producer_epoch = NO_PRODUCER_EPOCH
        self.attempts = 0
        self.retry_at = 0.0
        #: After a split: the halves and the index of each one's first record.
        self.parts: list[tuple[int, ProducerBatch]] | None = None

    def __repr__(self) -> str:
        return f"<ProducerBatch {self.tp.topic}-{self.tp.partition} n={len(self.timestamps)}>"

    @property
    def record_count(self) -> int:
        """How many records the batch holds."""
        return len(self.timestamps)

    def append(
        self,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: tuple[Header, ...],
        size: int,
    ) -> RecordFuture:
        """Add a record whose encoded size is at most ``size`` (reserved from
        ``buffer_memory``: the batch returns it when it completes).

        ``self.size`` grows by the record's exact encoded size, as Java's
        ``MemoryRecordsBuilder`` counts it, so a batch fills to ``batch_size``
        less at most one record's bound: the bound itself runs about ten
        bytes over for a small record, a tenth of a 100-byte record, and
        summing bounds closed batches a tenth short of ``batch_size``."""
        timestamps = self.timestamps
        index = len(timestamps)
        delta = timestamp - timestamps[0] if index else 0
        timestamps.append(timestamp)
        self.keys.append(key)
        self.values.append(value)
        self.headers.append(headers)
        self.size += encoded_record_size(index, delta, key, value, headers)
        self.memory += size
        return RecordFuture(self, index)

    def split(self) -> tuple[ProducerBatch, ProducerBatch]:
        """Two batches with the first and second half of the records, which
        complete this one when both have (it must hold two or more). They
        keep its producer id, epoch and sequences, and its creation time
        (the delivery timeout runs on); its memory stays with it."""
        count = len(self.timestamps)
        half = count // 2
        first, second = ProducerBatch(self.tp, self.created), ProducerBatch(self.tp, self.created)
        for part, cut in ((first, slice(0, half)), (second, slice(half, None))):
            part.keys, part.values = self.keys[cut], self.values[cut]
            part.timestamps, part.headers = self.timestamps[cut], self.headers[cut]
            records_size = (self.size - BATCH_OVERHEAD) * len(part.timestamps) // count
            part.size = BATCH_OVERHEAD + records_size
        if self.has_sequence:
            second_sequence = (self.sequence + half) & 0x7FFFFFFF
            first.set_producer(self.producer_id, self.producer_epoch, self.sequence)
            second.set_producer(self.producer_id, self.producer_epoch, second_sequence)
        self.parts = [(0, first), (half, second)]
        for part in (first, second):
            part.done.add_done_callback(self._part_done)
        return first, second

    def _part_done(self, _fut: object) -> None:
        parts = self.parts
        if parts is not None and all(p.done.done() for _, p in parts) and not self.done.done():
            self.done.set_result(None)

    def failure(self) -> BaseException | None:
        """The first delivery error among the batch's records (after a split, any part's
        error: some records may have failed while others went through); None while
        pending or when every record was delivered."""
        if self.parts is not None:
            for _, part in self.parts:
                if (error := part.failure()) is not None:
                    return error
            return None
        done = self.done
        return done.exception() if done.done() and not done.cancelled() else None

    def part_of(self, index: int) -> tuple[ProducerBatch, int]:
        """The batch that holds record ``index`` now, and its index there."""
        batch = self
        while batch.parts is not None:
            (_, first), (start, second) = batch.parts
            if index < start:
                batch = first
            else:
                batch, index = second, index - start
        return batch, index

    def encode(self, compression: Compression, transactional: bool = False) -> bytes:
        """The batch's bytes, encoded on first use and kept for retries
        (``transactional``: part of a transaction, attributes bit 4)."""
        if self.encoded is None:
            self.encoded = encode_batch_columns(
                self.keys,
                self.values,
                self.timestamps,
                self.headers,
                compression=compression,
                producer_id=self.producer_id,
                producer_epoch=self.producer_epoch,
                base_sequence=self.sequence,
                is_transactional=transactional,
            )
        return self.encoded

    def set_producer(self, producer_id: int, epoch: int, sequence: int) -> None:
        """Stamp idempotence fields (again after an epoch bump: re-encode)."""
        self.producer_id, self.producer_epoch, self.sequence = producer_id, epoch, sequence
        self.encoded = None

    @property
    def has_sequence(self) -> bool:
        return self.sequence != NO_SEQUENCE

    def complete(self, base_offset: int, log_append_time: int) -> None:
        if not self.done.done():
            self.base_offset = base_offset
            self.log_append_time = log_append_time
            self._release()
            self.done.set_result(None)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self._release()
            self.done.set_exception(error)
            self.done.exception()  # mark retrieved: callers may not await every record

    def _release(self) -> None:
        """Let go of the records' bytes once the batch is done: callers keep
        record futures (a Streams app for a whole commit interval), and
        those must not hold every key, value and encoded batch alive. The
        timestamps stay; :meth:`RecordFuture.result` reads them."""
        self.keys = []
        self.values = []
        self.headers = []
        self.encoded = None


class RecordFuture:
    """The awaitable result of ``Producer.send``: a :class:`RecordMetadata`."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: ProducerBatch, index: int) -> None:
        self._batch = batch
        self._index = index

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        yield from self._batch.done.__await__()
        return self.result()

    @property
    def batch(self) -> ProducerBatch:
        """The batch the record is in."""
        return self._batch

    def done(self) -> bool:
        return self._batch.done.done()

    def exception(self) -> BaseException | None:
        batch = self._batch
        if batch.parts is not None and batch.done.done():
            batch = batch.part_of(self._index)[0]
        return batch.done.exception()

    def result(self) -> RecordMetadata:
        """The metadata; raises the delivery error, or ``InvalidStateError`` if pending."""
        batch, index = self._batch, self._index
        batch.done.result()
        if batch.parts is not None:
            batch, index = batch.part_of(index)
            batch.done.result()
        offset = batch.base_offset + index if batch.base_offset >= 0 else -1
        ts = batch.log_append_time if batch.log_append_time >= 0 else batch.timestamps[index]
        return RecordMetadata(batch.tp.topic, batch.tp.partition, offset, ts)

    def add_done_callback(self, fn: Callable[[RecordFuture], object]) -> None:
        """Call ``fn(self)`` once the record is delivered or failed."""
        self._batch.done.add_done_callback(lambda _f: fn(self))
