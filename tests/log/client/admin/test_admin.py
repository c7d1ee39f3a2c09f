"""The admin client against the embedded broker: each operation and its errors."""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import OffsetAndMetadata, TopicPartition
from tidal.log.client.admin import (
    AdminClient,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
    SyncAdminClient,
)
from tidal.log.client.producer import Producer
from tidal.log.protocol.errors import (
    GroupIdNotFoundError,
    InvalidPartitionsError,
    KafkaError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 1}) as b:
        yield b


@pytest.fixture
async def admin(broker: EmbeddedBroker) -> AsyncIterator[AdminClient]:
    async with AdminClient(bootstrap_servers=broker.bootstrap_servers) as a:
        yield a


async def test_topics_lifecycle(admin: AdminClient) -> None:
    await admin.create_topics([NewTopic("t1", 3, 1, {"retention.ms": "1000"}), NewTopic("t2")])
    assert {"t1", "t2"} <= set(await admin.list_topics())
    desc = (await admin.describe_topics(["t1"]))["t1"]
    assert [p.partition for p in desc.partitions] == [0, 1, 2]
    assert all(p.leader >= 0 for p in desc.partitions)
    with pytest.raises(TopicAlreadyExistsError, match="topic 't1'"):
        await admin.create_topics([NewTopic("t1", 1)])
    await admin.create_partitions([NewPartitions("t1", 5)])
    assert len((await admin.describe_topics(["t1"]))["t1"].partitions) == 5
    with pytest.raises(InvalidPartitionsError, match="topic 't1'"):
        await admin.create_partitions([NewPartitions("t1", 2)])
    await admin.delete_topics(["t2"])
    with pytest.raises(UnknownTopicOrPartitionError, match="topic 't2'"):
        await admin.describe_topics(["t2"])
    with pytest.raises(UnknownTopicOrPartitionError, match="topic 'never'"):
        await admin.delete_topics(["never"])


async def test_configs(admin: AdminClient) -> None:
    await admin.create_topics([NewTopic("c", 1, 1, {"retention.ms": "1000"})])
    topic = ConfigResource(ResourceType.TOPIC, "c")
    entries = (await admin.describe_configs([topic]))[topic]
    assert entries["retention.ms"].value == "1000"
    assert entries["retention.ms"].source is ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert entries["cleanup.policy"].is_default
    await admin.incremental_alter_configs({topic: {"segment.ms": ("set", "60000")}})
    entries = (await admin.describe_configs([topic]))[topic]
    assert (entries["segment.ms"].value, entries["retention.ms"].value) == ("60000", "1000")
    await admin.alter_configs({topic: {"cleanup.policy": "compact"}})
    entries = (await admin.describe_configs([topic]))[topic]
    assert entries["cleanup.policy"].value == "compact"
    assert entries["retention.ms"].source is not ConfigSource.DYNAMIC_TOPIC_CONFIG
    with pytest.raises(KafkaError, match=r"^topic 'nope'"):
        await admin.describe_configs([ConfigResource(ResourceType.TOPIC, "nope")])


async def test_config_errors_name_the_topic(admin: AdminClient) -> None:
    await admin.create_topics([NewTopic("named", 1, 1)])
    topic = ConfigResource(ResourceType.TOPIC, "named")
    with pytest.raises(KafkaError, match=r"^topic 'named': .*retention.ms"):
        await admin.incremental_alter_configs({topic: {"retention.ms": ("set", "soon")}})
    with pytest.raises(KafkaError, match=r"^topic 'named': .*retention.ms"):
        await admin.alter_configs({topic: {"retention.ms": "soon"}})
    missing = ConfigResource(ResourceType.TOPIC, "missing")
    with pytest.raises(UnknownTopicOrPartitionError, match=r"^topic 'missing'"):
        await admin.incremental_alter_configs({missing: {"retention.ms": ("set", "1")}})


async def test_offsets_and_records(admin: AdminClient, broker: EmbeddedBroker) -> None:
    await admin.create_topics([NewTopic("o", 1, 1)])
    async with Producer(bootstrap_servers=broker.bootstrap_servers) as p:
        for i in range(10):
            await p.send("o", b"v", timestamp_ms=1_000_000 + i * 10)
        await p.flush()
    tp = TopicPartition("o", 0)
    assert (await admin.list_offsets({tp: OffsetSpec.EARLIEST}))[tp].offset == 0
    assert (await admin.list_offsets({tp: OffsetSpec.LATEST}))[tp].offset == 10
    assert (await admin.list_offsets({tp: 1_000_045}))[tp].offset == 5
    assert (await admin.delete_records({tp: 4}))[tp] == 4
    assert (await admin.list_offsets({tp: OffsetSpec.EARLIEST}))[tp].offset == 4
    with pytest.raises(UnknownTopicOrPartitionError, match="o-7"):
        await admin.list_offsets({TopicPartition("o", 7): OffsetSpec.LATEST})


async def test_groups_and_group_offsets(admin: AdminClient) -> None:
    await admin.create_topics([NewTopic("g", 2, 1)])
    tp0, tp1 = TopicPartition("g", 0), TopicPartition("g", 1)
    await admin.alter_group_offsets("grp", {tp0: 5, tp1: OffsetAndMetadata(7, "meta")})
    assert await admin.list_group_offsets("grp") == {
        tp0: OffsetAndMetadata(5),
        tp1: OffsetAndMetadata(7, "meta"),
    }
    assert "grp" in [g.group_id for g in await admin.list_groups()]
    desc = (await admin.describe_groups(["grp"]))["grp"]
    assert (desc.state, desc.members) == ("Empty", [])
    await admin.delete_group_offsets("grp", [tp0])
    assert list(await admin.list_group_offsets("grp")) == [tp1]
    await admin.delete_groups(["grp"])
    assert "grp" not in [g.group_id for g in await admin.list_groups()]
    with pytest.raises(GroupIdNotFoundError, match="group 'grp'"):
        await admin.delete_groups(["grp"])


async def test_describe_cluster_and_sync_wrapper(broker: EmbeddedBroker) -> None:
    def run() -> tuple[object, list[str]]:
        with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
            admin.create_topics([NewTopic("s", 1, 1)])
            return admin.describe_cluster(), admin.list_topics()

    cluster, topics = await asyncio.to_thread(run)
    assert "s" in topics
    assert cluster.cluster_id  # type: ignore[attr-defined]
    assert cluster.nodes[0].port == broker.port  # type: ignore[attr-defined]


def _public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_sync_admin_client_mirrors_every_method_with_its_signature() -> None:
    """Each AdminClient coroutine has a real SyncAdminClient method (no
    ``__getattr__`` passthrough) with the same parameters and result type,
    so mypy --strict checks calls made through the wrapper."""
    assert "__getattr__" not in vars(SyncAdminClient)
    ours = _public_methods(SyncAdminClient)
    for name, method in _public_methods(AdminClient).items():
        if name in ("start", "close"):
            continue
        assert inspect.iscoroutinefunction(method), name
        assert name in ours, f"SyncAdminClient.{name} is missing"
        wrapped = ours[name]
        assert inspect.signature(wrapped) == inspect.signature(method), name
        assert typing.get_type_hints(wrapped) == typing.get_type_hints(method), name
