"""Per-topic log configuration with Kafka's names, defaults and bounds.

``LogConfig`` mirrors Kafka's topic-level configs (``segment.bytes``,
``retention.ms``, ...). Python attribute names are the Kafka names with dots
replaced by underscores; ``from_properties`` and ``to_properties`` speak the
dotted names so a broker can pass ``CreateTopics``/``AlterConfigs`` payloads
straight through. ``LogManagerConfig`` holds the broker-level ``log.*``
settings the log manager's scheduler needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LONG_MAX",
    "ConfigError",
    "LogConfig",
    "LogManagerConfig",
    "parse_config_value",
]

#: Java's ``Long.MAX_VALUE``: Kafka's "never" for ``flush.*`` and lags.
LONG_MAX = 2**63 - 1
_INT_MAX = 2**31 - 1
_LONG_MIN = -(2**63)
_INT_MIN = -(2**31)


class ConfigError(ValueError):
    """A configuration key is unknown or its value has the wrong type or range.

    ``key`` and ``value`` name the offending entry; the message reads like
    Kafka's ``ConfigException``.
    """

    def __init__(self, key: str, value: object, reason: str) -> None:
        super().__init__(f"Invalid value {value!r} for configuration {key}: {reason}")
        self.key = key
        self.value = value
        self.reason = reason


def _opt(
    kafka_name: str,
    kind: str,
    default: Any,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    meta = {"kafka": kafka_name, "kind": kind, "low": low, "high": high, "choices": choices}
    return field(default=default, metadata=meta)


def _parse(key: str, raw: object, meta: Mapping[str, Any]) -> Any:
    kind = meta["kind"]
    value: Any
    if kind in ("int", "long"):
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ConfigError(key, raw, f"Not a number of type {kind.upper()}")
        try:
            value = int(raw.strip()) if isinstance(raw, str) else raw
        except ValueError:
            raise ConfigError(key, raw, f"Not a number of type {kind.upper()}") from None
        lo, hi = (_INT_MIN, _INT_MAX) if kind == "int" else (_LONG_MIN, LONG_MAX)
        if not lo <= value <= hi:
            raise ConfigError(key, raw, f"Not a number of type {kind.upper()}")
    elif kind == "double":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ConfigError(key, raw, "Not a number of type DOUBLE")
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(key, raw, "Not a number of type DOUBLE") from None
    elif kind == "bool":
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            value = raw.strip().lower() == "true"
        else:
            raise ConfigError(key, raw, "Expected value to be either true or false")
    elif kind == "list":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(key, raw, "Expected a comma separated list")
        value = ",".join(sorted({i.strip() for i in items if i.strip()}))
        for item in value.split(","):
            if item not in meta["choices"]:
                raise ConfigError(key, raw, f"String must be one of: {', '.join(meta['choices'])}")
    else:
        if not isinstance(raw, str):
            raise ConfigError(key, raw, "Expected a string")
        value = raw.strip()
        if meta["choices"] and value not in meta["choices"]:
            raise ConfigError(key, raw, f"String must be one of: {', '.join(meta['choices'])}")
    low, high = meta["low"], meta["high"]
    if low is not None and value < low:
        raise ConfigError(key, raw, f"Value must be at least {low}")
    if high is not None and value > high:
        raise ConfigError(key, raw, f"Value must be no more than {high}")
    return value


def parse_config_value(
    key: str,
    raw: object,
    kind: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """Parse one setting the way Kafka's ``ConfigDef`` does.

    ``kind`` is ``int``, ``long``, ``double``, ``bool``, ``string`` or ``list``
    (comma separated, each item one of ``choices``). Raises ``ConfigError``
    naming ``key`` and the value when the type or range is wrong.
    """
    return _parse(key, raw, {"kind": kind, "low": low, "high": high, "choices": choices})


class _KafkaConfig:
    """Shared ``from_properties``/``to_properties`` over dataclass metadata."""

    @classmethod
    def _fields_by_key(cls) -> dict[str, dataclasses.Field[Any]]:
        return {f.metadata["kafka"]: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The dotted Kafka names this config understands."""
        return frozenset(cls._fields_by_key())

    @classmethod
    def kinds(cls) -> dict[str, str]:
        """Each dotted name's value type (``int``, ``long``, ``double``, ...)."""
        return {key: f.metadata["kind"] for key, f in cls._fields_by_key().items()}

    def _with_properties(self, props: Mapping[str, object]) -> Any:
        fields = self._fields_by_key()
        changes: dict[str, Any] = {}
        for key, raw in props.items():
            f = fields.get(key)
            if f is None:
                raise ConfigError(key, raw, "Unknown configuration")
            changes[f.name] = _parse(key, raw, f.metadata)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_properties(self) -> dict[str, str]:
        """Every setting as Kafka's dotted name → string value."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.metadata["kafka"]] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    def validate(self) -> None:
        """Check every field against its type and bounds (normalising lists);
        raises ``ConfigError`` naming the Kafka key."""
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _parse(f.metadata["kafka"], getattr(self, f.name), f.metadata)
            object.__setattr__(self, f.name, value)


@dataclass(frozen=True, slots=True)
class LogConfig(_KafkaConfig):
    """Topic-level log settings, defaults as in Apache Kafka.

    >>> LogConfig.from_properties({"segment.bytes": "1024"}).segment_bytes
    1024
    """

    segment_bytes: int = _opt("segment.bytes", "int", 1073741824, 14)
    segment_ms: int = _opt("segment.ms", "long", 604800000, 1)
    segment_jitter_ms: int = _opt("segment.jitter.ms", "long", 0, 0)
    segment_index_bytes: int = _opt("segment.index.bytes", "int", 10485760, 4)
    index_interval_bytes: int = _opt("index.interval.bytes", "int", 4096, 0)
    retention_ms: int = _opt("retention.ms", "long", 604800000, -1)
    retention_bytes: int = _opt("retention.bytes", "long", -1)
    cleanup_policy: str = _opt("cleanup.policy", "list", "delete", choices=("compact", "delete"))
    delete_retention_ms: int = _opt("delete.retention.ms", "long", 86400000, 0)
    min_cleanable_dirty_ratio: float = _opt("min.cleanable.dirty.ratio", "double", 0.5, 0, 1)
    min_compaction_lag_ms: int = _opt("min.compaction.lag.ms", "long", 0, 0)
    max_compaction_lag_ms: int = _opt("max.compaction.lag.ms", "long", LONG_MAX, 1)
    flush_messages: int = _opt("flush.messages", "long", LONG_MAX, 1)
    flush_ms: int = _opt("flush.ms", "long", LONG_MAX, 0)
    max_message_bytes: int = _opt("max.message.bytes", "int", 1048588, 0)
    file_delete_delay_ms: int = _opt("file.delete.delay.ms", "long", 60000, 0)
    message_timestamp_type: str = _opt(
        "message.timestamp.type", "string", "CreateTime", choices=("CreateTime", "LogAppendTime")
    )

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_properties(
        cls, props: Mapping[str, object], defaults: LogConfig | None = None
    ) -> LogConfig:
        """Build a config from Kafka's dotted names over ``defaults``.

        Values may be strings (as on the wire) or numbers. Raises
        ``ConfigError`` naming the key and value for an unknown key, a value
        of the wrong type, or one out of range.
        """
        base = defaults if defaults is not None else cls()
        result: LogConfig = base._with_properties(props)
        return result

    @property
    def compact(self) -> bool:
        """True when ``cleanup.policy`` contains ``compact``."""
        return "compact" in self.cleanup_policy.split(",")

    @property
    def delete(self) -> bool:
        """True when ``cleanup.policy`` contains ``delete``."""
        return "delete" in self.cleanup_policy.split(",")

    @property
    def log_append_time(self) -> bool:
        """True when the broker stamps batches with LogAppendTime."""
        return self.message_timestamp_type == "LogAppendTime"


@dataclass(frozen=True, slots=True)
class LogManagerConfig(_KafkaConfig):
    """Broker-level settings of the log manager and its scheduler thread.

    ``log.max.open.files`` is Tidal's own: the bound on segment file handles
    kept open at once (least recently used ones are closed and reopened on
    demand).
    """

    retention_check_interval_ms: int = _opt("log.retention.check.interval.ms", "long", 300000, 1)
    flush_scheduler_interval_ms: int = _opt("log.flush.scheduler.interval.ms", "long", LONG_MAX, 1)
    flush_offset_checkpoint_interval_ms: int = _opt(
        "log.flush.offset.checkpoint.interval.ms", "int", 60000, 0
    )
    cleaner_enable: bool = _opt("log.cleaner.enable", "bool", True)
    cleaner_backoff_ms: int = _opt("log.cleaner.backoff.ms", "long", 15000, 0)
    max_open_files: int = _opt("log.max.open.files", "int", 1024, 4)

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_properties(
        cls, props: Mapping[str, object], defaults: LogManagerConfig | None = None
    ) -> LogManagerConfig:
        """Build from dotted ``log.*`` names; raises ``ConfigError`` like ``LogConfig``."""
        base = defaults if defaults is not None else cls()
        result: LogManagerConfig = base._with_properties(props)
        return result
