"""Tasks: the units that move data, and the contexts the runtime gives them.

A source task's loop, as the runtime runs it::

    task.initialize(context); task.start(config)
    while running:
        records = poll()                   # None or [] when there is nothing yet
        send each record (after transforms and converters); on ack: commit_record(r, metadata)
        periodically: store source offsets, then commit()
    task.stop()

A sink task's: ``open(partitions)`` on assignment, ``put(records)`` per consumed batch,
``pre_commit(offsets)`` (default: ``flush``) before committing consumer offsets,
``close(partitions)`` on revocation, ``stop()``. Every method may be ``def`` or ``async def``.
"""

from __future__ import annotations

import concurrent.futures
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Collection, Mapping
from typing import Any, NamedTuple, Protocol

from ._async import MaybeAwaitable
from ._records import SinkRecord, SourceRecord

__all__ = [
    "ErrantRecordReporter",
    "OffsetAndMetadata",
    "OffsetStorageReader",
    "RecordMetadata",
    "SinkTask",
    "SinkTaskContext",
    "SourceTask",
    "SourceTaskContext",
    "Task",
    "TopicPartition",
    "TransactionContext",
]


class TopicPartition(NamedTuple):
    """A partition of a topic; equal to the client's ``TopicPartition`` (both are tuples)."""

    topic: str
    partition: int


class OffsetAndMetadata(NamedTuple):
    """A consumer offset (the next record to read) with its metadata string."""

    offset: int
    metadata: str = ""


class RecordMetadata(Protocol):
    """Where the producer wrote a source record (the client's ``RecordMetadata`` fits)."""

    @property
    def topic(self) -> str:
        """The topic written to."""

    @property
    def partition(self) -> int:
        """The partition written to."""

    @property
    def offset(self) -> int:
        """The record's offset."""


class OffsetStorageReader(Protocol):
    """Committed source offsets, read from a snapshot the runtime loaded before ``start``."""

    def offset(self, partition: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The last committed offset of one source partition, or None."""

    def offsets(
        self, partitions: Collection[Mapping[str, Any]]
    ) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
        """``(partition, offset)`` for each partition asked for."""


class TransactionContext(Protocol):
    """Lets a source task define transaction boundaries (``transaction.boundary=connector``)."""

    def commit_transaction(self, record: SourceRecord | None = None) -> None:
        """Commit after ``record`` (or after the current batch when None)."""

    def abort_transaction(self, record: SourceRecord | None = None) -> None:
        """Abort the transaction that contains ``record`` (or the current one)."""


class SourceTaskContext(Protocol):
    """What the runtime offers a source task."""

    @property
    def configs(self) -> Mapping[str, str]:
        """The task's configuration."""

    @property
    def offset_storage_reader(self) -> OffsetStorageReader:
        """Committed source offsets, to resume from."""

    @property
    def transaction_context(self) -> TransactionContext | None:
        """Present only when the connector defines transaction boundaries."""


class ErrantRecordReporter(Protocol):
    """Sends a record a sink could not handle to the dead letter queue (KIP-610)."""

    def report(self, record: SinkRecord, error: BaseException) -> concurrent.futures.Future[None]:
        """Report one record; the future completes once the report is durable."""


class SinkTaskContext(Protocol):
    """What the runtime offers a sink task."""

    @property
    def configs(self) -> Mapping[str, str]:
        """The task's configuration."""

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Rewind or skip: consume these partitions from these offsets next."""

    def timeout(self, timeout_ms: int) -> None:
        """After a RetriableError from ``put``, wait this long before retrying."""

    def assignment(self) -> set[TopicPartition]:
        """The partitions currently assigned to this task."""

    def pause(self, *partitions: TopicPartition) -> None:
        """Stop fetching from these partitions until resumed."""

    def resume(self, *partitions: TopicPartition) -> None:
        """Fetch from paused partitions again."""

    def request_commit(self) -> None:
        """Commit offsets soon, without waiting for the commit interval."""

    @property
    def errant_record_reporter(self) -> ErrantRecordReporter | None:
        """The DLQ reporter, or None when the connector has no error reporting configured."""


class Task(ABC):
    """Base of source and sink tasks."""

    #: Set to False when the sync methods never block, so the runtime calls them inline.
    blocking: bool = True

    @abstractmethod
    def version(self) -> str:
        """The task's version (usually the connector's)."""

    @abstractmethod
    def start(self, props: Mapping[str, str]) -> MaybeAwaitable[None]:
        """Start with one of the configs the connector's ``task_configs`` returned."""

    @abstractmethod
    def stop(self) -> MaybeAwaitable[None]:
        """Stop; may be called while ``poll``/``put`` is running in another thread."""


class SourceTask(Task):
    """Reads records from an external system (Kafka's ``SourceTask``)."""

    def __init__(self) -> None:
        self.context: Any = None

    def initialize(self, context: SourceTaskContext) -> None:
        """Give the task its context; called once, before ``start``."""
        self.context = context

    @abstractmethod
    def poll(self) -> MaybeAwaitable[list[SourceRecord] | None]:
        """New records, or None/[] when none are ready (the runtime polls again)."""

    def commit(self) -> MaybeAwaitable[None]:
        """Called after source offsets were committed; acknowledge upstream here."""
        return None

    def commit_record(
        self, record: SourceRecord, metadata: RecordMetadata | None
    ) -> MaybeAwaitable[None]:
        """Called once per record after Kafka acknowledged it (metadata is None when a
        transform dropped the record or it was skipped by ``errors.tolerance=all``)."""
        return None


class SinkTask(Task):
    """Writes Kafka records to an external system (Kafka's ``SinkTask``)."""

    #: The config key with the topics to consume (Kafka's ``SinkTask.TOPICS_CONFIG``).
    TOPICS_CONFIG = "topics"
    TOPICS_REGEX_CONFIG = "topics.regex"

    def __init__(self) -> None:
        self.context: Any = None

    def initialize(self, context: SinkTaskContext) -> None:
        """Give the task its context; called once, before ``start``."""
        self.context = context

    @abstractmethod
    def put(self, records: list[SinkRecord]) -> MaybeAwaitable[None]:
        """Write (or buffer) a batch of records; raise RetriableError to have it retried."""

    def flush(
        self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> MaybeAwaitable[None]:
        """Make everything ``put`` so far durable."""
        return None

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> MaybeAwaitable[Mapping[TopicPartition, OffsetAndMetadata]]:
        """The offsets safe to commit; the default flushes and returns ``current_offsets``."""
        flushed = self.flush(current_offsets)
        if inspect.isawaitable(flushed):
            return _after(flushed, current_offsets)
        return current_offsets

    def open(self, partitions: Collection[TopicPartition]) -> MaybeAwaitable[None]:
        """Partitions were assigned: set up writers for them."""
        return None

    def close(self, partitions: Collection[TopicPartition]) -> MaybeAwaitable[None]:
        """Partitions were revoked: drop their writers (after the final commit)."""
        return None


async def _after(
    pending: Awaitable[Any], result: Mapping[TopicPartition, OffsetAndMetadata]
) -> Mapping[TopicPartition, OffsetAndMetadata]:
    await pending
    return result
