"""The sender: one task that drains ready batches into ProduceRequests.

Each pass (woken by a full batch, a completed request, a flush, or the next
linger/backoff deadline):

1. get a producer id first when idempotent, and reset it once nothing is in
   flight if a sequence broke (see ``_idempotence``);
2. expire queued batches older than ``delivery_timeout_ms``;
3. find the partitions whose head batch is ready (full, lingered long
   enough, flushing/closing, or a retry whose backoff passed) and whose
   leader is known; group them by leader;
4. for each leader with fewer than ``max_in_flight_requests_per_connection``
   requests out, send one request with one batch per partition, up to
   ``max_request_size``.

Ordering: with idempotence up to five batches per partition are in flight
once the partition has acked a batch of the current epoch (before that, one:
see ``_idempotence``); a batch to retry goes back to the head of its
partition and is sent again only once nothing else of that partition is in
flight, so retries reach the broker in sequence order. Without idempotence,
``max_in_flight=1`` keeps order as in Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from tidal.log.client._errors import KafkaTimeoutError
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import TopicPartition
from tidal.log.client.producer._accumulator import RecordAccumulator
from tidal.log.client.producer._batch import ProducerBatch
from tidal.log.client.producer._config import ProducerConfig
from tidal.log.client.producer._idempotence import (
    IdempotenceState,
    init_producer_id_request,
    read_init_producer_id,
)
from tidal.log.protocol.errors import (
    DuplicateSequenceNumberError,
    KafkaError,
    MessageTooLargeError,
    OutOfOrderSequenceNumberError,
    UnknownProducerIdError,
    error_for_code,
)
from tidal.log.protocol.messages import InitProducerIdRequest, ProduceRequest, ProduceResponse
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData

if TYPE_CHECKING:
    from tidal.log.client.producer._transactions import TransactionManager

__all__ = ["Sender"]

log = logging.getLogger(__name__)

#: Errors after which the partition leader may have moved.
_METADATA_ERRORS = frozenset({3, 5, 6, 9, 13, 19})


class Sender:
    """Moves batches from the accumulator to the brokers (module docstring)."""

    def __init__(
        self,
        kernel: Kernel,
        config: ProducerConfig,
        accumulator: RecordAccumulator,
    ) -> None:
        self.kernel = kernel
        self.config = config
        self.acc = accumulator
        self.idempotence = IdempotenceState() if config.idempotent else None
        #: Set by a transactional producer: gates partitions, gets the producer id.
        self.transactions: TransactionManager | None = None
        self.closing = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()
        self._node_in_flight: dict[int, int] = defaultdict(int)
        self._tp_in_flight: dict[TopicPartition, int] = defaultdict(int)
        self._init_task: asyncio.Task[None] | None = None
        self._acks = config.acks_value
        self._linger = config.linger_ms / 1000
        self._delivery_timeout = config.delivery_timeout_ms / 1000

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def wakeup(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        """Send what is queued (the caller bounds the wait), then stop."""
        self.closing = True
        self.wakeup()
        if self._task is not None:
            await self._task

    async def abort(self, error: BaseException) -> None:
        """Stop at once, failing every queued and in-flight batch with ``error``."""
        self.closing = True
        for task in [self._task, self._init_task, *self._requests]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for batch in list(self.acc.incomplete):
            batch.fail(error)
        self.acc.batches.clear()

    # -- the loop ----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            delay = self._run_once(time.monotonic())
            if self.closing and not self.acc.incomplete and not self._requests:
                return
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            else:
                await asyncio.sleep(0)
            self._wake.clear()

    def _run_once(self, now: float) -> float:
        """One pass; the seconds until the next thing is due."""
        idem = self.idempotence
        txn = self.transactions
        if txn is None and idem is not None and (not idem.has_producer_id or idem.needs_reset):
            if self._init_task is None and (not idem.needs_reset or not self._requests):
                self._init_task = asyncio.get_running_loop().create_task(self._init_producer())
            if not idem.has_producer_id or idem.needs_reset:
                self._expire(now)
                return 0.1
        delay = self._expire(now)
        ready: dict[int, list[TopicPartition]] = defaultdict(list)
        cluster = self.kernel.cluster.metadata
        urgent = self.closing or self.acc.flushing > 0
        for tp, dq in self.acc.batches.items():
            if not dq:
                continue
            batch = dq[0]
            leader = cluster.leader_for(tp)
            if leader is None:
                self.kernel.request_update()
                delay = min(delay, 0.05)
                continue
            if txn is not None and not txn.may_send(tp):
                continue
            if not self._can_drain(tp, batch):
                continue
            if batch.attempts:
                if now < batch.retry_at:
                    delay = min(delay, batch.retry_at - now)
                    continue
            elif not (urgent or len(dq) > 1 or batch.size >= self.acc.batch_size):
                due = batch.created + self._linger
                if now < due:
                    delay = min(delay, due - now)
                    continue
            ready[leader].append(tp)
        limit = self.config.max_in_flight_requests_per_connection
        for node, tps in ready.items():
            if self._node_in_flight[node] < limit:
                self._send(node, self._drain(tps))
        return delay

    def _can_drain(self, tp: TopicPartition, batch: ProducerBatch) -> bool:
        in_flight = self._tp_in_flight[tp]
        if self.idempotence is None:
            return in_flight == 0 or self.config.max_in_flight_requests_per_connection > 1
        if batch.has_sequence:  # a retry: alone, in order
            return in_flight == 0
        if not self.idempotence.has_acked(tp):
            # The partition may not know us yet and would take any sequence
            # first: one batch at a time until it has acked one (module doc).
            return in_flight == 0
        return in_flight < self.config.max_in_flight_requests_per_connection

    def _drain(self, tps: list[TopicPartition]) -> list[ProducerBatch]:
        out: list[ProducerBatch] = []
        size = 0
        idem = self.idempotence
        for tp in tps:
            batch = self.acc.batches[tp][0]
            if out and size + batch.size > self.config.max_request_size:
                break
            self.acc.batches[tp].popleft()
            if idem is not None and not batch.has_sequence:
                seq = idem.next_sequence(tp, batch.record_count)
                batch.set_producer(idem.producer_id, idem.producer_epoch, seq)
            size += batch.size
            out.append(batch)
        return out

    def _expire(self, now: float) -> float:
        """Fail queued batches past ``delivery_timeout_ms``; seconds to the next expiry.

        Batches queue in creation order (a retry or split goes back to the
        head, and is older), so the head of each partition expires first."""
        nxt = 3600.0
        for dq in self.acc.batches.values():
            while dq and now - dq[0].created >= self._delivery_timeout:
                batch = dq.popleft()
                self._fail(batch, self._timeout_error(batch, now))
            if dq:
                nxt = min(nxt, dq[0].created + self._delivery_timeout - now)
        return nxt

    def _timeout_error(self, batch: ProducerBatch, now: float) -> KafkaTimeoutError:
        tp = batch.tp
        age = int((now - batch.created) * 1000)
        return KafkaTimeoutError(
            f"expiring {batch.record_count} record(s) for {tp.topic}-{tp.partition}: "
            f"{age} ms has passed since batch creation (delivery_timeout_ms)"
        )

    # -- producer id -------------------------------------------------------------

    async def _init_producer(self) -> None:
        idem = self.idempotence
        assert idem is not None

        async def attempt() -> tuple[int, int]:
            # A retriable code in the answer (COORDINATOR_LOAD_IN_PROGRESS
            # while a broker starts) is raised here, so it is retried with
            # backoff like a failed request.
            response = await self.kernel.send_to_any(
                InitProducerIdRequest, lambda v: init_producer_id_request(idem, v)
            )
            return read_init_producer_id(response)

        try:
            pid, epoch = await self.kernel.retry(
                attempt, timeout_ms=self.config.delivery_timeout_ms
            )
            for batch in self.acc.queued():  # their sequences belong to the old epoch
                batch.set_producer(pid, epoch, -1)
            idem.set_producer(pid, epoch)
        except KafkaError as e:
            log.warning("InitProducerId failed: %s", e)
        finally:
            self._init_task = None
            self.wakeup()

    # -- requests ----------------------------------------------------------------

    def _send(self, node: int, batches: list[ProducerBatch]) -> None:
        self._node_in_flight[node] += 1
        for b in batches:
            self._tp_in_flight[b.tp] += 1
        task = asyncio.get_running_loop().create_task(self._produce(node, batches))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _produce(self, node: int, batches: list[ProducerBatch]) -> None:
        acknowledged = False
        try:
            topics: dict[str, list[PartitionProduceData]] = defaultdict(list)
            compression = self.config.compression
            txn = self.transactions is not None
            for b in batches:
                topics[b.tp.topic].append(
                    PartitionProduceData(index=b.tp.partition, records=b.encode(compression, txn))
                )
            request = ProduceRequest(
                acks=self._acks,
                timeout_ms=self.config.request_timeout_ms,
                topic_data=[TopicProduceData(name=t, partition_data=p) for t, p in topics.items()],
                transactional_id=self.config.transactional_id,
            )
            for b in batches:
                b.attempts += 1
            try:
                response = await self.kernel.send(node, ProduceRequest, request)
            except KafkaError as e:
                self.kernel.request_update()
                for b in batches:
                    self._handle_error(b, e)
                return
            if response is None:  # acks=0
                for b in batches:
                    b.complete(-1, -1)
                return
            acknowledged = self._handle_response(response, batches)
        finally:
            self._node_in_flight[node] -= 1
            for b in batches:
                self._tp_in_flight[b.tp] -= 1
            if acknowledged and self.config.max_in_flight_requests_per_connection == 1:
                # With one request at a time, the next one goes out now, ahead of
                # whatever the completed batches wake (a caller blocked on buffer
                # memory converts a batch's worth of records before it yields), which
                # would otherwise sit between one response and the next request. The
                # sender's own pass still follows (timers, retries, closing); it finds
                # the request slot taken. After an error that pass alone decides.
                self._run_once(time.monotonic())
            self.wakeup()

    def _handle_response(self, response: ProduceResponse, batches: list[ProducerBatch]) -> bool:
        """Complete, retry or fail each batch; whether every one was acknowledged."""
        by_tp = {b.tp: b for b in batches}
        clean = True
        for topic in response.responses:
            for p in topic.partition_responses:
                batch = by_tp.pop(TopicPartition(topic.name, p.index), None)
                if batch is None:
                    continue
                if p.error_code == 0:
                    self._acknowledged(batch)
                    batch.complete(p.base_offset, p.log_append_time_ms)
                elif p.error_code == DuplicateSequenceNumberError.code:
                    self._acknowledged(batch)
                    batch.complete(-1, -1)  # written before; the offset is not known
                else:
                    clean = False
                    message = p.error_message or None
                    self._handle_error(batch, error_for_code(p.error_code)(message))
        for batch in by_tp.values():
            clean = False
            self._handle_error(batch, KafkaError("no answer for this partition in the response"))
        return clean

    def _acknowledged(self, batch: ProducerBatch) -> None:
        idem = self.idempotence
        if idem is not None and batch.has_sequence:
            last = (batch.sequence + batch.record_count - 1) & 0x7FFFFFFF
            idem.acknowledged(batch.tp, batch.producer_id, batch.producer_epoch, last)

    def _handle_error(self, batch: ProducerBatch, error: KafkaError) -> None:
        now = time.monotonic()
        if (
            isinstance(error, MessageTooLargeError)
            and batch.record_count > 1
            and now - batch.created < self._delivery_timeout
            and not (self.closing and self.kernel.closed)
        ):
            # As Java's producer does: the halves go out in its place, with its
            # sequences, and a lone record that is still too large fails alone.
            log.debug("splitting %r after %s", batch, error)
            self.acc.split_and_requeue(batch)
            return
        idem = self.idempotence
        if (
            isinstance(error, OutOfOrderSequenceNumberError)
            and idem is not None
            and batch.producer_epoch == idem.producer_epoch
            and idem.is_behind(batch.tp, batch.sequence)
        ):
            # The partition wrote a later batch: this one would land out of order.
            self._fail(batch, error)
            return
        resets = isinstance(error, UnknownProducerIdError | OutOfOrderSequenceNumberError)
        # Our sequence broke for this partition (KIP-360): restart at a new epoch.
        # An out-of-order answer to a batch that is not the next one after the
        # last acknowledged needs no reset: an earlier batch is still in flight
        # or to be retried, and this one is retried behind it (Kafka's canRetry).
        if (
            resets
            and idem is not None
            and batch.producer_epoch == idem.producer_epoch
            and (
                isinstance(error, UnknownProducerIdError) or idem.is_next(batch.tp, batch.sequence)
            )
        ):
            idem.needs_reset = True
        retriable = error.retriable or (resets and idem is not None)
        if getattr(error, "code", None) in _METADATA_ERRORS:
            self.kernel.request_update()
        expired = now - batch.created >= self._delivery_timeout
        if (
            retriable
            and not expired
            and batch.attempts <= self.config.retries
            and not (self.closing and self.kernel.closed)
        ):
            batch.retry_at = now + self.kernel.backoff_ms(batch.attempts - 1) / 1000
            log.debug("retrying %r after %s", batch, error)
            self.acc.requeue(batch)
            return
        self._fail(batch, self._timeout_error(batch, now) if expired and retriable else error)

    def _fail(self, batch: ProducerBatch, error: BaseException) -> None:
        idem = self.idempotence
        if idem is not None and batch.has_sequence and batch.producer_id == idem.producer_id:
            idem.needs_reset = True  # its sequences left a gap
        if self.transactions is not None:
            error = self.transactions.on_batch_failed(error)
        batch.fail(error)
