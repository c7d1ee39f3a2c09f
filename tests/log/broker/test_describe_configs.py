import uuid

from tidal.log.broker._config import BrokerConfig, ConfigSource
from tidal.log.broker._describe_configs import ConfigType, describe_broker, describe_topic
from tidal.log.broker._topics import TopicInfo
from tidal.log.storage import LogConfig


def _topic(**configs: str) -> TopicInfo:
    return TopicInfo("t", uuid.uuid4(), 1, dict(configs))


def test_every_topic_config_is_listed_with_its_value() -> None:
    entries = {e.name: e for e in describe_topic(_topic(), BrokerConfig())}
    assert set(entries) == set(LogConfig.keys())
    retention = entries["retention.ms"]
    assert retention.value == "604800000"
    assert retention.source is ConfigSource.DEFAULT_CONFIG
    assert retention.is_default
    assert retention.config_type is ConfigType.LONG
    assert retention.synonyms[0].name == "log.retention.hours"
    assert entries["cleanup.policy"].config_type is ConfigType.LIST


def test_topic_override_then_broker_setting_then_default() -> None:
    broker = BrokerConfig({"log.retention.hours": "1"})
    topic_set = {e.name: e for e in describe_topic(_topic(**{"retention.ms": "5"}), broker)}
    entry = topic_set["retention.ms"]
    assert (entry.value, entry.source, entry.is_default) == (
        "5",
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
        False,
    )
    assert [(s.name, s.value, s.source) for s in entry.synonyms] == [
        ("retention.ms", "5", ConfigSource.DYNAMIC_TOPIC_CONFIG),
        ("log.retention.hours", "1", ConfigSource.STATIC_BROKER_CONFIG),
    ]
    broker_set = {e.name: e for e in describe_topic(_topic(), broker)}["retention.ms"]
    assert (broker_set.value, broker_set.source) == ("3600000", ConfigSource.STATIC_BROKER_CONFIG)


def test_selected_keys_only_known_ones() -> None:
    entries = describe_topic(_topic(), BrokerConfig(), ["retention.ms", "nope"])
    assert [e.name for e in entries] == ["retention.ms"]


def test_broker_configs() -> None:
    entries = {e.name: e for e in describe_broker(BrokerConfig({"num.partitions": "3"}))}
    assert entries["num.partitions"].value == "3"
    assert entries["num.partitions"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert entries["auto.create.topics.enable"].value == "true"
    assert entries["auto.create.topics.enable"].is_default
    assert entries["advertised.listeners"].value is None
