"""Broker metrics: a no-op recorder, and one that Prometheus scrapes.

The server calls the recorder on every request, byte count and connection;
:class:`BrokerMetrics` does nothing, so a broker without ``--metrics-port``
pays one method call. :class:`PrometheusMetrics` keeps::

    tidal_requests_total{api}            requests answered, per API
    tidal_request_seconds{api}           handling latency (histogram)
    tidal_network_bytes_total{direction} bytes received ("in") and sent ("out")
    tidal_connections                    open client connections
    tidal_partitions                     partitions (internal topics included)
    tidal_log_size_bytes{topic}          bytes in the segment files, per topic
    tidal_log_end_offset{topic,partition}
    tidal_groups{state}                  consumer groups by state
    tidal_group_lag{group,topic,partition}  high watermark - committed offset

The partition and group gauges are read at scrape time, on the HTTP
server's thread, from snapshots of the broker's dicts (a scrape that races
a change is skipped rather than locking the event loop out).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidal.log.broker._broker import Broker

__all__ = ["BrokerMetrics", "PrometheusMetrics"]


class BrokerMetrics:
    """Records nothing (the default)."""

    def attach(self, broker: Broker) -> None:
        """Read partition gauges from ``broker`` from now on."""

    def request(self, api: str, seconds: float) -> None:
        """One ``api`` request answered after ``seconds``."""

    def bytes_in(self, count: int) -> None:
        """``count`` bytes received from a client."""

    def bytes_out(self, count: int) -> None:
        """``count`` bytes sent to a client."""

    def connection_opened(self) -> None:
        """A client connected."""

    def connection_closed(self) -> None:
        """A client connection ended."""


class PrometheusMetrics(BrokerMetrics):
    """Metrics in a ``prometheus_client`` registry, served by :meth:`serve`."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram  # noqa: PLC0415

        self.registry = CollectorRegistry()
        self._requests = Counter(
            "tidal_requests", "Requests answered", ["api"], registry=self.registry
        )
        self._latency = Histogram(
            "tidal_request_seconds", "Request handling time", ["api"], registry=self.registry
        )
        network = Counter(
            "tidal_network_bytes", "Bytes on client connections", ["direction"],
            registry=self.registry,
        )  # fmt: skip
        self._in = network.labels("in")
        self._out = network.labels("out")
        self._connections = Gauge(
            "tidal_connections", "Open client connections", registry=self.registry
        )
        self._per_api: dict[str, tuple[Any, Any]] = {}
        self._broker: Broker | None = None
        self.registry.register(_LogCollector(self))
        self._http: Any = None

    def attach(self, broker: Broker) -> None:
        self._broker = broker

    def request(self, api: str, seconds: float) -> None:
        children = self._per_api.get(api)
        if children is None:
            children = self._per_api[api] = (
                self._requests.labels(api),
                self._latency.labels(api),
            )
        children[0].inc()
        children[1].observe(seconds)

    def bytes_in(self, count: int) -> None:
        self._in.inc(count)

    def bytes_out(self, count: int) -> None:
        self._out.inc(count)

    def connection_opened(self) -> None:
        self._connections.inc()

    def connection_closed(self) -> None:
        self._connections.dec()

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP on a thread; the bound port."""
        from prometheus_client import start_http_server  # noqa: PLC0415

        server, _thread = start_http_server(port, host, registry=self.registry)
        self._http = server
        return int(server.server_address[1])

    def close(self) -> None:
        """Stop serving HTTP."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


class _LogCollector:
    """Partition and log-size gauges, read when Prometheus scrapes."""

    def __init__(self, metrics: PrometheusMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

        broker = self.metrics._broker
        if broker is None:
            return
        logs = broker.logs.logs()
        yield GaugeMetricFamily("tidal_partitions", "Partitions on this broker", value=len(logs))
        sizes = GaugeMetricFamily(
            "tidal_log_size_bytes", "Bytes in segment files", labels=["topic"]
        )
        ends = GaugeMetricFamily(
            "tidal_log_end_offset", "Log end offset", labels=["topic", "partition"]
        )
        per_topic: dict[str, int] = {}
        for (topic, partition), log in sorted(logs.items()):
            per_topic[topic] = per_topic.get(topic, 0) + log.size
            ends.add_metric([topic, str(partition)], log.log_end_offset)
        for topic, size in per_topic.items():
            sizes.add_metric([topic], size)
        yield sizes
        yield ends
        try:
            yield from self._groups(broker, logs)
        except RuntimeError:  # a dict changed during the snapshot: next scrape
            return

    @staticmethod
    def _groups(broker: Broker, logs: dict[tuple[str, int], Any]) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

        states = GaugeMetricFamily("tidal_groups", "Consumer groups", labels=["state"])
        lag = GaugeMetricFamily(
            "tidal_group_lag",
            "High watermark minus committed offset",
            labels=["group", "topic", "partition"],
        )
        counts: dict[str, int] = {}
        for group_id, group in list(broker.groups.groups.items()):
            state = str(group.state.value)
            counts[state] = counts.get(state, 0) + 1
            for (topic, partition), committed in list(group.offsets.items()):
                log = logs.get((topic, partition))
                if log is not None:
                    behind = max(log.high_watermark - committed.offset, 0)
                    lag.add_metric([group_id, topic, str(partition)], behind)
        for state, count in sorted(counts.items()):
            states.add_metric([state], count)
        yield states
        yield lag
