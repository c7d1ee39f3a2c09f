from pathlib import Path

import pytest

from tidal.log.broker._config import BrokerConfig, parse_properties
from tidal.log.storage import ConfigError


def test_defaults_match_kafka() -> None:
    config = BrokerConfig()
    assert config.get("num.partitions") == 1
    assert config.get("auto.create.topics.enable") is True
    assert config.get("message.max.bytes") == 1048588
    assert config.get("group.initial.rebalance.delay.ms") == 3000
    assert config.get("offsets.retention.minutes") == 10080
    assert config.topic_defaults.retention_ms == 168 * 3_600_000
    assert config.topic_defaults.segment_ms == 168 * 3_600_000


def test_topic_defaults_follow_synonyms_in_order() -> None:
    hours = BrokerConfig({"log.retention.hours": "1"})
    assert hours.topic_defaults.retention_ms == 3_600_000
    assert hours.topic_default_source("retention.ms") == ("log.retention.hours", 3_600_000, True)
    minutes = BrokerConfig({"log.retention.hours": "1", "log.retention.minutes": "2"})
    assert minutes.topic_defaults.retention_ms == 120_000
    ms = BrokerConfig({"log.retention.minutes": "2", "log.retention.ms": "-1"})
    assert ms.topic_defaults.retention_ms == -1
    assert BrokerConfig({"message.max.bytes": "2000"}).topic_defaults.max_message_bytes == 2000
    compact = BrokerConfig({"log.cleanup.policy": "compact,delete"})
    assert compact.topic_defaults.cleanup_policy == "compact,delete"


def test_topic_config_overrides_broker_defaults() -> None:
    config = BrokerConfig({"log.segment.bytes": "4096"})
    topic = config.topic_config({"retention.bytes": "100"})
    assert (topic.segment_bytes, topic.retention_bytes) == (4096, 100)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"no.such.setting": "1"}, "no.such.setting: Unknown broker configuration"),
        ({"num.partitions": "zero"}, "num.partitions: Not a number of type INT"),
        ({"num.partitions": "0"}, "num.partitions: Value must be at least 1"),
        ({"auto.create.topics.enable": "yes"}, "Expected value to be either true or false"),
        ({"log.cleanup.policy": "shred"}, "String must be one of: compact, delete"),
    ],
)
def test_bad_settings_name_the_key_and_value(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BrokerConfig(props)


def test_properties_file_syntax() -> None:
    text = "\n".join(
        [
            "# a comment",
            "! another",
            "log.dirs=/var/lib/tidal",
            "num.partitions : 3",
            "listeners PLAINTEXT://0.0.0.0:9092",
            "advertised.listeners=PLAINTEXT://host\\",
            "    :9092",
            "key\\=with\\:escapes=v\\tx",
            "",
        ]
    )
    assert parse_properties(text) == {
        "log.dirs": "/var/lib/tidal",
        "num.partitions": "3",
        "listeners": "PLAINTEXT://0.0.0.0:9092",
        "advertised.listeners": "PLAINTEXT://host:9092",
        "key=with:escapes": "v\tx",
    }


def test_from_file_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "server.properties"
    path.write_text("num.partitions=3\nlog.retention.hours=2\n")
    config = BrokerConfig.from_file(path, {"num.partitions": "6"})
    assert config.get("num.partitions") == 6
    assert config.topic_defaults.retention_ms == 7_200_000


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        BrokerConfig.from_file(tmp_path / "nope.properties")
