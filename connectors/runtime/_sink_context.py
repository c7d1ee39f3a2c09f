"""The ``SinkTaskContext`` a sink task gets, safe to call from the task's own threads.

Sync task methods run in worker threads, so every request a task makes (rewind offsets,
pause or resume partitions, commit soon) is recorded under a lock and applied by the task
loop on the event loop before its next poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tidal.connectors.api import SinkRecord, TopicPartition
from tidal.log.client.consumer import Consumer
from tidal.log.client.consumer import TopicPartition as ClientTopicPartition

if TYPE_CHECKING:
    from ._sink import WorkerSinkTask

__all__ = ["SinkContext"]


class _Reporter:
    def __init__(self, context: SinkContext) -> None:
        self._context = context

    def report(self, record: SinkRecord, error: BaseException) -> concurrent.futures.Future[None]:
        """Send ``record`` to the dead letter queue (and log/count it); the future completes
        once that is done, or fails when ``errors.tolerance=none``."""
        future = self._context.owner.report_errant(record, error)
        with self._context.lock:
            self._context.reports.append(future)
        return future


class SinkContext:
    """Kafka's ``WorkerSinkTaskContext``."""

    def __init__(self, owner: WorkerSinkTask, configs: Mapping[str, str], reporter: bool) -> None:
        self.owner = owner
        self._configs = dict(configs)
        self.loop = asyncio.get_running_loop()
        self.lock = threading.Lock()
        self.reports: list[concurrent.futures.Future[None]] = []
        self.task_paused: set[ClientTopicPartition] = set()
        self.commit_requested = False
        self._rewinds: dict[ClientTopicPartition, int] = {}
        self._pause: set[ClientTopicPartition] = set()
        self._resume: set[ClientTopicPartition] = set()
        self._timeout_ms = 0
        self._reporter = _Reporter(self) if reporter else None

    @property
    def configs(self) -> Mapping[str, str]:
        """The task's configuration."""
        return self._configs

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Consume these partitions from these offsets next."""
        with self.lock:
            for tp, offset in offsets.items():
                self._rewinds[ClientTopicPartition(*tp)] = offset

    def timeout(self, timeout_ms: int) -> None:
        """Wait this long before retrying a ``put`` that raised RetriableError."""
        self._timeout_ms = timeout_ms

    def take_timeout_ms(self) -> int:
        """The requested retry wait, reset to 0."""
        timeout, self._timeout_ms = self._timeout_ms, 0
        return timeout

    def assignment(self) -> set[TopicPartition]:
        """The partitions assigned to the task."""
        return {TopicPartition(*tp) for tp in self.owner.consumer.assignment()}

    def pause(self, *partitions: TopicPartition) -> None:
        """Stop fetching these partitions."""
        with self.lock:
            for tp in partitions:
                client_tp = ClientTopicPartition(*tp)
                self._pause.add(client_tp)
                self._resume.discard(client_tp)

    def resume(self, *partitions: TopicPartition) -> None:
        """Fetch these partitions again."""
        with self.lock:
            for tp in partitions:
                client_tp = ClientTopicPartition(*tp)
                self._resume.add(client_tp)
                self._pause.discard(client_tp)

    def request_commit(self) -> None:
        """Commit offsets at the end of the current loop iteration."""
        self.commit_requested = True

    @property
    def errant_record_reporter(self) -> _Reporter | None:
        """The dead letter queue reporter, when error reporting is configured."""
        return self._reporter

    def apply_requests(self, consumer: Consumer) -> None:
        """Apply the rewinds, pauses and resumes asked for since the last call."""
        with self.lock:
            rewinds, self._rewinds = self._rewinds, {}
            pause, self._pause = self._pause, set()
            resume, self._resume = self._resume, set()
        assigned = consumer.assignment()
        for tp, offset in rewinds.items():
            if tp in assigned:
                consumer.seek(tp, offset)
        self.task_paused = (self.task_paused | pause) - resume
        if pause:
            consumer.pause(*(tp for tp in pause if tp in assigned))

    async def wait_for_reports(self) -> None:
        """Wait for every record reported so far (raising the first failure)."""
        with self.lock:
            reports, self.reports = self.reports, []
        for future in reports:
            await asyncio.wrap_future(future)
