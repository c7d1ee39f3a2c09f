"""Exactly-once source tasks (KIP-618): records and source offsets in one transaction.

With ``exactly.once.source.support=enabled`` (distributed mode) each source task owns a
transactional producer, ``transactional.id = <group.id>-<connector>-<task>``; starting it
fences any older instance of the task still running elsewhere. Then, per transaction::

    begin → the polled records (after transforms and converters) → their source offsets,
    written to offset.storage.topic by the same producer → commit
    after the commit: commit_record() per record, task.commit()

``transaction.boundary`` decides when a transaction ends: ``poll`` (default) after every
non-empty poll, ``interval`` every ``transaction.boundary.interval.ms`` (default the worker's
``offset.flush.interval.ms``), ``connector`` when the task asks through
``context.transaction_context``: ``commit_transaction(record)`` / ``abort_transaction(record)``
end the transaction right after that record, without a record after the current poll's.
An aborted transaction's records are never visible and their offsets never committed.
A failure aborts the open transaction: its records and offsets are never visible to
``read_committed`` consumers, and the restarted task polls them again from the last
committed offsets, so each record is delivered exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from tidal.connectors.api import SourceRecord, invoke
from tidal.log.protocol.errors import KafkaError

from ._offsets import Offset, Partition, offset_key, partition_id
from ._topic_log import TopicOffsetStore

if TYPE_CHECKING:
    from ._source import WorkerSourceTask

__all__ = ["ConnectorTransactionContext", "SourceTransactions"]


class ConnectorTransactionContext:
    """The ``TransactionContext`` of ``transaction.boundary=connector`` (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[tuple[str, SourceRecord | None]] = []

    def commit_transaction(self, record: SourceRecord | None = None) -> None:
        """Commit after ``record`` (or after the current poll's records)."""
        with self._lock:
            self._requests.append(("commit", record))

    def abort_transaction(self, record: SourceRecord | None = None) -> None:
        """Abort the transaction holding ``record`` (or the current one) after it."""
        with self._lock:
            self._requests.append(("abort", record))

    def take(self, record: SourceRecord | None) -> str | None:
        """The request made for ``record`` (identity; None: for the batch), if any."""
        with self._lock:
            for index, (kind, target) in enumerate(self._requests):
                if target is record:
                    del self._requests[index]
                    return kind
        return None


class SourceTransactions:
    """The transaction loop of one exactly-once source task."""

    def __init__(self, task: WorkerSourceTask, store: TopicOffsetStore) -> None:
        self.task = task
        self.store = store
        config = task.connector_config
        self.boundary = config.get("transaction.boundary", "poll").strip().lower()
        interval = config.get("transaction.boundary.interval.ms", "").strip()
        default = task.env.worker.offset_flush_interval_ms
        self.interval_s = (int(interval) if interval else default) / 1000
        self.open = False
        self.started = 0.0
        self.context = ConnectorTransactionContext() if self.boundary == "connector" else None

    def begin(self) -> None:
        """Open a transaction for the records about to be sent (unless one is open)."""
        if not self.open:
            self.task.producer.begin_transaction()
            self.open = True
            self.started = time.monotonic()

    async def execute(self) -> None:
        """Poll, send and commit transactions until the task stops."""
        task = self.task
        while not task.stopping:
            if task.paused:
                await self.commit()
                await task.wait_while_paused()
                continue
            count = await task.poll_and_submit()
            if self.context is not None:
                await self.after(None)
                continue
            due = self.boundary == "poll" or time.monotonic() - self.started >= self.interval_s
            if self.open and (count or self.boundary != "poll") and due:
                await self.commit()

    async def after(self, record: SourceRecord | None) -> None:
        """Act on a boundary the connector set at ``record`` (None: at the end of a poll)."""
        if self.context is None:
            return
        request = self.context.take(record)
        if request == "commit":
            await self.commit()
        elif request == "abort":
            await self.abort()

    def _offsets(self) -> dict[str, tuple[Partition, Offset | None]]:
        offsets: dict[str, tuple[Partition, Offset | None]] = {}
        for entry in self.task.pending:
            record = entry.record
            if record.source_partition is not None:
                offsets[partition_id(record.source_partition)] = (
                    record.source_partition,
                    record.source_offset,
                )
        return offsets

    async def commit(self) -> None:
        """Write the transaction's source offsets, commit it, then acknowledge the task."""
        if not self.open:
            return
        task = self.task
        offsets = self._offsets()
        connector = task.id.connector
        for partition, offset in offsets.values():
            value = None if offset is None else json.dumps(offset, separators=(",", ":")).encode()
            await task.producer.send(
                self.store.log.topic, value, key=offset_key(connector, partition)
            )
        try:
            await task.producer.commit_transaction()
        except KafkaError:
            task.metrics.commit(False)
            raise
        self.open = False
        task.metrics.commit(True)
        self.store.remember(connector, offsets)
        await task.drain_acks()
        await invoke(task.task.commit)

    async def abort(self) -> None:
        """Abort the open transaction: its records and offsets are dropped."""
        if not self.open:
            return
        self.open = False
        await self.task.producer.abort_transaction()
        self.task.pending.clear()

    async def close(self) -> None:
        """Commit the open transaction when stopping cleanly; abort it after a failure."""
        if not self.open:
            return
        if not self.task.failed:
            try:
                await self.commit()
                return
            except KafkaError:
                pass
        self.open = False
        await self.task.producer.abort_transaction()
