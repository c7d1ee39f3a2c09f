"""Records through tasks, outputs into the producer, bad input to its handler.

Each polled partition's records go through its task's chain in plain calls,
without an await per record; what the tasks send piles up in one list that
goes to the producer after the batch, through ``Producer.try_send`` (no
await per record either). The stores' changelog records go the same way at
commit (:meth:`Processor.send_changelog`).

Bad input:

* :class:`DeserializationError` goes to ``deserialization_exception_handler``:
  ``"fail"`` stops the application with the record's coordinates;
  ``"log_and_continue"`` logs it, sends the raw record to the dead-letter
  topic (when one is set) with ``tidal.error.*`` headers, and skips it;
* anything else a task raises stops the application as a
  :class:`ProcessingError` with the coordinates; the runtime then commits
  nothing of the current interval, so a restart reads the record again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.client.producer import Producer, RecordFuture
from tidal.streams._contract import DeserializationError, ProcessingError, StreamsError
from tidal.streams.runtime._config import AppConfig
from tidal.streams.runtime._metrics import StreamsMetrics
from tidal.streams.runtime._tasks import TaskManager

__all__ = ["DLQ_HEADERS", "Processor"]

log = logging.getLogger("tidal.streams.runtime")

#: Headers added to a record sent to the dead-letter topic.
DLQ_HEADERS = (
    "tidal.error.class",
    "tidal.error.message",
    "tidal.error.topic",
    "tidal.error.partition",
    "tidal.error.offset",
)


class Processor:
    """Moves records between the consumer, the tasks and the producer."""

    def __init__(
        self,
        config: AppConfig,
        tasks: TaskManager,
        producer: Producer,
        consumer: Consumer,
        metrics: StreamsMetrics,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        #: Called before outputs go to the producer (exactly-once: begin the transaction).
        self._before_send = before_send
        self._tasks = tasks
        self._producer = producer
        self._consumer = consumer
        self._metrics = metrics
        self._continue = config.deserialization_exception_handler == "log_and_continue"
        #: One future per producer batch of the current interval.
        self._batches: dict[int, RecordFuture] = {}

    def process(self, batch: Mapping[TopicPartition, list[ConsumerRecord]]) -> int:
        """Run ``batch`` through the tasks; the number of records processed."""
        count = 0
        by_partition = self._tasks.by_partition
        for tp, records in batch.items():
            if not records:
                continue
            task = by_partition.get(tp)
            if task is None:
                continue  # revoked while the batch was on its way
            chain = task.chain
            if chain is None:
                # Fetched before the pause took hold: read it again later.
                self._consumer.seek(tp, records[0].offset)
                continue
            process = chain.process
            for r in records:
                try:
                    process(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp, r.headers)
                except DeserializationError as e:
                    if not self._continue:
                        raise
                    self._skip(r, e)
                except StreamsError:
                    raise
                except Exception as e:
                    raise ProcessingError(r.topic, r.partition, r.offset, e) from e
            task.consumed[tp] = records[-1].offset + 1
            count += len(records)
        return count

    def punctuate(self) -> None:
        """Fire the wall-clock punctuators that are due."""
        tasks = [t for t in self._tasks.tasks.values() if t.chain is not None]
        if not tasks:
            return
        now = int(time.time() * 1000)
        for task in tasks:
            assert task.chain is not None
            try:
                task.chain.punctuate_wall_clock(now)
            except StreamsError:
                raise
            except Exception as e:
                raise StreamsError(
                    f"a wall-clock punctuator of task {task.id} failed: {e!r}"
                ) from e

    def _skip(self, record: ConsumerRecord, error: DeserializationError) -> None:
        log.warning("skipping a record (log_and_continue): %s", error)
        self._metrics.skipped("deserialization")
        topic = self._config.dead_letter_topic
        if topic is None:
            return
        cause = error.cause
        headers = (
            *record.headers,
            ("tidal.error.class", type(cause).__name__.encode()),
            ("tidal.error.message", str(cause).encode()),
            ("tidal.error.topic", record.topic.encode()),
            ("tidal.error.partition", str(record.partition).encode()),
            ("tidal.error.offset", str(record.offset).encode()),
        )
        self._tasks.outputs.append(
            (topic, record.key, record.value, record.timestamp, headers, None)
        )

    async def send_outputs(self) -> None:
        """Hand every buffered output record to the producer.

        A record leaves the buffer only once the producer took it, so a
        send interrupted (cancelled, out of buffer memory) loses nothing the
        next commit would count as done. ``try_send`` queues each record
        without a coroutine; only a record it refuses (no buffer space, a
        topic without metadata yet) is awaited through ``send``.
        """
        outputs = self._tasks.outputs
        if not outputs:
            return
        if self._before_send is not None:
            self._before_send()
        producer = self._producer
        try_send = producer.try_send
        batches = self._batches
        sent = 0
        try:
            for topic, key, value, timestamp, headers, partition in outputs:
                ts = timestamp if timestamp >= 0 else None
                hdrs = headers or None
                fut = try_send(
                    topic, value, key, partition=partition, timestamp_ms=ts, headers=hdrs
                )
                if fut is None:
                    fut = await producer.send(
                        topic, value, key, partition=partition, timestamp_ms=ts, headers=hdrs
                    )
                batches[id(fut.batch)] = fut
                sent += 1
        finally:
            del outputs[:sent]

    async def send_changelog(
        self, writes: Sequence[tuple[bytes, bytes | None]], tp: TopicPartition
    ) -> RecordFuture | None:
        """Produce a store's buffered ``writes`` to its changelog partition
        ``tp``, in order; the last record's future (``None`` without writes).

        Like :meth:`send_outputs`, without a coroutine per record.
        """
        if not writes:
            return None
        if self._before_send is not None:
            self._before_send()
        producer = self._producer
        try_send = producer.try_send
        topic, partition = tp.topic, tp.partition
        fut = None
        for key, value in writes:
            fut = try_send(topic, value, key, partition=partition)
            if fut is None:
                fut = await producer.send(topic, value, key, partition=partition)
        return fut

    def discard(self) -> None:
        """Forget the outputs and deliveries of an interval that was aborted."""
        self._tasks.outputs.clear()
        self._batches.clear()

    def raise_delivery_errors(self) -> None:
        """After a flush: raise the first delivery failure of the interval."""
        batches, self._batches = self._batches, {}
        for fut in batches.values():
            # One future per batch is kept; a batch split after MESSAGE_TOO_LARGE may
            # have failed in a part that future's record is not in.
            error = fut.batch.failure()
            if error is not None:
                raise StreamsError(f"producing output failed: {error!r}") from error
