"""The source task loop: poll → transforms → converters → produce → commit offsets.

::

    while running:
        records = task.poll()
        for each record: transforms, key/value/header converters (each under the
            connector's error handling), then Producer.send
        acknowledged records, in the order they were polled:
            task.commit_record(record, metadata); their source offsets become committable
        every offset.flush.interval.ms: write the committable offsets, then task.commit()
    on stop: flush the producer, commit what was acknowledged, task.stop()

A source offset is committed only once Kafka acknowledged its record and every record
polled before it, so a crash can repeat records but never skip one (Kafka's
``SubmittedRecords``). A record dropped by a transform or skipped by ``errors.tolerance=all``
still moves its offset on.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from tidal.connectors.api import Headers, SourceRecord, SourceTask, invoke
from tidal.connectors.converters import HeaderConverter
from tidal.connectors.transforms import TransformationChain
from tidal.log.client.producer import Producer, RecordFuture, RecordMetadata
from tidal.log.protocol.errors import KafkaError

from ._errors import ErrorHandler, ErrorSettings, Skip, Stage, class_name
from ._offsets import Offset, Partition, TaskOffsetReader, partition_id
from ._task import WorkerTask
from ._topic_log import TopicOffsetStore
from ._transactions import ConnectorTransactionContext, SourceTransactions

__all__ = ["WorkerSourceTask"]

_log = logging.getLogger("tidal.connectors.runtime")


@dataclass(slots=True)
class _Submitted:
    record: SourceRecord
    future: RecordFuture | None  # None: dropped or skipped, nothing to wait for


def _convert_headers(
    converter: HeaderConverter, topic: str, headers: Headers
) -> list[tuple[str, bytes | None]]:
    return [
        (h.key, converter.from_connect_header(topic, h.key, h.schema, h.value)) for h in headers
    ]


class _SourceTaskContext:
    def __init__(
        self,
        configs: dict[str, str],
        reader: TaskOffsetReader,
        transactions: ConnectorTransactionContext | None,
    ) -> None:
        self._configs = configs
        self._reader = reader
        self._transactions = transactions

    @property
    def configs(self) -> dict[str, str]:
        """The task's configuration."""
        return self._configs

    @property
    def offset_storage_reader(self) -> TaskOffsetReader:
        """Committed source offsets of the connector."""
        return self._reader

    @property
    def transaction_context(self) -> ConnectorTransactionContext | None:
        """Present with ``transaction.boundary=connector`` under exactly-once."""
        return self._transactions


class WorkerSourceTask(WorkerTask):
    """Runs a connector's :class:`~tidal.connectors.api.SourceTask`."""

    task: SourceTask
    producer: Producer
    chain: TransformationChain[Any]
    errors: ErrorHandler
    _eos = False
    _txn: SourceTransactions | None = None
    _wants_commit_record = False

    async def initialize(self) -> None:
        """Converters, transforms, producer; then the task's ``initialize`` and ``start``."""
        env = self.env
        self.converters = env.plugins.converters(env.worker, self.connector_config)
        self.chain = env.plugins.transforms(self.connector_config)
        self.errors = ErrorHandler(
            ErrorSettings.from_config(self.connector_config), str(self.id), self.metrics
        )
        self._pending: collections.deque[_Submitted] = collections.deque()
        self._committable: dict[Hashable, tuple[Partition, Offset | None]] = {}
        self._last_partition: Partition | None = None
        self._last_key: Hashable = None
        store = env.offsets
        self._eos = env.worker.exactly_once_source and isinstance(store, TopicOffsetStore)
        self._txn = SourceTransactions(self, store) if isinstance(store, TopicOffsetStore) else None
        self.producer = Producer(self._producer_settings())
        await self.producer.start()
        if self._eos:
            await self.producer.init_transactions()  # fences an older instance of this task
        connector_cls = env.plugins.connector_class(self.connector_config["connector.class"])
        task_cls = connector_cls().task_class()
        self.task = task_cls()  # type: ignore[assignment]
        reader = TaskOffsetReader(env.offsets, self.id.connector)
        boundaries = self._txn.context if self._eos and self._txn is not None else None
        self.task.initialize(_SourceTaskContext(self.config, reader, boundaries))
        # Calling the base class's no-op would cost a thread hop per record.
        self._wants_commit_record = type(self.task).commit_record is not SourceTask.commit_record
        self._started = False
        await invoke(self.task.start, self.config)
        self._started = True

    def _producer_settings(self) -> dict[str, Any]:
        prefix = "producer.override."
        overrides = {"client.id": f"connector-producer-{self.id}"}
        # Kafka Connect's source producers retry for as long as it takes: a
        # broker outage must not expire records whose offsets are not yet
        # committed. The worker's producer.* and producer.override.* still win.
        if "producer.delivery.timeout.ms" not in self.env.worker.props:
            overrides["delivery.timeout.ms"] = str(2**31 - 1)
        if self.env.worker.exactly_once_source:
            # Kafka's ${groupId}-${connector}-${taskId}: a restarted task fences its zombie.
            group = self.env.worker.group_id
            overrides["transactional.id"] = f"{group}-{self.id.connector}-{self.id.task}"
        if "producer.client.id" in self.env.worker.props:
            overrides["client.id"] = self.env.worker.props["producer.client.id"]
        for key, value in self.connector_config.items():
            if key.startswith(prefix):
                overrides[key[len(prefix) :]] = value
        return self.env.worker.client_settings("producer", overrides)

    async def execute(self) -> None:
        """Poll and send until stopped; commit offsets every ``offset.flush.interval.ms``
        (or, exactly once, with each transaction)."""
        if self._eos:
            assert self._txn is not None
            await self._txn.execute()
            return
        interval = self.env.worker.offset_flush_interval_ms / 1000
        next_commit = time.monotonic() + interval
        while not self.stopping:
            if self.paused:
                await self.commit_offsets()
                await self.wait_while_paused()
                continue
            await self.poll_and_submit()
            await self._drain_acks()
            if time.monotonic() >= next_commit:
                await self.commit_offsets()
                next_commit = time.monotonic() + interval

    async def poll_and_submit(self) -> int:
        """One ``poll()``, each record sent; how many records it returned."""
        records = await invoke(self.task.poll)
        if not records:
            await asyncio.sleep(0)  # a task that returns at once must not hog the loop
            return 0
        self.metrics.polled(len(records))
        txn = self._txn if self._eos else None
        if txn is None:
            await self._submit_all(records)
        else:
            for record in records:
                txn.begin()
                await self._submit_all((record,))
                await txn.after(record)
        return len(records)

    async def _submit_all(self, records: Iterable[SourceRecord]) -> None:
        """Transform, convert and send each record, in order.

        Each plugin call runs inline; only a failure goes through the error handler. The
        loop keeps what it uses in locals: it runs once per record.
        """
        converters = self.converters
        assert converters is not None
        errors = self.errors
        stages = self.chain.stages
        key_from = converters.key.from_connect_data
        value_from = converters.value.from_connect_data
        send = self.producer.send
        try_send = self.producer.try_send
        append = self._pending.append
        for record in records:
            current: Any = record
            for stage in stages:
                try:
                    current = stage.apply(current)
                except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                    current = await errors.recover(
                        Stage.TRANSFORMATION, class_name(stage.transformation),
                        functools.partial(stage.apply, current), exc, source=record,
                    )  # fmt: skip
                if current is None or isinstance(current, Skip):
                    break
            if current is None or isinstance(current, Skip):
                append(_Submitted(record, None))
                continue
            out: SourceRecord = current
            topic = out.topic
            headers = out.headers
            skipped = False
            try:
                key_bytes: Any = key_from(topic, out.key_schema, out.key, headers)
            except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                key_bytes = await errors.recover(
                    Stage.KEY_CONVERTER, converters.key_class,
                    functools.partial(key_from, topic, out.key_schema, out.key, headers),
                    exc, source=record,
                )  # fmt: skip
                skipped = isinstance(key_bytes, Skip)
            try:
                value_bytes: Any = value_from(topic, out.value_schema, out.value, headers)
            except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                value_bytes = await errors.recover(
                    Stage.VALUE_CONVERTER, converters.value_class,
                    functools.partial(value_from, topic, out.value_schema, out.value, headers),
                    exc, source=record,
                )  # fmt: skip
                skipped = skipped or isinstance(value_bytes, Skip)
            header_list: Any = None
            if headers:
                header_list = await errors.run(
                    Stage.HEADER_CONVERTER, converters.header_class,
                    functools.partial(_convert_headers, converters.header, topic, headers),
                    source=record,
                )  # fmt: skip
                skipped = skipped or isinstance(header_list, Skip)
            if skipped:  # a tolerated conversion failure: nothing to send
                append(_Submitted(record, None))
                continue
            try:
                # Without a coroutine per record; send() when the producer must wait
                # (metadata of a new topic, buffer space), in the same order.
                future = try_send(
                    topic, value_bytes, key_bytes, partition=out.kafka_partition,
                    timestamp_ms=out.timestamp, headers=header_list,
                )  # fmt: skip
                if future is None:
                    future = await send(
                        topic, value_bytes, key_bytes, partition=out.kafka_partition,
                        timestamp_ms=out.timestamp, headers=header_list,
                    )  # fmt: skip
            except KafkaError as exc:
                await errors.failed(Stage.KAFKA_PRODUCE, class_name(self.producer), exc,
                                    source=record)  # fmt: skip
                append(_Submitted(record, None))
                continue
            append(_Submitted(record, future))

    @property
    def pending(self) -> collections.deque[_Submitted]:
        """Records sent and not yet handed back to the task, in poll order."""
        return self._pending

    async def drain_acks(self) -> None:
        """Hand acknowledged records back to the task, in poll order."""
        await self._drain_acks()

    async def _drain_acks(self) -> None:
        """Hand acknowledged records back to the task, in poll order."""
        pending = self._pending
        popleft = pending.popleft
        topics = self.topics
        wants_commit_record = self._wants_commit_record
        written = 0
        try:
            while pending:
                entry = pending[0]
                future = entry.future
                if future is not None and not future.done():
                    break
                popleft()
                metadata: RecordMetadata | None = None
                if future is not None:
                    error = future.exception()
                    if error is None:
                        written += 1
                        if wants_commit_record:
                            metadata = future.result()
                            topic = metadata.topic
                        else:  # the metadata is only for the task: its topic suffices
                            topic = future.batch.tp.topic
                        if topic not in topics:
                            topics.add(topic)
                    else:
                        await self.errors.failed(
                            Stage.KAFKA_PRODUCE, class_name(self.producer), error,
                            source=entry.record,
                        )  # fmt: skip
                record = entry.record
                partition = record.source_partition
                if partition is not None:
                    if partition is not self._last_partition:
                        self._track(record)  # a new partition object: work out its key
                    else:  # the same dict object as last time: the same key
                        self._committable[self._last_key] = (partition, record.source_offset)
                if wants_commit_record:
                    await invoke(self.task.commit_record, record, metadata)
        finally:
            if written:
                self.metrics.written(written)

    def _track(self, record: SourceRecord) -> None:
        partition = record.source_partition
        if partition is None:
            return
        # Per record: a cheap key (the same dict object as last time, or its items);
        # canonical JSON ids are made once per partition when committing.
        if partition is not self._last_partition:
            try:
                self._last_key = frozenset(partition.items())
            except TypeError:  # unhashable values
                self._last_key = partition_id(partition)
            self._last_partition = partition
        self._committable[self._last_key] = (partition, record.source_offset)

    async def commit_offsets(self, *, drain: bool = True) -> None:
        """Store the offsets of every acknowledged record, then call ``task.commit()``.

        ``drain=False`` (after a failure) commits only what was already taken in order,
        never past a record whose delivery failed.
        """
        if drain:
            await self._drain_acks()
        if not self._committable:
            return
        committable, self._committable = self._committable, {}
        try:
            await self.env.offsets.write(
                self.id.connector, {partition_id(p): (p, o) for p, o in committable.values()}
            )
        except Exception:
            self.metrics.commit(False)
            for pid, entry in committable.items():
                self._committable.setdefault(pid, entry)
            raise
        self.metrics.commit(True)
        await invoke(self.task.commit)

    async def close(self) -> None:
        """Flush what was sent, commit its offsets, stop the task, close the producer."""
        producer = getattr(self, "producer", None)
        try:
            if self._eos and self._txn is not None:
                await self._txn.close()
            elif producer is not None and hasattr(self, "_pending"):
                if not self.failed:
                    timeout = self.env.worker.offset_flush_timeout_ms / 1000
                    try:
                        await producer.flush(timeout)
                    except (KafkaError, TimeoutError) as exc:
                        _log.error("Task %s could not flush its records before stopping: %s",
                                   self.id, exc)  # fmt: skip
                await self.commit_offsets(drain=not self.failed)
        finally:
            try:
                if getattr(self, "_started", False):
                    await invoke(self.task.stop)
            finally:
                if producer is not None:
                    await producer.close(self.env.worker.offset_flush_timeout_ms / 1000)
                if self.converters is not None:
                    self.converters.close()
                if hasattr(self, "chain"):
                    self.chain.close()
