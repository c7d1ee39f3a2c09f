"""The answers to ``DescribeConfigs``: every topic or broker config with its
value, source, synonyms, type and documentation, as Kafka reports them.

Frameworks read these (Quix Streams reads a topic's ``retention.ms``, Kafka
Streams checks ``cleanup.policy``), so every topic config is listed, with
``DEFAULT_CONFIG`` when neither the topic nor the broker set it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from tidal.log.broker._config import (
    BROKER_CONFIG_DEFS,
    TOPIC_CONFIG_SYNONYMS,
    BrokerConfig,
    ConfigSource,
)
from tidal.log.broker._topics import TopicInfo
from tidal.log.storage import LogConfig

__all__ = ["ConfigEntry", "ConfigSynonym", "ConfigType", "describe_broker", "describe_topic"]


class ConfigType(IntEnum):
    """Kafka's ``DescribeConfigsResponse.ConfigType`` (DescribeConfigs v3+)."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


_TYPES = {
    "int": ConfigType.INT,
    "long": ConfigType.LONG,
    "double": ConfigType.DOUBLE,
    "bool": ConfigType.BOOLEAN,
    "string": ConfigType.STRING,
    "list": ConfigType.LIST,
}

_TOPIC_DOCS = {
    "segment.bytes": "The segment file size for the log.",
    "segment.ms": "The time after which Kafka will force the log to roll.",
    "segment.jitter.ms": "The maximum random jitter subtracted from segment.ms.",
    "segment.index.bytes": "The size of the index that maps offsets to file positions.",
    "index.interval.bytes": "How frequently Kafka adds an index entry to its offset index.",
    "retention.ms": "The longest time to retain a log before discarding old segments.",
    "retention.bytes": "The largest size a partition can grow to before old segments go.",
    "cleanup.policy": "delete, compact, or both.",
    "delete.retention.ms": "How long to retain delete tombstones for compacted topics.",
    "min.cleanable.dirty.ratio": "How frequently the log compactor will attempt to clean.",
    "min.compaction.lag.ms": "The minimum time a message remains uncompacted.",
    "max.compaction.lag.ms": "The maximum time a message remains ineligible for compaction.",
    "flush.messages": "Force an fsync after this many messages.",
    "flush.ms": "Force an fsync after this much time.",
    "max.message.bytes": "The largest record batch size allowed.",
    "file.delete.delay.ms": "The time to wait before deleting a file from the filesystem.",
    "message.timestamp.type": "CreateTime or LogAppendTime.",
}


@dataclass(frozen=True, slots=True)
class ConfigSynonym:
    """Where a value could come from, most specific first."""

    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One described config."""

    name: str
    value: str | None
    read_only: bool
    source: ConfigSource
    is_default: bool
    config_type: ConfigType
    documentation: str
    is_sensitive: bool = False
    synonyms: tuple[ConfigSynonym, ...] = field(default=())


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def describe_topic(
    topic: TopicInfo, config: BrokerConfig, keys: Iterable[str] | None = None
) -> list[ConfigEntry]:
    """Every config of ``topic`` (or the named ``keys``), values as strings."""
    effective = config.topic_config(topic.configs).to_properties()
    kinds = LogConfig.kinds()
    wanted = sorted(effective) if keys is None else [k for k in keys if k in effective]
    entries = []
    for name in wanted:
        synonyms: list[ConfigSynonym] = []
        if name in topic.configs:
            synonyms.append(
                ConfigSynonym(name, topic.configs[name], ConfigSource.DYNAMIC_TOPIC_CONFIG)
            )
        synonyms.extend(
            ConfigSynonym(b, _text(config.get(b)), ConfigSource.STATIC_BROKER_CONFIG)
            for b in TOPIC_CONFIG_SYNONYMS.get(name, ())
            if config.is_explicit(b)
        )
        default_source = config.topic_default_source(name)
        if default_source is not None and not default_source[2]:
            broker_name = default_source[0]
            default = _text(BROKER_CONFIG_DEFS[broker_name].default)
            synonyms.append(ConfigSynonym(broker_name, default, ConfigSource.DEFAULT_CONFIG))
        source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
        entries.append(
            ConfigEntry(
                name=name,
                value=effective[name],
                read_only=False,
                source=source,
                is_default=source is ConfigSource.DEFAULT_CONFIG,
                config_type=_TYPES[kinds[name]],
                documentation=_TOPIC_DOCS.get(name, ""),
                synonyms=tuple(synonyms),
            )
        )
    return entries


def describe_broker(config: BrokerConfig, keys: Iterable[str] | None = None) -> list[ConfigEntry]:
    """Every broker setting (or the named ``keys``); broker settings are
    static here, so all are read-only."""
    wanted = sorted(BROKER_CONFIG_DEFS) if keys is None else [
        k for k in keys if k in BROKER_CONFIG_DEFS
    ]  # fmt: skip
    entries = []
    for name in wanted:
        definition = BROKER_CONFIG_DEFS[name]
        explicit = config.is_explicit(name)
        source = ConfigSource.STATIC_BROKER_CONFIG if explicit else ConfigSource.DEFAULT_CONFIG
        value = _text(config.get(name))
        entries.append(
            ConfigEntry(
                name=name,
                value=value,
                read_only=True,
                source=source,
                is_default=not explicit,
                config_type=_TYPES[definition.kind],
                documentation=definition.doc,
                synonyms=(ConfigSynonym(name, value, source),),
            )
        )
    return entries
