"""LogConfig: Kafka's names, defaults, parsing and errors."""

from __future__ import annotations

import pytest

from tidal.log.storage import LONG_MAX, ConfigError, LogConfig, LogManagerConfig


def test_defaults_match_kafka() -> None:
    props = LogConfig().to_properties()
    assert props["segment.bytes"] == "1073741824"
    assert props["segment.ms"] == "604800000"
    assert props["segment.index.bytes"] == "10485760"
    assert props["index.interval.bytes"] == "4096"
    assert props["retention.ms"] == "604800000"
    assert props["retention.bytes"] == "-1"
    assert props["cleanup.policy"] == "delete"
    assert props["delete.retention.ms"] == "86400000"
    assert props["min.cleanable.dirty.ratio"] == "0.5"
    assert props["min.compaction.lag.ms"] == "0"
    assert props["max.compaction.lag.ms"] == str(LONG_MAX)
    assert props["flush.messages"] == str(LONG_MAX)
    assert props["flush.ms"] == str(LONG_MAX)
    assert props["max.message.bytes"] == "1048588"
    assert props["file.delete.delay.ms"] == "60000"
    assert props["message.timestamp.type"] == "CreateTime"
    assert props["segment.jitter.ms"] == "0"


def test_from_properties_parses_strings_and_numbers() -> None:
    config = LogConfig.from_properties(
        {"segment.bytes": "1024", "retention.ms": -1, "min.cleanable.dirty.ratio": "0.25"}
    )
    assert config.segment_bytes == 1024
    assert config.retention_ms == -1
    assert config.min_cleanable_dirty_ratio == 0.25


def test_defaults_are_layered() -> None:
    base = LogConfig.from_properties({"segment.bytes": "2048"})
    config = LogConfig.from_properties({"retention.bytes": "10"}, defaults=base)
    assert (config.segment_bytes, config.retention_bytes) == (2048, 10)


def test_round_trip_through_properties() -> None:
    config = LogConfig.from_properties(
        {"cleanup.policy": "delete,compact", "message.timestamp.type": "LogAppendTime"}
    )
    assert LogConfig.from_properties(config.to_properties()) == config
    assert config.cleanup_policy == "compact,delete"
    assert config.compact
    assert config.delete
    assert config.log_append_time


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("segment.byte", "1", "Unknown configuration"),
        ("segment.bytes", "lots", "INT"),
        ("segment.bytes", "99999999999", "INT"),
        ("segment.bytes", "3", "at least"),
        ("segment.ms", "0", "at least"),
        ("retention.ms", "-2", "at least"),
        ("min.cleanable.dirty.ratio", "1.5", "no more than"),
        ("min.cleanable.dirty.ratio", "half", "DOUBLE"),
        ("cleanup.policy", "shred", "one of"),
        ("message.timestamp.type", "WallTime", "one of"),
        ("flush.messages", True, "LONG"),
    ],
)
def test_bad_values_name_key_and_value(key: str, value: object, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        LogConfig.from_properties({key: value})
    assert info.value.key == key
    assert info.value.value == value
    assert key in str(info.value)
    assert repr(value) in str(info.value)
    assert reason in str(info.value)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"index\.interval\.bytes"):
        LogConfig(index_interval_bytes=-5)


def test_log_manager_config() -> None:
    config = LogManagerConfig.from_properties(
        {"log.retention.check.interval.ms": "100", "log.cleaner.enable": "false"}
    )
    assert config.retention_check_interval_ms == 100
    assert config.cleaner_enable is False
    assert LogManagerConfig().retention_check_interval_ms == 300000
    with pytest.raises(ConfigError, match=r"log\.max\.open\.files"):
        LogManagerConfig.from_properties({"log.max.open.files": "1"})
