from collections.abc import Iterator
from pathlib import Path

import pytest

from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._topics import (
    INVALID_CONFIG,
    INVALID_PARTITIONS,
    INVALID_REPLICATION_FACTOR,
    INVALID_TOPIC_EXCEPTION,
    TOPIC_ALREADY_EXISTS,
    TOPIC_DELETION_DISABLED,
    UNKNOWN_TOPIC_OR_PARTITION,
    TopicError,
    TopicRegistry,
    load_cluster_id,
)
from tidal.log.storage import LogManager


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[TopicRegistry]:
    with LogManager(tmp_path, start_scheduler=False) as logs:
        yield TopicRegistry(tmp_path, BrokerConfig({"num.partitions": "2"}), logs)


def test_create_topic_makes_partition_logs_and_persists(tmp_path: Path) -> None:
    config = BrokerConfig()
    with LogManager(tmp_path, start_scheduler=False) as logs:
        registry = TopicRegistry(tmp_path, config, logs)
        info = registry.create_topic("orders", 3, configs={"retention.ms": "1000"})
        assert [logs.get_log("orders", p) is not None for p in range(3)] == [True] * 3
        assert logs.get_log("orders", 0).config.retention_ms == 1000  # type: ignore[union-attr]
    with LogManager(tmp_path, start_scheduler=False) as logs:
        again = TopicRegistry(tmp_path, config, logs).get("orders")
        assert again is not None
        assert (again.topic_id, again.partitions, again.configs) == (
            info.topic_id,
            3,
            {"retention.ms": "1000"},
        )
        # the reloaded log gets the topic's config, not the broker default
        assert logs.get_log("orders", 2).config.retention_ms == 1000  # type: ignore[union-attr]


def test_default_partitions_and_validate_only(registry: TopicRegistry) -> None:
    assert registry.create_topic("a").partitions == 2
    assert registry.create_topic("b", 5, validate_only=True).partitions == 5
    assert registry.get("b") is None
    assert registry.logs.get_log("b", 0) is None


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"name": "bad name"}, INVALID_TOPIC_EXCEPTION, "invalid topic name"),
        ({"name": "t", "partitions": 0}, INVALID_PARTITIONS, "at least 1"),
        ({"name": "t", "replication_factor": 3}, INVALID_REPLICATION_FACTOR, "larger than"),
        ({"name": "t", "configs": {"retention.ms": "soon"}}, INVALID_CONFIG, "retention.ms"),
        ({"name": "t", "configs": {"no.such": "1"}}, INVALID_CONFIG, "no.such"),
    ],
)
def test_create_topic_refusals(
    registry: TopicRegistry, kwargs: dict[str, object], code: int, message: str
) -> None:
    with pytest.raises(TopicError, match=message) as info:
        registry.create_topic(**kwargs)  # type: ignore[arg-type]
    assert info.value.error_code == code
    assert registry.topics() == []


def test_existing_and_colliding_names(registry: TopicRegistry) -> None:
    registry.create_topic("my.topic")
    with pytest.raises(TopicError) as exists:
        registry.create_topic("my.topic")
    assert exists.value.error_code == TOPIC_ALREADY_EXISTS
    with pytest.raises(TopicError, match="collides") as collides:
        registry.create_topic("my_topic")
    assert collides.value.error_code == INVALID_TOPIC_EXCEPTION


def test_delete_topic(registry: TopicRegistry) -> None:
    registry.create_topic("gone", 2)
    registry.delete_topic("gone")
    assert registry.get("gone") is None
    assert registry.logs.get_log("gone", 0) is None
    with pytest.raises(TopicError) as info:
        registry.delete_topic("gone")
    assert info.value.error_code == UNKNOWN_TOPIC_OR_PARTITION


def test_delete_disabled(tmp_path: Path) -> None:
    with LogManager(tmp_path, start_scheduler=False) as logs:
        registry = TopicRegistry(tmp_path, BrokerConfig({"delete.topic.enable": "false"}), logs)
        registry.create_topic("kept")
        with pytest.raises(TopicError) as info:
            registry.delete_topic("kept")
        assert info.value.error_code == TOPIC_DELETION_DISABLED


def test_create_partitions_grows_only(registry: TopicRegistry) -> None:
    registry.create_topic("grow", 1)
    registry.create_partitions("grow", 4)
    assert registry.get("grow").partitions == 4  # type: ignore[union-attr]
    assert registry.logs.get_log("grow", 3) is not None
    with pytest.raises(TopicError, match="higher than or equal") as info:
        registry.create_partitions("grow", 2)
    assert info.value.error_code == INVALID_PARTITIONS


def test_alter_configs_apply_to_live_logs(registry: TopicRegistry) -> None:
    registry.create_topic("t", 1, configs={"retention.ms": "1000", "segment.bytes": "4096"})
    registry.alter_configs("t", {"retention.bytes": "10"}, delete=["retention.ms"])
    info = registry.get("t")
    assert info is not None
    assert info.configs == {"segment.bytes": "4096", "retention.bytes": "10"}
    log = registry.logs.get_log("t", 0)
    assert log is not None
    assert (log.config.retention_bytes, log.config.retention_ms) == (10, 7 * 86_400_000)
    registry.set_configs("t", {"cleanup.policy": "compact"})
    assert registry.get("t").configs == {"cleanup.policy": "compact"}  # type: ignore[union-attr]
    assert log.config.compact
    with pytest.raises(TopicError) as bad:
        registry.alter_configs("t", {"cleanup.policy": "shred"})
    assert bad.value.error_code == INVALID_CONFIG
    assert registry.get("t").configs == {"cleanup.policy": "compact"}  # type: ignore[union-attr]


def test_cluster_id_is_created_once(tmp_path: Path) -> None:
    first = load_cluster_id(tmp_path, 1)
    assert len(first) == 22
    assert load_cluster_id(tmp_path, 1) == first
    assert "node.id=1" in (tmp_path / "meta.properties").read_text()
