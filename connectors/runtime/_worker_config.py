"""Worker settings by Kafka Connect's names (``WorkerConfig``, standalone and distributed).

::

    config = WorkerConfig({"bootstrap.servers": "localhost:9092",
                           "offset.storage.file.filename": "/tmp/connect.offsets"})
    config.offset_flush_interval_ms     # 60000
    config.client_settings("producer")  # bootstrap.servers plus every producer.* setting

Unknown keys are kept (Kafka passes them on to plugins) and a bad value of a known key
raises :class:`~tidal.connectors.config.ConfigError` naming it. ``plugin.path`` is accepted
and ignored: plugins are Python packages found by import path or through the
``tidal.connectors`` entry-point group.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from tidal.connectors.config import (
    ConfigDef,
    ConfigError,
    ConfigType,
    Importance,
    Range,
    ValidString,
)
from tidal.log.client import ClientConfig

__all__ = ["WorkerConfig", "typed_client_settings", "worker_config_def"]

_log = logging.getLogger("tidal.connectors.runtime")

_JSON = "org.apache.kafka.connect.json.JsonConverter"
_SIMPLE_HEADER = "org.apache.kafka.connect.storage.SimpleHeaderConverter"


def worker_config_def() -> ConfigDef:
    """The worker configs Tidal understands, with Kafka Connect's defaults."""
    d = ConfigDef()
    s, i, lg, b, ls = (
        ConfigType.STRING,
        ConfigType.INT,
        ConfigType.LONG,
        ConfigType.BOOLEAN,
        ConfigType.LIST,
    )
    high, med, low = Importance.HIGH, Importance.MEDIUM, Importance.LOW
    d.define("bootstrap.servers", ls, "localhost:9092", None, high, "Kafka brokers to use.")
    d.define("group.id", s, "connect-cluster", None, high, "The Connect cluster's group.")
    d.define("listeners", ls, "http://localhost:8083", None, low, "REST API listeners.")
    d.define("rest.advertised.host.name", s, None, None, low, "Host name given to peers.")
    d.define("rest.advertised.port", i, None, None, low, "Port given to peers.")
    d.define("key.converter", s, _JSON, None, high, "Default key converter.")
    d.define("value.converter", s, _JSON, None, high, "Default value converter.")
    d.define("header.converter", s, _SIMPLE_HEADER, None, low, "Default header converter.")
    d.define("offset.storage.file.filename", s, "", None, low, "Standalone offsets file.")
    d.define("offset.flush.interval.ms", lg, 60000, None, low, "Offset commit interval.")
    d.define("offset.flush.timeout.ms", lg, 5000, None, low, "Offset commit timeout.")
    d.define("config.storage.topic", s, "connect-configs", None, high, "Configs topic.")
    d.define("offset.storage.topic", s, "connect-offsets", None, high, "Offsets topic.")
    d.define("status.storage.topic", s, "connect-status", None, high, "Status topic.")
    for topic in ("config", "offset", "status"):
        d.define(f"{topic}.storage.replication.factor", ConfigType.SHORT, 3, None, low, "")
    d.define("offset.storage.partitions", i, 25, None, low, "Partitions of the offsets topic.")
    d.define("status.storage.partitions", i, 5, None, low, "Partitions of the status topic.")
    d.define("plugin.path", ls, "", None, low, "Ignored: plugins are Python packages.")
    d.define("task.shutdown.graceful.timeout.ms", lg, 5000, None, low, "Task stop timeout.")
    d.define(
        "task.processes",
        i,
        0,
        Range.at_least(0),
        med,
        "Processes the worker runs its tasks in, to use more than one core (0: every task "
        "runs on the worker's own event loop).",
    )
    d.define(
        "exactly.once.source.support",
        s,
        "disabled",
        ValidString.in_("disabled", "preparing", "enabled"),
        med,
        "Exactly-once delivery for source connectors (distributed mode).",
    )
    d.define("session.timeout.ms", i, 10000, None, high, "Worker group session timeout.")
    d.define("heartbeat.interval.ms", i, 3000, None, high, "Worker group heartbeats.")
    d.define("rebalance.timeout.ms", i, 60000, None, high, "Worker group rebalance timeout.")
    d.define("scheduled.rebalance.max.delay.ms", i, 300000, None, low, "Rebalance delay.")
    d.define("topic.tracking.enable", b, True, None, low, "Track the topics connectors use.")
    d.define("topic.tracking.allow.reset", b, True, None, low, "Allow resetting topics.")
    d.define("connector.client.config.override.policy", s, "All", None, med, "")
    d.define("errors.retry.backoff.initial.ms", lg, 300, None, low, "First retry delay.")
    return d


_DEF = worker_config_def()


def typed_client_settings(
    config_cls: type[ClientConfig], props: Mapping[str, str]
) -> dict[str, Any]:
    """String settings (from a properties file) typed for one of the client's configs.

    Booleans, integers and lists are parsed by the type of the setting's default; settings
    the client does not know are dropped with a warning, as Kafka's clients do.
    """
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = key.replace(".", "_")
        field = known.get(name)
        if field is None:
            _log.warning("The configuration '%s' was supplied but isn't a known config.", key)
            continue
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        out[name] = _typed(key, value, default)
    return out


def _typed(key: str, value: str, default: Any) -> Any:
    text = value.strip()
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, list | tuple):
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(key, value, f"expected a value like {default!r}") from None
    return text


class WorkerConfig:
    """A worker's parsed configuration; ``props`` keeps the strings as given."""

    def __init__(self, props: Mapping[str, str]) -> None:
        self.props: dict[str, str] = {str(k): str(v) for k, v in props.items()}
        self.values: dict[str, Any] = _DEF.parse(self.props)
        for listener in self.listeners:
            if not listener.startswith("http://"):
                raise ConfigError("listeners", listener, "only http:// listeners are supported")

    def get(self, name: str) -> Any:
        """A typed value by Kafka's name."""
        return self.values[name]

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,...`` for the embedded clients."""
        return ",".join(self.values["bootstrap.servers"])

    @property
    def group_id(self) -> str:
        """The worker group (distributed mode)."""
        return str(self.values["group.id"])

    @property
    def listeners(self) -> list[str]:
        """REST listeners, e.g. ``["http://localhost:8083"]``."""
        return list(self.values["listeners"])

    @property
    def offset_flush_interval_ms(self) -> int:
        """How often source offsets and sink consumer offsets are committed."""
        return int(self.values["offset.flush.interval.ms"])

    @property
    def offset_flush_timeout_ms(self) -> int:
        """How long a commit may wait for outstanding records."""
        return int(self.values["offset.flush.timeout.ms"])

    @property
    def offset_storage_file(self) -> str:
        """The standalone offsets file (empty: offsets kept in memory only)."""
        return str(self.values["offset.storage.file.filename"])

    @property
    def task_shutdown_timeout_ms(self) -> int:
        """How long a task may take to stop before it is abandoned."""
        return int(self.values["task.shutdown.graceful.timeout.ms"])

    @property
    def task_processes(self) -> int:
        """How many task processes to run tasks in (0: tasks run in the worker process)."""
        return int(self.values["task.processes"])

    @property
    def exactly_once_source_support(self) -> str:
        """``disabled``, ``preparing`` or ``enabled``."""
        return str(self.values["exactly.once.source.support"])

    @property
    def exactly_once_source(self) -> bool:
        """Source tasks write records and offsets in transactions (distributed mode)."""
        return self.exactly_once_source_support == "enabled"

    def converter_settings(self, role: str) -> tuple[str, dict[str, str]]:
        """The worker's default converter for ``role`` (``key``, ``value``, ``header``)
        and its ``<role>.converter.`` settings."""
        prefix = f"{role}.converter."
        settings = {k[len(prefix) :]: v for k, v in self.props.items() if k.startswith(prefix)}
        return str(self.values[f"{role}.converter"]), settings

    def client_settings(
        self, kind: str, overrides: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Typed settings for an embedded ``producer``, ``consumer`` or ``admin`` client: the
        worker's ``bootstrap.servers``, its ``<kind>.`` settings, then ``overrides``."""
        from tidal.log.client.consumer import ConsumerConfig  # noqa: PLC0415
        from tidal.log.client.producer import ProducerConfig  # noqa: PLC0415

        prefix = kind + "."
        settings = {"bootstrap.servers": self.bootstrap_servers}
        for key, value in self.props.items():
            if key.startswith(prefix):
                settings[key[len(prefix) :]] = value
        settings.update(overrides or {})
        config_cls: type[ClientConfig] = {
            "producer": ProducerConfig,
            "consumer": ConsumerConfig,
        }.get(kind, ClientConfig)
        return typed_client_settings(config_cls, settings)

    def replication_factor(self, topic_kind: str) -> int:
        """``<topic_kind>.storage.replication.factor``; -1 means the broker's default."""
        return int(self.values[f"{topic_kind}.storage.replication.factor"])
