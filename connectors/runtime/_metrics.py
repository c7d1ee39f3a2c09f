"""Connector and task metrics for Prometheus, named after Kafka Connect's JMX metrics.

One :class:`ConnectMetrics` per worker, in its own registry (``GET /metrics`` on the REST
listener serves it)::

    tidal_connect_source_record_poll_total{connector,task}    records a source task polled
    tidal_connect_source_record_write_total{connector,task}   records acknowledged by Kafka
    tidal_connect_sink_record_read_total{connector,task}      records a sink task consumed
    tidal_connect_sink_record_send_total{connector,task}      records handed to put()
    tidal_connect_offset_commit_total{connector,task,outcome} offset commits (success|failure)
    tidal_connect_sink_offset_lag{connector,task,topic,partition}  log end - position
    tidal_connect_record_errors_total{connector,task,stage}   failed operations, by stage
    tidal_connect_records_skipped_total{connector,task}       records dropped by errors.tolerance
    tidal_connect_deadletterqueue_produce_total{connector,task}  records sent to the DLQ
    tidal_connect_connector_status{connector,state}           1 for the current state
    tidal_connect_task_status{connector,task,state}           1 for the current state
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from ._status import State

__all__ = ["ConnectMetrics", "TaskMetrics", "TaskMetricsRecorder"]

_TASK = ("connector", "task")


class ConnectMetrics:
    """The metrics of one worker."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        p = "tidal_connect_"
        self.source_poll = Counter(p + "source_record_poll", "Records polled.", _TASK, registry=r)
        self.source_write = Counter(
            p + "source_record_write", "Records written.", _TASK, registry=r
        )
        self.sink_read = Counter(p + "sink_record_read", "Records consumed.", _TASK, registry=r)
        self.sink_send = Counter(p + "sink_record_send", "Records put.", _TASK, registry=r)
        self.commits = Counter(
            p + "offset_commit", "Offset commits.", (*_TASK, "outcome"), registry=r
        )
        self.lag = Gauge(
            p + "sink_offset_lag", "Records behind.", (*_TASK, "topic", "partition"), registry=r
        )
        self.errors = Counter(
            p + "record_errors", "Failed operations.", (*_TASK, "stage"), registry=r
        )
        self.skipped = Counter(p + "records_skipped", "Records skipped.", _TASK, registry=r)
        self.dlq = Counter(p + "deadletterqueue_produce", "Records to the DLQ.", _TASK, registry=r)
        self.connector_status = Gauge(
            p + "connector_status", "1 for the current state.", ("connector", "state"), registry=r
        )
        self.task_status = Gauge(
            p + "task_status", "1 for the current state.", (*_TASK, "state"), registry=r
        )

    def task(self, connector: str, task: int) -> TaskMetrics:
        """The metrics of one task."""
        return TaskMetrics(self, connector, str(task))

    def connector_state(self, connector: str, state: State | None) -> None:
        """Set the connector's state gauge (None: the connector is gone)."""
        for each in State:
            if state is None:
                with contextlib.suppress(KeyError):
                    self.connector_status.remove(connector, each.value)
            else:
                self.connector_status.labels(connector, each.value).set(int(each is state))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class TaskMetrics:
    """The labelled metrics of one task."""

    def __init__(self, metrics: ConnectMetrics, connector: str, task: str) -> None:
        self._m = metrics
        self._labels = (connector, task)
        # The per-batch counters, labelled once.
        self._polled = metrics.source_poll.labels(*self._labels)
        self._written = metrics.source_write.labels(*self._labels)
        self._read = metrics.sink_read.labels(*self._labels)
        self._put = metrics.sink_send.labels(*self._labels)

    def polled(self, count: int) -> None:
        """A source task's poll returned ``count`` records."""
        self._polled.inc(count)

    def written(self, count: int = 1) -> None:
        """Kafka acknowledged ``count`` source records."""
        self._written.inc(count)

    def read(self, count: int) -> None:
        """A sink task consumed ``count`` records."""
        self._read.inc(count)

    def put(self, count: int) -> None:
        """``count`` records went to a sink task's put."""
        self._put.inc(count)

    def commit(self, ok: bool) -> None:
        """One offset commit finished."""
        self._m.commits.labels(*self._labels, "success" if ok else "failure").inc()

    def lag(self, topic: str, partition: int, lag: int) -> None:
        """How far a sink task is behind on one partition."""
        self._m.lag.labels(*self._labels, topic, str(partition)).set(lag)

    def error(self, stage: str) -> None:
        """An operation failed (whether or not it was tolerated)."""
        self._m.errors.labels(*self._labels, stage).inc()

    def skipped(self) -> None:
        """``errors.tolerance=all`` skipped a record."""
        self._m.skipped.labels(*self._labels).inc()

    def dead_lettered(self) -> None:
        """A record went to the dead letter queue."""
        self._m.dlq.labels(*self._labels).inc()

    def state(self, state: State | None) -> None:
        """Set the task's state gauge (None: the task is gone)."""
        for each in State:
            if state is None:
                with contextlib.suppress(KeyError):
                    self._m.task_status.remove(*self._labels, each.value)
            else:
                self._m.task_status.labels(*self._labels, each.value).set(int(each is state))

    def apply(self, counts: Mapping[str, int], lags: Iterable[tuple[str, int, int]]) -> None:
        """Add what a task process counted (:meth:`TaskMetricsRecorder.take`)."""
        for key, count in counts.items():
            kind, _, label = key.partition(":")
            if kind == "commit":
                self._m.commits.labels(*self._labels, label).inc(count)
            elif kind == "error":
                self._m.errors.labels(*self._labels, label).inc(count)
            elif kind in _COUNTERS:
                getattr(self._m, _COUNTERS[kind]).labels(*self._labels).inc(count)
        for topic, partition, lag in lags:
            self.lag(topic, partition, lag)


#: :class:`TaskMetricsRecorder` keys of the plain per-task counters, and their metric.
_COUNTERS = {
    "polled": "source_poll",
    "written": "source_write",
    "read": "sink_read",
    "put": "sink_send",
    "skipped": "skipped",
    "dlq": "dlq",
}


class TaskMetricsRecorder(TaskMetrics):
    """A task's metrics inside a task process: counted here and taken now and then by
    the process, which sends them to the worker that exports them (:meth:`TaskMetrics.apply`).
    """

    def __init__(self) -> None:  # no registry: nothing is exported from here
        self.counts: dict[str, int] = {}
        self.lags: dict[tuple[str, int], int] = {}

    def _add(self, key: str, count: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + count

    def polled(self, count: int) -> None:
        """A source task's poll returned ``count`` records."""
        self._add("polled", count)

    def written(self, count: int = 1) -> None:
        """Kafka acknowledged ``count`` source records."""
        self._add("written", count)

    def read(self, count: int) -> None:
        """A sink task consumed ``count`` records."""
        self._add("read", count)

    def put(self, count: int) -> None:
        """``count`` records went to a sink task's put."""
        self._add("put", count)

    def commit(self, ok: bool) -> None:
        """One offset commit finished."""
        self._add("commit:success" if ok else "commit:failure", 1)

    def lag(self, topic: str, partition: int, lag: int) -> None:
        """How far a sink task is behind on one partition."""
        self.lags[topic, partition] = lag

    def error(self, stage: str) -> None:
        """An operation failed (whether or not it was tolerated)."""
        self._add(f"error:{stage}", 1)

    def skipped(self) -> None:
        """``errors.tolerance=all`` skipped a record."""
        self._add("skipped", 1)

    def dead_lettered(self) -> None:
        """A record went to the dead letter queue."""
        self._add("dlq", 1)

    def state(self, state: State | None) -> None:
        """Ignored: the worker sets the state gauge from the task's status."""

    def take(self) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
        """What was counted since the last call, and the latest lags; then start afresh."""
        counts, self.counts = self.counts, {}
        lags = [(topic, partition, lag) for (topic, partition), lag in self.lags.items()]
        self.lags = {}
        return counts, lags
