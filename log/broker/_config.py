"""Broker configuration with Apache Kafka's ``server.properties`` names.

A ``BrokerConfig`` is built from a properties file, ``--set key=value``
overrides and defaults, all checked against one table of definitions (name,
type, default, bounds, documentation) in the manner of Kafka's ``ConfigDef``.
Topic configs take their defaults from broker *synonyms* exactly as Kafka's
do (``retention.ms`` from ``log.retention.ms``, then ``log.retention.minutes``,
then ``log.retention.hours``), which is also what ``DescribeConfigs`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from tidal.log.storage import LONG_MAX, ConfigError, LogConfig, parse_config_value

__all__ = [
    "BROKER_CONFIG_DEFS",
    "TOPIC_CONFIG_SYNONYMS",
    "BrokerConfig",
    "ConfigDef",
    "ConfigSource",
    "parse_properties",
]

_INT_MAX = 2**31 - 1


class ConfigSource(IntEnum):
    """Where a described config value comes from (Kafka's ``ConfigSource``)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


@dataclass(frozen=True, slots=True)
class ConfigDef:
    """One broker setting: Kafka's name, type, default and documentation."""

    name: str
    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: object) -> Any:
        """Check and convert ``raw``; ``None`` is allowed when the default is."""
        if raw is None and self.default is None:
            return None
        return parse_config_value(
            self.name, raw, self.kind, low=self.low, high=self.high, choices=self.choices
        )


def _d(name: str, kind: str, default: Any, doc: str, **bounds: Any) -> ConfigDef:
    return ConfigDef(name, kind, default, doc, **bounds)


#: Every broker setting Tidal understands, with Kafka's defaults.
BROKER_CONFIG_DEFS: dict[str, ConfigDef] = {
    d.name: d
    for d in (
        _d("node.id", "int", 1, "This broker's id in the cluster.", low=0),
        _d("listeners", "string", "PLAINTEXT://127.0.0.1:9092", "Where the broker listens."),
        _d("advertised.listeners", "string", None, "The address given to clients."),
        _d("log.dirs", "string", "./tidal-data", "The directory holding the log data."),
        _d("num.partitions", "int", 1, "Partitions of auto-created topics.", low=1),
        _d("default.replication.factor", "int", 1, "Replication factor of new topics.", low=1),
        _d("auto.create.topics.enable", "bool", True, "Create topics on first use."),
        _d("delete.topic.enable", "bool", True, "Allow DeleteTopics."),
        _d("message.max.bytes", "int", 1048588, "Largest record batch accepted.", low=0),
        _d("socket.request.max.bytes", "int", 104857600, "Largest request.", low=1),
        _d("log.segment.bytes", "int", 1073741824, "Size of a log segment.", low=14),
        _d("log.roll.ms", "long", None, "Roll segments after this long.", low=1),
        _d("log.roll.hours", "int", 168, "Roll segments after this many hours.", low=1),
        _d("log.roll.jitter.ms", "long", None, "Random jitter subtracted from roll time."),
        _d("log.roll.jitter.hours", "int", 0, "Jitter in hours.", low=0),
        _d("log.retention.ms", "long", None, "Keep data this long (-1: forever)."),
        _d("log.retention.minutes", "int", None, "Keep data this many minutes."),
        _d("log.retention.hours", "int", 168, "Keep data this many hours."),
        _d("log.retention.bytes", "long", -1, "Keep at most this many bytes per partition."),
        _d("log.retention.check.interval.ms", "long", 300000, "Retention check period.", low=1),
        _d(
            "log.cleanup.policy",
            "list",
            "delete",
            "delete and/or compact.",
            choices=("compact", "delete"),
        ),
        _d("log.cleaner.enable", "bool", True, "Run the log cleaner."),
        _d("log.cleaner.backoff.ms", "long", 15000, "Sleep between cleaner runs.", low=0),
        _d(
            "log.cleaner.min.cleanable.ratio",
            "double",
            0.5,
            "Dirty ratio to clean at.",
            low=0,
            high=1,
        ),
        _d("log.cleaner.delete.retention.ms", "long", 86400000, "Tombstone lifetime.", low=0),
        _d("log.cleaner.min.compaction.lag.ms", "long", 0, "Minimum age to compact.", low=0),
        _d(
            "log.cleaner.max.compaction.lag.ms", "long", LONG_MAX, "Maximum age uncompacted.", low=1
        ),
        _d("log.index.size.max.bytes", "int", 10485760, "Offset index size.", low=4),
        _d("log.index.interval.bytes", "int", 4096, "Bytes between index entries.", low=0),
        _d(
            "log.flush.interval.messages",
            "long",
            LONG_MAX,
            "fsync after this many messages.",
            low=1,
        ),
        _d("log.flush.interval.ms", "long", None, "fsync after this long."),
        _d("log.flush.scheduler.interval.ms", "long", LONG_MAX, "Flush check period."),
        _d("log.flush.offset.checkpoint.interval.ms", "int", 60000, "Checkpoint period.", low=0),
        _d("log.segment.delete.delay.ms", "long", 60000, "Delay before deleting files.", low=0),
        _d(
            "log.message.timestamp.type",
            "string",
            "CreateTime",
            "CreateTime or LogAppendTime.",
            choices=("CreateTime", "LogAppendTime"),
        ),
        _d("log.max.open.files", "int", 1024, "Bound on open segment files (Tidal).", low=4),
        _d(
            "group.initial.rebalance.delay.ms",
            "int",
            3000,
            "Delay of a group's first rebalance.",
            low=0,
        ),
        _d("group.min.session.timeout.ms", "int", 6000, "Smallest session timeout.", low=0),
        _d("group.max.session.timeout.ms", "int", 1800000, "Largest session timeout.", low=0),
        _d("group.max.size", "int", _INT_MAX, "Most members of a group.", low=1),
        _d("offsets.topic.num.partitions", "int", 50, "Partitions of __consumer_offsets.", low=1),
        _d(
            "offsets.topic.replication.factor",
            "int",
            1,
            "Replication of __consumer_offsets.",
            low=1,
        ),
        _d(
            "offsets.topic.segment.bytes",
            "int",
            104857600,
            "Segment size of offsets topic.",
            low=14,
        ),
        _d("offsets.retention.minutes", "int", 10080, "Keep offsets of empty groups.", low=1),
        _d("offsets.retention.check.interval.ms", "long", 600000, "Offset expiry period.", low=1),
        _d("transaction.state.log.num.partitions", "int", 50, "Partitions of txn state.", low=1),
        _d(
            "transaction.state.log.segment.bytes",
            "int",
            104857600,
            "Segment size of the transaction state topic.",
            low=14,
        ),
        _d("transaction.max.timeout.ms", "int", 900000, "Largest transaction timeout.", low=1),
        _d(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            "int",
            10000,
            "How often timed-out transactions are aborted.",
            low=1,
        ),
        _d(
            "transaction.remove.expired.transaction.cleanup.interval.ms",
            "int",
            3600000,
            "How often expired transactional ids are removed.",
            low=1,
        ),
        _d(
            "transactional.id.expiration.ms",
            "int",
            604800000,
            "Expire idle transactional ids.",
            low=1,
        ),
        _d("producer.id.expiration.ms", "int", 86400000, "Expire idle producer ids.", low=1),
    )
}

#: Topic config → broker settings that supply its default, first wins.
TOPIC_CONFIG_SYNONYMS: dict[str, tuple[str, ...]] = {
    "segment.bytes": ("log.segment.bytes",),
    "segment.ms": ("log.roll.ms", "log.roll.hours"),
    "segment.jitter.ms": ("log.roll.jitter.ms", "log.roll.jitter.hours"),
    "segment.index.bytes": ("log.index.size.max.bytes",),
    "index.interval.bytes": ("log.index.interval.bytes",),
    "retention.ms": ("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
    "retention.bytes": ("log.retention.bytes",),
    "cleanup.policy": ("log.cleanup.policy",),
    "delete.retention.ms": ("log.cleaner.delete.retention.ms",),
    "min.cleanable.dirty.ratio": ("log.cleaner.min.cleanable.ratio",),
    "min.compaction.lag.ms": ("log.cleaner.min.compaction.lag.ms",),
    "max.compaction.lag.ms": ("log.cleaner.max.compaction.lag.ms",),
    "flush.messages": ("log.flush.interval.messages",),
    "flush.ms": ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
    "max.message.bytes": ("message.max.bytes",),
    "file.delete.delay.ms": ("log.segment.delete.delay.ms",),
    "message.timestamp.type": ("log.message.timestamp.type",),
}

#: Multipliers for synonyms counted in coarser units than milliseconds.
_UNIT_MS = {".hours": 3_600_000, ".minutes": 60_000}


def _to_ms(name: str, value: int) -> int:
    for suffix, factor in _UNIT_MS.items():
        if name.endswith(suffix):
            return value * factor if value >= 0 else value
    return value


def parse_properties(text: str) -> dict[str, str]:
    """Parse Java ``.properties`` text: ``key=value`` or ``key: value`` lines,
    ``#``/``!`` comments, backslash line continuations and escapes."""
    props: dict[str, str] = {}
    logical = ""
    for raw_line in text.splitlines():
        line = raw_line.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_property(logical)
        props[key] = value
        logical = ""
    if logical:
        key, value = _split_property(logical)
        props[key] = value
    return props


def _split_property(line: str) -> tuple[str, str]:
    key_chars: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            key_chars.append(_unescape(line[i + 1]))
            i += 2
            continue
        if ch in "=: \t":
            break
        key_chars.append(ch)
        i += 1
    rest = line[i:].lstrip(" \t")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t")
    value = []
    j = 0
    while j < len(rest):
        if rest[j] == "\\" and j + 1 < len(rest):
            value.append(_unescape(rest[j + 1]))
            j += 2
        else:
            value.append(rest[j])
            j += 1
    return "".join(key_chars), "".join(value)


def _unescape(ch: str) -> str:
    return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(ch, ch)


class BrokerConfig:
    """The broker's settings: defaults, overridden by a properties file, then
    by explicit overrides (``--set``). Unknown keys and bad values raise
    ``ConfigError`` naming the key and value.

    >>> BrokerConfig({"num.partitions": "3"}).get("num.partitions")
    3
    """

    def __init__(self, props: Mapping[str, object] | None = None) -> None:
        self._explicit: dict[str, Any] = {}
        for key, raw in (props or {}).items():
            definition = BROKER_CONFIG_DEFS.get(key)
            if definition is None:
                raise ConfigError(key, raw, "Unknown broker configuration")
            self._explicit[key] = definition.parse(raw)
        self._topic_defaults = self._build_topic_defaults()

    @classmethod
    def from_file(
        cls, path: Path | str, overrides: Mapping[str, object] | None = None
    ) -> BrokerConfig:
        """Load a ``server.properties`` file, then apply ``overrides``."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("--config", str(path), f"cannot read the file: {exc}") from None
        props: dict[str, object] = dict(parse_properties(text))
        props.update(overrides or {})
        return cls(props)

    def get(self, name: str) -> Any:
        """The effective value of a broker setting."""
        if name in self._explicit:
            return self._explicit[name]
        return BROKER_CONFIG_DEFS[name].default

    def is_explicit(self, name: str) -> bool:
        """True when the setting was given rather than defaulted."""
        return name in self._explicit

    def explicit(self) -> dict[str, Any]:
        """The settings that were given, by name."""
        return dict(self._explicit)

    def _build_topic_defaults(self) -> LogConfig:
        props: dict[str, object] = {}
        for topic_name in TOPIC_CONFIG_SYNONYMS:
            found = self.topic_default_source(topic_name)
            if found is not None:
                props[topic_name] = found[1]
        return LogConfig.from_properties(props)

    def topic_default_source(self, topic_name: str) -> tuple[str, Any, bool] | None:
        """The broker setting that supplies ``topic_name``'s default:
        ``(broker name, value in the topic's unit, explicitly set)``."""
        for name in TOPIC_CONFIG_SYNONYMS.get(topic_name, ()):
            value = self.get(name)
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                value = _to_ms(name, value)
            return name, value, self.is_explicit(name)
        return None

    @property
    def topic_defaults(self) -> LogConfig:
        """The ``LogConfig`` a topic gets when it overrides nothing."""
        return self._topic_defaults

    def topic_config(self, overrides: Mapping[str, object]) -> LogConfig:
        """A topic's config: its overrides over the broker's defaults."""
        return LogConfig.from_properties(overrides, self._topic_defaults)
