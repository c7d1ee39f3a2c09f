"""The asyncio producer facade: serializers, partitioning, backpressure.

``send`` does everything up to the accumulator in the caller's task, without
awaiting when metadata is known and buffer space is free; the sender task
does the rest. ``try_send`` is the same without a coroutine: it queues the
record when no wait is needed and otherwise answers ``None``, so a loop over
many records awaits only when it must. Example::

    async with Producer(bootstrap_servers="localhost:9092") as producer:
        fut = await producer.send("events", b"hello", key=b"user-1")
        metadata = await fut  # RecordMetadata(topic, partition, offset, timestamp)
        await producer.send_and_wait("events", b"again")
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from tidal.log.client._errors import ClientClosedError, KafkaTimeoutError, RecordTooLargeError
from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.producer._accumulator import RecordAccumulator
from tidal.log.client.producer._batch import (
    BATCH_OVERHEAD,
    RECORD_OVERHEAD,
    RecordFuture,
    RecordMetadata,
    record_size,
)
from tidal.log.client.producer._config import ProducerConfig
from tidal.log.client.producer._partitioner import (
    DefaultPartitioner,
    RandomPartitioner,
    murmur2,
)
from tidal.log.client.producer._sender import Sender
from tidal.log.client.producer._transactions import TransactionManager, TransactionState
from tidal.log.client.producer._txn_errors import TransactionStateError
from tidal.log.protocol.errors import UnknownTopicOrPartitionError
from tidal.log.records import Header

__all__ = ["HeadersArg", "Producer"]

#: Record headers: ``[(key, value), ...]`` or a mapping; values bytes, str or None.
HeadersArg = Sequence[tuple[str, bytes | str | None]] | Mapping[str, bytes | str | None]


def _to_bytes(value: Any, what: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str without a {what}_serializer, got {type(value)}")


def _unknown_partition(topic: str, partition: int, partitions: list[int]) -> Exception:
    return UnknownTopicOrPartitionError(
        f"partition {partition} of topic '{topic}' does not exist (it has {len(partitions)})"
    )


def _headers(headers: HeadersArg | None) -> tuple[Header, ...]:
    if not headers:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple(Header(k, v.encode() if isinstance(v, str) else v) for k, v in items)


class Producer:
    """An asyncio Kafka producer; settings as in :class:`ProducerConfig`.

    ``Producer(bootstrap_servers=..., acks="all", linger_ms=5, ...)`` or
    ``Producer({"bootstrap.servers": ...})``. Start with ``await start()`` or
    ``async with``; :meth:`close` flushes.
    """

    def __init__(
        self, config: Mapping[str, object] | ProducerConfig | None = None, /, **settings: object
    ) -> None:
        self.config = ProducerConfig.build(config, **settings)
        c = self.config
        self._kernel = Kernel(c)
        self._acc = RecordAccumulator(c.batch_size, c.buffer_memory)
        self._sender = Sender(self._kernel, c, self._acc)
        self._txn: TransactionManager | None = None
        if c.transactional_id is not None:
            assert self._sender.idempotence is not None
            self._txn = self._sender.transactions = TransactionManager(
                self._kernel, c, self._acc, self._sender.idempotence, self._sender.wakeup
            )
        if c.partitioner is None or c.partitioner == "default":
            self._partitioner: Any = DefaultPartitioner()
        elif c.partitioner == "murmur2_random":
            self._partitioner = RandomPartitioner()
        else:
            self._partitioner = c.partitioner
        self._sticky = isinstance(self._partitioner, DefaultPartitioner)
        #: Whether keyed records go to murmur2's partition (the partitioner need not be asked).
        self._hashes_keys = type(self._partitioner) in (DefaultPartitioner, RandomPartitioner)
        self._key_ser = c.key_serializer
        self._value_ser = c.value_serializer
        self._max_size = min(c.max_request_size, c.buffer_memory)
        # TopicPartition is a NamedTuple: building one costs more than a lookup
        self._tps: dict[tuple[str, int], TopicPartition] = {}
        #: The sticky partitioner's partition of each topic, as it last chose;
        #: ``send`` appends null-key records to its open batch directly.
        self._sticky_tps: dict[str, TopicPartition] = {}
        self._started = False
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Connect and fetch metadata within ``max_block_ms``."""
        if self._started:
            return
        await self._kernel.start(timeout_ms=self.config.max_block_ms)
        self._sender.start()
        self._started = True

    async def __aenter__(self) -> Producer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def flush(self, timeout: float | None = None) -> None:
        """Send everything accepted so far and wait for the answers (or
        ``KafkaTimeoutError`` after ``timeout`` seconds)."""
        self._sender.wakeup()
        try:
            await asyncio.wait_for(self._acc.flush(), timeout)
        except TimeoutError:
            raise KafkaTimeoutError(f"flush did not finish within {timeout} s") from None

    async def close(self, timeout: float | None = None) -> None:
        """Flush (within ``timeout`` seconds; ``None``: the delivery timeout),
        fail what is left with :class:`ClientClosedError`, disconnect."""
        if self._closed:
            return
        self._closed = True
        if self._started:
            limit = self.config.delivery_timeout_ms / 1000 if timeout is None else timeout
            if self._txn is not None:  # an open transaction is aborted, as Java does
                await self._txn.close(limit)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sender.close()), limit)
            await self._sender.abort(ClientClosedError("the producer was closed"))
        await self._kernel.close()

    # -- sending -----------------------------------------------------------------

    async def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: HeadersArg | None = None,
    ) -> RecordFuture:
        """Queue a record; returns an awaitable of its :class:`RecordMetadata`.

        Awaits only for metadata of a new topic or for buffer space (both at
        most ``max_block_ms``). A record too large for ``max_request_size``
        or ``buffer_memory`` raises :class:`RecordTooLargeError` here and
        affects no other record.
        """
        if self._closed:
            raise ClientClosedError("the producer is closed")
        if self._txn is not None:
            self._txn.check_send()
        if not self._started:
            await self.start()
        key_bytes, value_bytes, hdrs, size = self._serialize(key, value, headers)
        fut = self._append_now(topic, key_bytes, value_bytes, partition, timestamp_ms, hdrs, size)
        if fut is not None:
            return fut
        return await self._append(
            topic, key_bytes, value_bytes, partition, timestamp_ms, hdrs, size
        )

    def try_send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: HeadersArg | None = None,
    ) -> RecordFuture | None:
        """:meth:`send` without awaiting: queue the record and return its
        future when that needs no wait, else queue nothing and return ``None``.

        ``None`` means :meth:`send` would have awaited: the producer is not
        started, the topic's metadata is not known yet, or ``buffer_memory``
        is used up (or other sends already wait for it). Await :meth:`send`
        with the same record then, before trying the next one: records keep
        their order per partition as with :meth:`send` alone. Every error
        :meth:`send` raises before queueing (closed producer, transaction
        state, serializer, :class:`RecordTooLargeError`, unknown partition)
        is raised here the same way. A loop over many records costs no
        coroutine per record::

            for value in values:
                fut = producer.try_send("events", value, partition=0)
                if fut is None:  # no buffer space yet
                    fut = await producer.send("events", value, partition=0)

        With serializers, a record that gets ``None`` is serialized again by
        :meth:`send`.
        """
        if self._closed:
            raise ClientClosedError("the producer is closed")
        txn = self._txn
        if txn is not None and txn.state is not TransactionState.IN_TRANSACTION:
            txn.check_send()
        if not self._started:
            return None
        key_bytes, value_bytes, hdrs, size = self._serialize(key, value, headers)
        return self._append_now(topic, key_bytes, value_bytes, partition, timestamp_ms, hdrs, size)

    def _serialize(
        self, key: Any, value: Any, headers: HeadersArg | None
    ) -> tuple[bytes | None, bytes | None, tuple[Header, ...], int]:
        """Key, value and headers as bytes, and the record's size bound."""
        if self._key_ser is not None:
            key_bytes = self._key_ser(key)
        else:
            key_bytes = key if key is None or type(key) is bytes else _to_bytes(key, "key")
        if self._value_ser is not None:
            value_bytes = self._value_ser(value)
        else:
            value_bytes = (
                value if value is None or type(value) is bytes else _to_bytes(value, "value")
            )
        if headers:
            hdrs = _headers(headers)
            size = record_size(key_bytes, value_bytes, hdrs)
        else:
            hdrs = ()
            size = (
                RECORD_OVERHEAD
                + (len(key_bytes) if key_bytes else 0)
                + (len(value_bytes) if value_bytes else 0)
            )
        if size + BATCH_OVERHEAD > self._max_size:
            raise RecordTooLargeError(
                f"the record is {size} bytes, more than max_request_size "
                f"({self.config.max_request_size}) or buffer_memory ({self.config.buffer_memory})"
            )
        return key_bytes, value_bytes, hdrs, size

    def _append_now(
        self,
        topic: str,
        key_bytes: bytes | None,
        value_bytes: bytes | None,
        partition: int | None,
        timestamp_ms: int | None,
        hdrs: tuple[Header, ...],
        size: int,
    ) -> RecordFuture | None:
        """Append a serialized record unless that must wait for metadata or
        memory (then ``None``: nothing reserved, the partitioner not asked)."""
        acc = self._acc
        if key_bytes is None and partition is None:
            # The common case, a null key for the sticky partitioner: when the
            # topic's sticky partition has an open batch with room, join it.
            tp = self._sticky_tps.get(topic)
            if tp is not None:
                fut = self._join_open_batch(tp, key_bytes, value_bytes, timestamp_ms, hdrs, size)
                if fut is not None:
                    return fut
        metadata = self._kernel.cluster.metadata
        partitions = metadata.partitions_for(topic)
        if partitions is None:
            return None
        if partition is not None:
            if partition not in partitions:
                raise _unknown_partition(topic, partition, partitions)
            tp = self._tps.get((topic, partition))
        elif key_bytes is not None and self._hashes_keys:
            # What DefaultPartitioner and RandomPartitioner answer for a key,
            # without the call; the partition is not "chosen" (no KIP-480).
            tp = self._tps.get((topic, (murmur2(key_bytes) & 0x7FFFFFFF) % len(partitions)))
        else:
            tp = None
        if tp is not None:
            joined = self._join_open_batch(tp, key_bytes, value_bytes, timestamp_ms, hdrs, size)
            if joined is not None:
                return joined
        if not acc.try_reserve(size):
            return None
        available = metadata.available_partitions_for(topic)
        chosen = partition is None
        if partition is None:
            try:
                partition = self._partitioner(topic, key_bytes, partitions, available)
            except BaseException:
                acc.release(size)
                raise
        return self._append_reserved(
            topic, partition, chosen, partitions, available, key_bytes, value_bytes,
            timestamp_ms, hdrs, size,
        )  # fmt: skip

    def _join_open_batch(
        self,
        tp: TopicPartition,
        key_bytes: bytes | None,
        value_bytes: bytes | None,
        timestamp_ms: int | None,
        hdrs: tuple[Header, ...],
        size: int,
    ) -> RecordFuture | None:
        """Append to the open batch of ``tp`` when it has room and the memory
        is free now; ``None`` (nothing reserved) otherwise."""
        acc = self._acc
        dq = acc.batches.get(tp)
        if not dq:
            return None
        batch = dq[-1]
        if batch.attempts or batch.size + size > acc.batch_size or not acc.try_reserve(size):
            return None
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        fut = batch.append(key_bytes, value_bytes, ts, hdrs, size)
        if batch.size >= acc.batch_size:
            self._sender.wakeup()
        return fut

    async def _append(
        self,
        topic: str,
        key_bytes: bytes | None,
        value_bytes: bytes | None,
        partition: int | None,
        timestamp_ms: int | None,
        hdrs: tuple[Header, ...],
        size: int,
    ) -> RecordFuture:
        """:meth:`send` when it must wait: for metadata, then memory; append."""
        acc = self._acc
        started = time.monotonic()
        metadata = self._kernel.cluster.metadata
        partitions = metadata.partitions_for(topic)
        if partitions is None:
            metadata = await self._kernel.wait_for_topic(topic, self.config.max_block_ms)
            partitions = metadata.partitions_for(topic) or []
        available = metadata.available_partitions_for(topic)
        chosen = partition is None
        if partition is None:
            partition = self._partitioner(topic, key_bytes, partitions, available)
        elif partition not in partitions:
            raise _unknown_partition(topic, partition, partitions)
        if not acc.try_reserve(size):
            spent = int((time.monotonic() - started) * 1000)
            await acc.reserve(size, max(self.config.max_block_ms - spent, 0))
            if self.closed:
                acc.release(size)
                raise ClientClosedError("the producer was closed while send waited")
        txn = self._txn
        if txn is not None and txn.state is not TransactionState.IN_TRANSACTION:
            acc.release(size)  # the transaction ended while send waited: not in it
            txn.check_send()
        return self._append_reserved(
            topic, partition, chosen, partitions, available, key_bytes, value_bytes,
            timestamp_ms, hdrs, size,
        )  # fmt: skip

    def _append_reserved(
        self,
        topic: str,
        partition: int,
        chosen: bool,
        partitions: list[int],
        available: list[int],
        key_bytes: bytes | None,
        value_bytes: bytes | None,
        timestamp_ms: int | None,
        hdrs: tuple[Header, ...],
        size: int,
    ) -> RecordFuture:
        """Append a record whose ``size`` is reserved to its partition's batch
        (``chosen``: the partitioner picked ``partition``)."""
        acc = self._acc
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        sticky = self._sticky and key_bytes is None and chosen
        tp = self._tps.get((topic, partition)) or self._topic_partition(topic, partition)
        fut = acc.append(tp, key_bytes, value_bytes, ts, hdrs, size, abort_on_new_batch=sticky)
        if fut is None:  # KIP-480: a new batch moves null keys to another partition
            partition = self._partitioner.on_new_batch(topic, partition, partitions, available)
            tp = self._topic_partition(topic, partition)
            fut = acc.append(tp, key_bytes, value_bytes, ts, hdrs, size, abort_on_new_batch=False)
            assert fut is not None
        if sticky:
            self._sticky_tps[topic] = tp
        batch = fut.batch
        if batch.record_count == 1 or batch.size >= acc.batch_size:
            self._sender.wakeup()  # a linger deadline to schedule, or a full batch
        return fut

    def _topic_partition(self, topic: str, partition: int) -> TopicPartition:
        tp = self._tps.get((topic, partition))
        if tp is None:
            tp = self._tps[topic, partition] = TopicPartition(topic, partition)
        return tp

    async def send_and_wait(
        self, topic: str, value: Any = None, key: Any = None, **kwargs: Any
    ) -> RecordMetadata:
        """:meth:`send` and wait for the record's metadata."""
        fut = await self.send(topic, value, key, **kwargs)
        return await fut

    async def partitions_for(self, topic: str) -> list[int]:
        """The partitions of ``topic`` (waiting up to ``max_block_ms`` for metadata)."""
        md = self._kernel.cluster.metadata
        parts = md.partitions_for(topic)
        if parts is None:
            md = await self._kernel.wait_for_topic(topic, self.config.max_block_ms)
            parts = md.partitions_for(topic) or []
        return parts

    # -- transactions (with a transactional_id; see _transactions) ------------------

    def _transactions(self) -> TransactionManager:
        if self._txn is None:
            raise TransactionStateError("transactions need the transactional_id setting")
        return self._txn

    async def init_transactions(self) -> None:
        """Register ``transactional_id`` with its coordinator: fences older
        producers with the same id and aborts a transaction they left open.
        Call once, before the first transaction."""
        txn = self._transactions()
        if not self._started:
            await self.start()
        await txn.init_transactions()

    def begin_transaction(self) -> None:
        """Start a transaction; records sent until it ends belong to it."""
        self._transactions().begin_transaction()

    async def send_offsets_to_transaction(
        self,
        offsets: Mapping[TopicPartition, OffsetAndMetadata | int],
        group_metadata: ConsumerGroupMetadata | str,
    ) -> None:
        """Commit a consumer group's ``offsets`` (the next record to read,
        per partition) with the current transaction; pass the consumer's
        ``group_metadata()`` so the group can fence a member that left."""
        await self._transactions().send_offsets_to_transaction(offsets, group_metadata)

    async def commit_transaction(self) -> None:
        """Flush and commit the current transaction. Raises
        ``TransactionAbortableError`` when it cannot commit (call
        :meth:`abort_transaction`), ``ProducerFencedError`` when fenced."""
        await self._transactions().commit_transaction()

    async def abort_transaction(self) -> None:
        """Abort the current transaction: records not sent yet fail with
        ``TransactionAbortedError``; none of its records or offsets are
        ever visible to ``read_committed`` consumers."""
        await self._transactions().abort_transaction()

    @property
    def transaction_state(self) -> TransactionState | None:
        """The transactional state (``None`` without a ``transactional_id``)."""
        return None if self._txn is None else self._txn.state

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def kernel(self) -> Kernel:
        """The connection/metadata core (shared with nothing else)."""
        return self._kernel
