"""The record accumulator: open batches per partition and the memory they hold.

``Producer.send`` reserves the record's size from ``buffer_memory`` (waiting
up to ``max_block_ms`` when it is used up, which is the producer's
backpressure) and appends to the partition's last open batch or a new one.
The sender drains the head batch of each partition; a batch that must be
retried goes back to the head in sequence order. Memory returns to the pool
when a batch completes, succeeded or failed.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Iterator

from tidal.log.client._errors import KafkaTimeoutError
from tidal.log.client._types import TopicPartition
from tidal.log.client.producer._batch import ProducerBatch, RecordFuture
from tidal.log.records import Header

__all__ = ["RecordAccumulator"]


class RecordAccumulator:
    """Batches by partition, plus ``buffer_memory`` accounting."""

    def __init__(self, batch_size: int, buffer_memory: int) -> None:
        self.batch_size = batch_size
        self.buffer_memory = buffer_memory
        self.batches: dict[TopicPartition, deque[ProducerBatch]] = {}
        #: Every batch not yet completed (queued or in flight).
        self.incomplete: set[ProducerBatch] = set()
        self.used_memory = 0
        self._space: deque[tuple[int, asyncio.Future[None]]] = deque()
        #: Positive while ``flush`` waits: every batch is ready at once.
        self.flushing = 0

    # -- memory ------------------------------------------------------------------

    def try_reserve(self, size: int) -> bool:
        """Take ``size`` bytes if free now (and nobody waits before us)."""
        if not self._space and self.used_memory + size <= self.buffer_memory:
            self.used_memory += size
            return True
        return False

    async def reserve(self, size: int, timeout_ms: int) -> None:
        """Take ``size`` bytes, waiting up to ``timeout_ms`` for space."""
        if self.try_reserve(size):
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, fut)
        self._space.append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout_ms / 1000)
        except TimeoutError:
            if fut.done():  # granted just as the wait ended: keep it
                return
            self._space.remove(entry)
            self._grant()
            raise KafkaTimeoutError(
                f"failed to allocate {size} bytes within max_block_ms ({timeout_ms} ms): "
                f"{self.used_memory} of buffer_memory {self.buffer_memory} in use"
            ) from None
        except BaseException:
            if not fut.done():
                self._space.remove(entry)
            else:
                self.release(size)
            raise

    def release(self, size: int) -> None:
        self.used_memory -= size
        self._grant()

    def _grant(self) -> None:
        while self._space:
            size, fut = self._space[0]
            if self.used_memory + size > self.buffer_memory:
                return
            self._space.popleft()
            self.used_memory += size
            fut.set_result(None)

    # -- batches -----------------------------------------------------------------

    def append(
        self,
        tp: TopicPartition,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: tuple[Header, ...],
        size: int,
        *,
        abort_on_new_batch: bool,
    ) -> RecordFuture | None:
        """Add a record whose ``size`` was reserved to the open batch of
        ``tp`` or a new one; with ``abort_on_new_batch`` return ``None``
        instead of opening one (the sticky partitioner then moves on)."""
        dq = self.batches.get(tp)
        if dq is None:
            dq = self.batches[tp] = deque()
        elif dq:
            last = dq[-1]
            if last.attempts == 0 and last.size + size <= self.batch_size:
                return last.append(key, value, timestamp, headers, size)
        if abort_on_new_batch:
            return None
        batch = self._new_batch(tp, time.monotonic())
        dq.append(batch)
        return batch.append(key, value, timestamp, headers, size)

    def _new_batch(self, tp: TopicPartition, created: float) -> ProducerBatch:
        batch = ProducerBatch(tp, created)
        self.incomplete.add(batch)
        batch.done.add_done_callback(lambda _f: self._completed(batch))
        return batch

    def _completed(self, batch: ProducerBatch) -> None:
        self.incomplete.discard(batch)
        self.release(batch.memory)

    def _forget(self, batch: ProducerBatch, _fut: object) -> None:
        self.incomplete.discard(batch)

    def requeue(self, batch: ProducerBatch) -> None:
        """Put a batch to retry back at the head of its partition, in
        sequence order among the other batches sent before."""
        dq = self.batches.setdefault(batch.tp, deque())
        i = 0
        while i < len(dq) and dq[i].has_sequence and dq[i].sequence < batch.sequence:
            i += 1
        dq.insert(i, batch)

    def split_and_requeue(self, batch: ProducerBatch) -> None:
        """Replace a batch the broker found too large by its two halves, at
        the head of its partition as a retry would be (not counted as one)."""
        for part in reversed(batch.split()):  # the second half first: each goes to the head
            self.incomplete.add(part)
            part.done.add_done_callback(functools.partial(self._forget, part))
            self.requeue(part)

    def queued(self) -> Iterator[ProducerBatch]:
        """Every batch waiting to be sent."""
        for dq in self.batches.values():
            yield from dq

    def has_queued(self) -> bool:
        return any(self.batches.values())

    async def flush(self) -> None:
        """Wait until every batch present now has completed."""
        pending = [b.done for b in self.incomplete]
        if not pending:
            return
        self.flushing += 1
        try:
            await asyncio.wait(pending)
        finally:
            self.flushing -= 1
