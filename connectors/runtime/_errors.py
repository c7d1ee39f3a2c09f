"""Error handling (KIP-298): retries, tolerance, error logging and the dead letter queue.

Every converter, transform and sink ``put`` call goes through :meth:`ErrorHandler.run`:

1. a :class:`~tidal.connectors.api.RetriableError` is retried with exponential backoff
   (300 ms, doubling up to ``errors.retry.delay.max.ms``) until ``errors.retry.timeout``
   ms have passed (0: no retries, -1: forever);
2. a failure that remains is counted, logged when ``errors.log.enable`` is set, and, for
   sinks with ``errors.deadletterqueue.topic.name``, the original record (key, value,
   headers and timestamp as consumed) is written to the dead letter queue, with the
   ``__connect.errors.*`` context headers when
   ``errors.deadletterqueue.context.headers.enable`` is true;
3. with ``errors.tolerance=none`` the task then fails (``Tolerance exceeded in error
   handler``, caused by the error); with ``all`` the record is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from tidal.connectors.api import ConnectError, RetriableError, SourceRecord
from tidal.connectors.config import sink_connector_config
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import ConsumerRecord
from tidal.log.client.producer import Producer
from tidal.log.protocol.errors import TopicAlreadyExistsError

from ._metrics import TaskMetrics
from ._status import trace_of

__all__ = [
    "SKIP",
    "DeadLetterQueue",
    "ErrorHandler",
    "ErrorSettings",
    "Skip",
    "Stage",
    "ToleranceExceededError",
    "ensure_topic",
]

_log = logging.getLogger("tidal.connectors.runtime")
T = TypeVar("T")

HEADER_PREFIX: Final = "__connect.errors."


class Stage(enum.Enum):
    """Where in a record's journey an operation failed (Kafka's ``Stage``)."""

    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    TRANSFORMATION = "TRANSFORMATION"
    TASK_PUT = "TASK_PUT"
    TASK_POLL = "TASK_POLL"
    KAFKA_PRODUCE = "KAFKA_PRODUCE"
    KAFKA_CONSUME = "KAFKA_CONSUME"


class ToleranceExceededError(ConnectError):
    """A failure that ``errors.tolerance=none`` does not allow (the task fails)."""


class Skip:
    """The type of :data:`SKIP`."""

    def __repr__(self) -> str:
        return "SKIP"


#: What :meth:`ErrorHandler.run` returns for a failure that was tolerated.
SKIP: Final = Skip()

# Only the error-handling keys; parsing the whole sink definition also checks the rest.
_ERROR_KEYS = tuple(k for k in sink_connector_config().names() if k.startswith("errors."))


@dataclass(frozen=True, slots=True)
class ErrorSettings:
    """A connector's ``errors.*`` settings."""

    tolerance_all: bool = False
    retry_timeout_ms: int = 0
    retry_delay_max_ms: int = 60000
    log_enable: bool = False
    log_include_messages: bool = False
    dlq_topic: str = ""
    dlq_replication_factor: int = 3
    dlq_context_headers: bool = False

    @classmethod
    def from_config(cls, props: Mapping[str, str]) -> ErrorSettings:
        """Parse the ``errors.*`` keys of a connector config."""
        parsed = sink_connector_config().parse(
            {
                "name": "-",
                "connector.class": "-",
                **{k: props[k] for k in _ERROR_KEYS if k in props},
            }
        )
        return cls(
            tolerance_all=parsed["errors.tolerance"] == "all",
            retry_timeout_ms=parsed["errors.retry.timeout"],
            retry_delay_max_ms=parsed["errors.retry.delay.max.ms"],
            log_enable=parsed["errors.log.enable"],
            log_include_messages=parsed["errors.log.include.messages"],
            dlq_topic=(parsed["errors.deadletterqueue.topic.name"] or "").strip(),
            dlq_replication_factor=parsed["errors.deadletterqueue.topic.replication.factor"],
            dlq_context_headers=parsed["errors.deadletterqueue.context.headers.enable"],
        )


def class_name(obj: object) -> str:
    """``module.QualName`` of an object's class (or of a class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


async def ensure_topic(admin: AdminClient, topic: str, partitions: int, replication: int,
                       configs: Mapping[str, str] | None = None) -> None:  # fmt: skip
    """Create ``topic`` unless it exists; the replication factor is capped at the number of
    brokers so that a single-broker development cluster works with Kafka's defaults."""
    if topic in await admin.list_topics(internal=True):
        return
    brokers = len((await admin.describe_cluster()).nodes)
    factor = replication if replication < 1 else min(replication, max(brokers, 1))
    if factor < replication:
        _log.warning("creating topic %s with replication factor %d (only %d brokers)",
                     topic, factor, brokers)  # fmt: skip
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([NewTopic(topic, partitions, factor, dict(configs or {}))])


class DeadLetterQueue:
    """Writes records a sink task could not handle to ``errors.deadletterqueue.topic.name``."""

    def __init__(self, producer: Producer, settings: ErrorSettings, connector: str, task: int):
        self.producer = producer
        self.topic = settings.dlq_topic
        self.context_headers = settings.dlq_context_headers
        self.connector = connector
        self.task = task

    async def report(
        self, record: ConsumerRecord, stage: Stage, executing_class: str, error: BaseException
    ) -> None:
        """Write ``record`` as consumed, plus context headers; returns once acknowledged."""
        headers: list[tuple[str, bytes | str | None]] = list(record.headers)
        if self.context_headers:
            context = {
                "topic": record.topic,
                "partition": str(record.partition),
                "offset": str(record.offset),
                "connector.name": self.connector,
                "task.id": str(self.task),
                "stage": stage.value,
                "class.name": executing_class,
                "exception.class.name": class_name(error),
                "exception.message": str(error),
                "exception.stacktrace": trace_of(error),
            }
            headers += [(HEADER_PREFIX + k, v.encode()) for k, v in context.items()]
        future = await self.producer.send(
            self.topic, record.value, key=record.key, headers=headers,
            timestamp_ms=record.timestamp if record.timestamp >= 0 else None,
        )  # fmt: skip
        await future


class ErrorHandler:
    """Runs one operation under a connector's retry and tolerance settings."""

    def __init__(
        self,
        settings: ErrorSettings,
        task_name: str,
        metrics: TaskMetrics,
        dlq: DeadLetterQueue | None = None,
        *,
        initial_backoff_ms: int = 300,
    ) -> None:
        self.settings = settings
        self.task_name = task_name
        self.metrics = metrics
        self.dlq = dlq
        self.initial_backoff_ms = initial_backoff_ms

    async def run(
        self,
        stage: Stage,
        executing_class: str,
        operation: Callable[[], T | Awaitable[T]],
        *,
        consumed: ConsumerRecord | None = None,
        source: SourceRecord | None = None,
    ) -> T | Skip:
        """The operation's result, or :data:`SKIP` for a tolerated failure."""
        try:
            result = operation()
            if inspect.isawaitable(result):
                return await result
            return result
        except Exception as exc:  # noqa: BLE001 (any failure of plugin code is handled)
            return await self.recover(
                stage, executing_class, operation, exc, consumed=consumed, source=source
            )

    async def recover(
        self,
        stage: Stage,
        executing_class: str,
        operation: Callable[[], T | Awaitable[T]],
        error: Exception,
        *,
        consumed: ConsumerRecord | None = None,
        source: SourceRecord | None = None,
    ) -> T | Skip:
        """After ``operation`` raised ``error``: retry it if retriable, else count, log,
        dead-letter, and raise or skip. Hot paths call the operation inline and come here
        only when it fails."""
        outcome = await self._retry(operation, error)
        if not isinstance(outcome, _Failure):
            return outcome
        await self.failed(stage, executing_class, outcome.error, consumed=consumed, source=source)
        return SKIP

    async def failed(
        self,
        stage: Stage,
        executing_class: str,
        error: BaseException,
        *,
        consumed: ConsumerRecord | None = None,
        source: SourceRecord | None = None,
    ) -> None:
        """Count, log and dead-letter one failure; raise unless it is tolerated."""
        self.metrics.error(stage.value)
        if self.settings.log_enable or not self.settings.tolerance_all:
            self._log(stage, executing_class, error, consumed, source)
        if self.dlq is not None and consumed is not None:
            await self.dlq.report(consumed, stage, executing_class, error)
            self.metrics.dead_lettered()
        if not self.settings.tolerance_all:
            raise ToleranceExceededError("Tolerance exceeded in error handler") from error
        self.metrics.skipped()

    async def _retry(
        self, operation: Callable[[], T | Awaitable[T]], error: Exception
    ) -> T | _Failure:
        timeout = self.settings.retry_timeout_ms
        if not isinstance(error, RetriableError) or timeout == 0:
            return _Failure(error)
        deadline = float("inf") if timeout < 0 else time.monotonic() + timeout / 1000
        delay = self.initial_backoff_ms / 1000
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _Failure(error)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, self.settings.retry_delay_max_ms / 1000)
            try:
                result = operation()
                if inspect.isawaitable(result):
                    return await result
                return result
            except RetriableError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 (any failure of plugin code is handled)
                return _Failure(exc)

    def _log(
        self,
        stage: Stage,
        executing_class: str,
        error: BaseException,
        consumed: ConsumerRecord | None,
        source: SourceRecord | None,
    ) -> None:
        where = ""
        if consumed is not None:
            where = (
                f", where consumed record is {{topic='{consumed.topic}', "
                f"partition={consumed.partition}, offset={consumed.offset}, "
                f"timestamp={consumed.timestamp}}}"
            )
            if self.settings.log_include_messages:
                where += f" with key {consumed.key!r} and value {consumed.value!r}"
        elif source is not None and self.settings.log_include_messages:
            where = f", where source record is {source!r}"
        _log.error(
            "Error encountered in task %s. Executing stage '%s' with class '%s'%s.",
            self.task_name, stage.value, executing_class, where, exc_info=error,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Failure:
    error: Exception
