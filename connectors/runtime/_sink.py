"""The sink task loop: consume → converters → transforms → put → pre_commit → commit.

::

    consumer in group connect-<connector>, subscribed to topics / topics.regex
    on assignment: task.open(partitions); on revocation: commit, then task.close(partitions)
    while running:
        records = consumer.getmany()
        each record: header/key/value converters, then transforms (under error handling;
            failures go to the dead letter queue when one is configured)
        task.put(records)    a RetriableError retries the same batch, partitions paused
        every offset.flush.interval.ms (or when the task asks):
            offsets = task.pre_commit(consumed offsets)   (the default flushes)
            wait for records reported to the dead letter queue, then commit offsets
    on stop: the same commit, task.close(assigned), task.stop(), consumer closed

Consumer offsets are committed only after ``pre_commit`` (by default ``flush``), so the
records they cover are already durable in the external system.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import re
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from tidal.connectors.api import (
    ConnectError,
    Header,
    Headers,
    OffsetAndMetadata,
    RetriableError,
    SinkRecord,
    SinkTask,
    TimestampType,
    TopicPartition,
    invoke,
)
from tidal.connectors.api._records import empty_headers, make_sink_record
from tidal.connectors.converters import HeaderConverter
from tidal.connectors.transforms import TransformationChain
from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import Consumer, ConsumerRecord
from tidal.log.client.consumer import OffsetAndMetadata as ClientOffset
from tidal.log.client.consumer import TopicPartition as ClientTopicPartition
from tidal.log.client.producer import Producer
from tidal.log.protocol.errors import KafkaError

from ._errors import (
    DeadLetterQueue,
    ErrorHandler,
    ErrorSettings,
    Skip,
    Stage,
    class_name,
    ensure_topic,
)
from ._sink_context import SinkContext
from ._task import WorkerTask

__all__ = ["WorkerSinkTask", "sink_group_id"]

_log = logging.getLogger("tidal.connectors.runtime")
_TIMESTAMP_TYPES = {0: TimestampType.CREATE_TIME, 1: TimestampType.LOG_APPEND_TIME}


def _convert_headers(
    converter: HeaderConverter, topic: str, headers: Iterable[tuple[str, bytes | None]]
) -> Headers:
    convert = converter.to_connect_header
    return Headers(
        Header(k, sv.value, sv.schema) for k, v in headers for sv in [convert(topic, k, v)]
    )


def sink_group_id(connector: str) -> str:
    """The consumer group of a sink connector (Kafka's ``connect-<name>``)."""
    return f"connect-{connector}"


class WorkerSinkTask(WorkerTask):
    """Runs a connector's :class:`~tidal.connectors.api.SinkTask`."""

    task: SinkTask
    consumer: Consumer
    chain: TransformationChain[Any]
    errors: ErrorHandler
    context: SinkContext

    async def initialize(self) -> None:
        """Converters, transforms, error handling, consumer; then ``start`` and subscribe."""
        env, props = self.env, self.connector_config
        self.converters = env.plugins.converters(env.worker, props)
        self.chain = env.plugins.transforms(props)
        settings = ErrorSettings.from_config(props)
        self._dlq_producer: Producer | None = None
        dlq = None
        if settings.dlq_topic:
            async with AdminClient(env.worker.client_settings("admin")) as admin:
                await ensure_topic(admin, settings.dlq_topic, 1, settings.dlq_replication_factor)
            self._dlq_producer = Producer(env.worker.client_settings("producer"))
            dlq = DeadLetterQueue(self._dlq_producer, settings, self.id.connector, self.id.task)
        self.errors = ErrorHandler(settings, str(self.id), self.metrics, dlq)
        # The consumed records are kept only when a failed put may need them (DLQ, log).
        self._keep_raw = settings.tolerance_all or bool(settings.dlq_topic) or settings.log_enable
        self._current: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._raw: dict[tuple[str, int, int], ConsumerRecord] = {}
        self._closing = False
        self.consumer = Consumer(self._consumer_settings())
        reporter = settings.tolerance_all or bool(settings.dlq_topic) or settings.log_enable
        self.context = SinkContext(self, self.config, reporter)
        connector_cls = env.plugins.connector_class(props["connector.class"])
        self.task = connector_cls().task_class()()  # type: ignore[assignment]
        self.task.initialize(self.context)
        self._started = False
        await invoke(self.task.start, self.config)
        self._started = True
        topics = [t.strip() for t in props.get("topics", "").split(",") if t.strip()]
        if topics:
            self.consumer.subscribe(topics, listener=self)
        else:
            self.consumer.subscribe(pattern=re.compile(props["topics.regex"]), listener=self)

    def _consumer_settings(self) -> dict[str, Any]:
        prefix = "consumer.override."
        overrides = {
            "group.id": sink_group_id(self.id.connector),
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "client.id": f"connector-consumer-{self.id}",
        }
        worker = self.env.worker.props
        for key in ("auto.offset.reset", "client.id"):
            if "consumer." + key in worker:
                overrides[key] = worker["consumer." + key]
        for key, value in self.connector_config.items():
            if key.startswith(prefix):
                overrides[key[len(prefix) :]] = value
        return self.env.worker.client_settings("consumer", overrides)

    # -- rebalance listener ---------------------------------------------------------

    async def on_partitions_assigned(self, assigned: set[ClientTopicPartition]) -> None:
        """Open the new partitions for the task (paused when the connector is)."""
        partitions = [TopicPartition(*tp) for tp in assigned]
        await invoke(self.task.open, partitions)
        if self.paused:
            self.consumer.pause(*assigned)

    async def on_partitions_revoked(self, revoked: set[ClientTopicPartition]) -> None:
        """Commit what was consumed from them, then close them."""
        if self._closing or not revoked:
            return
        partitions = [TopicPartition(*tp) for tp in revoked]
        try:
            await self.commit_offsets(only=partitions)
        except (KafkaError, ConnectError) as exc:
            _log.warning("Task %s could not commit offsets on revocation: %s", self.id, exc)
        await invoke(self.task.close, partitions)
        for tp in partitions:
            self._current.pop(tp, None)
            self._committed.pop(tp, None)

    # -- the loop -------------------------------------------------------------------

    async def execute(self) -> None:
        """Consume, convert, transform and put until stopped."""
        interval = self.env.worker.offset_flush_interval_ms / 1000
        next_commit = time.monotonic() + interval
        while not self.stopping:
            self._apply_pause()
            self.context.apply_requests(self.consumer)
            batch = await self.consumer.getmany(timeout_ms=200)
            if self.paused and batch:
                # Paused while the fetch was out: hand nothing to the task, and
                # read these records again after the resume.
                for tp, consumed in batch.items():
                    if consumed:
                        self.consumer.seek(tp, consumed[0].offset)
                continue
            records: list[SinkRecord] = []
            self._raw.clear()
            keep_raw = self._keep_raw
            for tp, consumed in batch.items():
                self.metrics.read(len(consumed))
                self.topics.add(tp.topic)
                if keep_raw:
                    for raw in consumed:
                        self._raw[(raw.topic, raw.partition, raw.offset)] = raw
                await self._convert_all(consumed, records)
                if consumed:
                    self._current[TopicPartition(*tp)] = consumed[-1].offset + 1
                lag = self.consumer.lag(tp)
                if lag is not None:
                    self.metrics.lag(tp.topic, tp.partition, lag)
            if records:
                await self._put(records)
            if time.monotonic() >= next_commit or self.context.commit_requested:
                await self.commit_offsets()
                next_commit = time.monotonic() + interval

    def _apply_pause(self) -> None:
        assigned = self.consumer.assignment()
        if self.paused:
            self.consumer.pause(*assigned)
        else:
            wanted = assigned - self.context.task_paused
            self.consumer.resume(*(tp for tp in self.consumer.paused() if tp in wanted))

    async def _convert_all(self, consumed: list[ConsumerRecord], out: list[SinkRecord]) -> None:
        """Convert and transform each consumed record, appending the results to ``out``.

        Each plugin call runs inline; only a failure goes through the error handler. The
        loop keeps what it uses in locals: it runs once per record.
        """
        converters = self.converters
        assert converters is not None
        errors = self.errors
        stages = self.chain.stages
        key_to = converters.key.to_connect_data
        value_to = converters.value.to_connect_data
        timestamp_type_of = _TIMESTAMP_TYPES.get
        no_timestamp_type = TimestampType.NO_TIMESTAMP_TYPE
        append = out.append
        for raw in consumed:
            topic = raw.topic
            connect_headers: Any
            if raw.headers:
                connect_headers = await errors.run(
                    Stage.HEADER_CONVERTER, converters.header_class,
                    functools.partial(_convert_headers, converters.header, topic, raw.headers),
                    consumed=raw,
                )  # fmt: skip
                if isinstance(connect_headers, Skip):
                    continue
            else:
                connect_headers = empty_headers()
            try:
                key_sv: Any = key_to(topic, raw.key, connect_headers)
            except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                key_sv = await errors.recover(
                    Stage.KEY_CONVERTER, converters.key_class,
                    functools.partial(key_to, topic, raw.key, connect_headers),
                    exc, consumed=raw,
                )  # fmt: skip
                if isinstance(key_sv, Skip):
                    continue
            try:
                value_sv: Any = value_to(topic, raw.value, connect_headers)
            except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                value_sv = await errors.recover(
                    Stage.VALUE_CONVERTER, converters.value_class,
                    functools.partial(value_to, topic, raw.value, connect_headers),
                    exc, consumed=raw,
                )  # fmt: skip
                if isinstance(value_sv, Skip):
                    continue
            timestamp = raw.timestamp
            current: Any = make_sink_record(
                topic, raw.partition, raw.offset, key_sv.schema, key_sv.value,
                value_sv.schema, value_sv.value, timestamp if timestamp >= 0 else None,
                timestamp_type_of(raw.timestamp_type, no_timestamp_type), connect_headers,
            )  # fmt: skip
            for stage in stages:
                try:
                    current = stage.apply(current)
                except Exception as exc:  # noqa: BLE001 (plugin code may raise anything)
                    current = await errors.recover(
                        Stage.TRANSFORMATION, class_name(stage.transformation),
                        functools.partial(stage.apply, current), exc, consumed=raw,
                    )  # fmt: skip
                if current is None or isinstance(current, Skip):
                    break
            else:
                append(current)

    async def _put(self, records: list[SinkRecord]) -> None:
        """Put a batch; retry it on RetriableError; on other errors fail, or with
        ``errors.tolerance=all`` put record by record and dead-letter the ones that fail."""
        while True:
            try:
                await invoke(self.task.put, records)
                self.metrics.put(len(records))
                return
            except RetriableError as exc:
                if self.stopping:
                    raise ConnectError("Stopped while retrying put") from exc
                _log.warning("Task %s: put failed, retrying the batch: %s", self.id, exc)
                await self._back_off()
            except Exception as exc:
                if not self.errors.settings.tolerance_all:
                    raise ConnectError(
                        "Exiting WorkerSinkTask due to unrecoverable exception."
                    ) from exc
                if len(records) > 1:
                    for record in records:
                        await self._put([record])
                    return
                await self.errors.failed(Stage.TASK_PUT, class_name(self.task), exc,
                                         consumed=self._raw_of(records[0]))  # fmt: skip
                return

    async def _back_off(self) -> None:
        assigned = self.consumer.assignment()
        self.consumer.pause(*assigned)
        await self.sleep(max(self.context.take_timeout_ms(), 100) / 1000)
        await self.consumer.getmany(timeout_ms=0)  # keeps the membership alive

    def _raw_of(self, record: SinkRecord) -> ConsumerRecord | None:
        key = (record.original_topic, record.original_kafka_partition, record.original_kafka_offset)
        return self._raw.get(key)  # type: ignore[arg-type]

    def report_errant(
        self, record: SinkRecord, error: BaseException
    ) -> concurrent.futures.Future[None]:
        """The ``ErrantRecordReporter``: dead-letter ``record`` from any thread."""
        raw = self._raw_of(record)
        coro = self.errors.failed(Stage.TASK_PUT, class_name(self.task), error, consumed=raw)
        return asyncio.run_coroutine_threadsafe(coro, self.context.loop)

    # -- committing -----------------------------------------------------------------

    async def commit_offsets(self, only: Collection[TopicPartition] | None = None) -> None:
        """``pre_commit`` the consumed offsets, wait for dead-lettered records, commit."""
        self.context.commit_requested = False
        current = {
            tp: OffsetAndMetadata(o)
            for tp, o in self._current.items()
            if only is None or tp in only
        }
        if not current:
            return
        to_commit: Mapping[TopicPartition, OffsetAndMetadata] = await invoke(
            self.task.pre_commit, current
        )
        await self.context.wait_for_reports()
        chosen = {
            ClientTopicPartition(*tp): ClientOffset(om.offset, om.metadata)
            for tp, om in to_commit.items()
            if tp in current and self._committed.get(tp) != om.offset
        }
        if not chosen:
            return
        try:
            await self.consumer.commit(chosen)
        except KafkaError:
            self.metrics.commit(False)
            raise
        self.metrics.commit(True)
        for tp, om in chosen.items():
            self._committed[TopicPartition(*tp)] = om.offset

    async def close(self) -> None:
        """Commit, close the partitions, stop the task, close the clients."""
        self._closing = True
        started = getattr(self, "_started", False)
        try:
            if started and not self.failed:
                try:
                    await self.commit_offsets()
                except (KafkaError, ConnectError) as exc:
                    _log.error("Task %s could not commit offsets while stopping: %s", self.id, exc)
            if started:
                assigned = [TopicPartition(*tp) for tp in self.consumer.assignment()]
                try:
                    await invoke(self.task.close, assigned)
                finally:
                    await invoke(self.task.stop)
        finally:
            if hasattr(self, "consumer"):
                await self.consumer.close()
            dlq_producer = getattr(self, "_dlq_producer", None)
            if dlq_producer is not None:
                await dlq_producer.close()
            if self.converters is not None:
                self.converters.close()
            if hasattr(self, "chain"):
                self.chain.close()
