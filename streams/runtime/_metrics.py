"""Prometheus metrics of one application instance.

Each :class:`App` keeps its own ``CollectorRegistry`` (two apps in one
process do not clash); ``App(metrics_port=N)`` serves it on
``http://127.0.0.1:N/metrics``, or pass ``metrics_registry=`` to collect it
with the rest of a program's metrics. Every series carries
``application_id``::

    tidal_streams_records_processed_total        input records run through tasks
    tidal_streams_records_restored_total{store}  changelog records replayed into stores
    tidal_streams_restore_seconds_total          time spent restoring
    tidal_streams_restoring_tasks                tasks restoring now
    tidal_streams_active_tasks                   tasks processing now
    tidal_streams_commits_total                  commits done
    tidal_streams_commit_seconds                 commit latency (histogram)
    tidal_streams_task_lag{task}                 records behind the input end, per task
    tidal_streams_skipped_records_total{reason}  records skipped by log_and_continue
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["StreamsMetrics"]


class StreamsMetrics:
    """The runtime's counters and gauges in ``registry``."""

    def __init__(self, application_id: str, registry: CollectorRegistry | None = None) -> None:
        self.application_id = application_id
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.registry = registry if registry is not None else CollectorRegistry()
        app = ("application_id",)
        r = self.registry
        self._processed = Counter(
            "tidal_streams_records_processed", "Input records processed", app, registry=r
        )
        self._restored = Counter(
            "tidal_streams_records_restored",
            "Changelog records restored into stores",
            (*app, "store"),
            registry=r,
        )
        self._restore_seconds = Counter(
            "tidal_streams_restore_seconds", "Time spent restoring state", app, registry=r
        )
        self._restoring = Gauge(
            "tidal_streams_restoring_tasks", "Tasks restoring their state", app, registry=r
        )
        self._active = Gauge("tidal_streams_active_tasks", "Tasks processing", app, registry=r)
        self._commits = Counter("tidal_streams_commits", "Commits", app, registry=r)
        self._commit_seconds = Histogram(
            "tidal_streams_commit_seconds", "Commit latency", app, registry=r
        )
        self._lag = Gauge(
            "tidal_streams_task_lag",
            "Records behind the end of the input",
            (*app, "task"),
            registry=r,
        )
        self._skipped = Counter(
            "tidal_streams_skipped_records", "Records skipped", (*app, "reason"), registry=r
        )

    def processed(self, count: int) -> None:
        """``count`` more input records went through tasks."""
        self._processed.labels(self.application_id).inc(count)

    def restored(self, store: str, count: int) -> None:
        """``count`` more changelog records replayed into ``store``."""
        self._restored.labels(self.application_id, store).inc(count)

    def restore_time(self, seconds: float) -> None:
        """A task spent ``seconds`` restoring."""
        self._restore_seconds.labels(self.application_id).inc(seconds)

    def tasks(self, active: int, restoring: int) -> None:
        """How many tasks process and how many restore now."""
        self._active.labels(self.application_id).set(active)
        self._restoring.labels(self.application_id).set(restoring)

    def committed(self, seconds: float) -> None:
        """A commit took ``seconds``."""
        self._commits.labels(self.application_id).inc()
        self._commit_seconds.labels(self.application_id).observe(seconds)

    def lag(self, task: str, records: int) -> None:
        """``task`` is ``records`` behind the end of its input."""
        self._lag.labels(self.application_id, task).set(records)

    def forget_task(self, task: str) -> None:
        """``task`` left this instance: drop its series."""
        with contextlib.suppress(KeyError):
            self._lag.remove(self.application_id, task)

    def skipped(self, reason: str) -> None:
        """One record skipped, for ``reason``."""
        self._skipped.labels(self.application_id, reason).inc()

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when absent), e.g.
        ``value("tidal_streams_records_restored_total", store="counts")``."""
        got = self.registry.get_sample_value(
            name, {"application_id": self.application_id, **labels}
        )
        return got if got is not None else 0.0

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` on ``host:port`` (0: a free port) from a daemon
        thread until :meth:`stop_serving`; the port."""
        from prometheus_client import start_http_server  # noqa: PLC0415

        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def stop_serving(self) -> None:
        """Stop the ``/metrics`` server, if one runs."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
