"""confluent-kafka's AdminClient (librdkafka) against a Tidal broker.

Topics (create, validate-only, describe, grow, delete), configs (describe,
alter, incremental alter), consumer groups (list, describe, offsets, delete),
list offsets, delete records and describe cluster: every answer is read by
librdkafka's own decoders, which is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import (  # noqa: E402
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (  # noqa: E402
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

TIMEOUT = 10


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "group.initial.rebalance.delay.ms": "0",
        "num.partitions": "1",
        # Metadata for a missing topic must not create it (validate-only, deletes).
        "auto.create.topics.enable": "false",
    }
    with EmbeddedBroker.sync(tmp_path_factory.mktemp("admin"), config) as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="module")
def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})


def wait_all(futures: dict[Any, Any]) -> dict[Any, Any]:
    return {key: future.result(timeout=TIMEOUT) for key, future in futures.items()}


def error_of(future: Any) -> KafkaError:
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=TIMEOUT)
    error: KafkaError = raised.value.args[0]
    return error


def produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})
    for partition, count in per_partition.items():
        for i in range(count):
            producer.produce(topic, value=b"%d" % i, partition=partition)
    assert producer.flush(TIMEOUT) == 0


def test_create_describe_grow_and_delete_topics(admin: AdminClient) -> None:
    created = admin.create_topics(
        [
            NewTopic("adm-orders", num_partitions=3, replication_factor=1,
                     config={"retention.ms": "3600000"}),
            NewTopic("adm-default"),
        ],
        operation_timeout=TIMEOUT,
    )  # fmt: skip
    assert wait_all(created) == {"adm-orders": None, "adm-default": None}

    again = admin.create_topics([NewTopic("adm-orders", 3, 1)])
    assert error_of(again["adm-orders"]).code() == KafkaError.TOPIC_ALREADY_EXISTS
    bad = admin.create_topics([NewTopic("adm-rf", 1, 3)])
    assert error_of(bad["adm-rf"]).code() == KafkaError.INVALID_REPLICATION_FACTOR
    dry = admin.create_topics([NewTopic("adm-dry", 2, 1)], validate_only=True)
    wait_all(dry)

    def partitions(topic: str) -> int:
        metadata = admin.list_topics(topic, timeout=TIMEOUT).topics[topic]
        return -1 if metadata.error is not None else len(metadata.partitions)

    assert (partitions("adm-orders"), partitions("adm-default")) == (3, 1)
    assert partitions("adm-dry") == -1

    wait_all(admin.create_partitions([NewPartitions("adm-orders", 5)]))
    shrink = admin.create_partitions([NewPartitions("adm-orders", 2)])
    assert error_of(shrink["adm-orders"]).code() == KafkaError.INVALID_PARTITIONS
    assert partitions("adm-orders") == 5

    wait_all(admin.delete_topics(["adm-orders", "adm-default"], operation_timeout=TIMEOUT))
    missing = admin.delete_topics(["adm-orders"])
    assert error_of(missing["adm-orders"]).code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert partitions("adm-orders") == -1


def test_describe_alter_and_incrementally_alter_configs(admin: AdminClient) -> None:
    wait_all(admin.create_topics([NewTopic("adm-conf", 1, 1, config={"retention.ms": "1000"})]))
    topic = ConfigResource(ResourceType.TOPIC, "adm-conf")
    [configs] = wait_all(admin.describe_configs([topic])).values()
    assert configs["retention.ms"].value == "1000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["cleanup.policy"].value == "delete"
    assert configs["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["cleanup.policy"].is_default

    broker = ConfigResource(ResourceType.BROKER, "1")
    [broker_configs] = wait_all(admin.describe_configs([broker])).values()
    assert broker_configs["group.initial.rebalance.delay.ms"].value == "0"
    assert broker_configs["num.partitions"].is_read_only

    missing = admin.describe_configs([ConfigResource(ResourceType.TOPIC, "adm-none")])
    assert error_of(missing[ConfigResource(ResourceType.TOPIC, "adm-none")]).code() == (
        KafkaError.UNKNOWN_TOPIC_OR_PART
    )

    # AlterConfigs replaces the whole set: retention.ms goes back to its default.
    altered = ConfigResource(ResourceType.TOPIC, "adm-conf", set_config={"segment.ms": "60000"})
    with pytest.warns(DeprecationWarning, match="incremental_alter_configs"):
        futures = admin.alter_configs([altered])
    wait_all(futures)
    [configs] = wait_all(admin.describe_configs([topic])).values()
    assert configs["segment.ms"].value == "60000"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    incremental = ConfigResource(
        ResourceType.TOPIC,
        "adm-conf",
        incremental_configs=[
            ConfigEntry("cleanup.policy", "compact",
                        incremental_operation=AlterConfigOpType.APPEND),
            ConfigEntry("retention.ms", "5000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("segment.ms", None, incremental_operation=AlterConfigOpType.DELETE),
        ],
    )  # fmt: skip
    wait_all(admin.incremental_alter_configs([incremental]))
    [configs] = wait_all(admin.describe_configs([topic])).values()
    assert sorted(configs["cleanup.policy"].value.split(",")) == ["compact", "delete"]
    assert configs["retention.ms"].value == "5000"
    assert configs["segment.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    invalid = ConfigResource(
        ResourceType.TOPIC,
        "adm-conf",
        incremental_configs=[
            ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    [future] = admin.incremental_alter_configs([invalid]).values()
    assert error_of(future).code() == KafkaError.INVALID_CONFIG


def test_list_offsets_and_delete_records(admin: AdminClient, bootstrap: str) -> None:
    wait_all(admin.create_topics([NewTopic("adm-records", 2, 1)]))
    produce(bootstrap, "adm-records", {0: 10, 1: 4})
    p0, p1 = TopicPartition("adm-records", 0), TopicPartition("adm-records", 1)
    latest = wait_all(admin.list_offsets({p0: OffsetSpec.latest(), p1: OffsetSpec.latest()}))
    assert sorted((tp.partition, r.offset) for tp, r in latest.items()) == [(0, 10), (1, 4)]

    deleted = wait_all(
        admin.delete_records(
            [TopicPartition("adm-records", 0, 6), TopicPartition("adm-records", 1, -1)]
        )
    )
    assert sorted((tp.partition, d.low_watermark) for tp, d in deleted.items()) == [(0, 6), (1, 4)]
    earliest = wait_all(admin.list_offsets({p0: OffsetSpec.earliest()}))
    assert [r.offset for r in earliest.values()] == [6]
    beyond = admin.delete_records([TopicPartition("adm-records", 0, 99)])
    assert error_of(next(iter(beyond.values()))).code() == KafkaError.OFFSET_OUT_OF_RANGE


def test_consumer_groups(admin: AdminClient, bootstrap: str) -> None:
    wait_all(admin.create_topics([NewTopic("adm-groups", 2, 1)]))
    produce(bootstrap, "adm-groups", {0: 3, 1: 3})
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "broker.address.family": "v4",
            "group.id": "adm-group",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(["adm-groups"])
    seen = 0
    for _ in range(100):
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            seen += 1
            consumer.commit(message, asynchronous=False)
        if seen == 6:
            break
    assert seen == 6

    listed = admin.list_consumer_groups().result(timeout=TIMEOUT)
    assert "adm-group" in {g.group_id for g in listed.valid}
    [description] = wait_all(admin.describe_consumer_groups(["adm-group"])).values()
    assert description.state.name == "STABLE"
    assert description.partition_assignor == "range"
    [member] = description.members
    assert sorted(tp.partition for tp in member.assignment.topic_partitions) == [0, 1]

    request = [ConsumerGroupTopicPartitions("adm-group")]
    [offsets] = wait_all(admin.list_consumer_group_offsets(request)).values()
    assert sorted((tp.partition, tp.offset) for tp in offsets.topic_partitions) == [(0, 3), (1, 3)]

    busy = admin.delete_consumer_groups(["adm-group"])
    assert error_of(busy["adm-group"]).code() == KafkaError.NON_EMPTY_GROUP
    consumer.close()

    rewind = ConsumerGroupTopicPartitions("adm-group", [TopicPartition("adm-groups", 0, 1)])
    wait_all(admin.alter_consumer_group_offsets([rewind]))
    [offsets] = wait_all(admin.list_consumer_group_offsets(request)).values()
    assert sorted((tp.partition, tp.offset) for tp in offsets.topic_partitions) == [(0, 1), (1, 3)]

    wait_all(admin.delete_consumer_groups(["adm-group"]))
    listed = admin.list_consumer_groups().result(timeout=TIMEOUT)
    assert "adm-group" not in {g.group_id for g in listed.valid}


def test_describe_cluster(admin: AdminClient, bootstrap: str) -> None:
    cluster = admin.describe_cluster().result(timeout=TIMEOUT)
    assert cluster.cluster_id
    assert [node.id for node in cluster.nodes] == [cluster.controller.id]
    assert f"{cluster.nodes[0].host}:{cluster.nodes[0].port}" == bootstrap
