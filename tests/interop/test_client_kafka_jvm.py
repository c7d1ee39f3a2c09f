"""Tidal's producer and admin client against a real Apache Kafka broker (JVM)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from tidal.log.client.admin import AdminClient, ConfigResource, NewTopic, ResourceType
from tidal.log.client.producer import Producer
from tidal.log.protocol.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

pytestmark = pytest.mark.kafka

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def _read_back(bootstrap: str, topic: str, count: int) -> list[Any]:
    from confluent_kafka import Consumer, TopicPartition  # noqa: PLC0415 - optional peer

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "oracle", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None:
                assert msg.error() is None, msg.error()
                got.append(msg)
    finally:
        consumer.close()
    return got


@pytest.mark.parametrize("codec", CODECS)
async def test_idempotent_produce_every_codec(kafka_jvm: Any, codec: str) -> None:
    pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")
    topic = f"tidal-{codec}-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_jvm.bootstrap_servers
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    async with Producer(bootstrap_servers=bootstrap, compression_type=codec) as producer:
        assert producer.config.idempotent
        futs = [
            await producer.send(topic, f"v{i}" * 10, key=f"k{i}", headers=[("h", b"x")])
            for i in range(100)
        ]
        await producer.flush()
        assert [(await f).offset for f in futs] == list(range(100))
    got = await asyncio.to_thread(_read_back, bootstrap, topic, 100)
    assert [m.value() for m in got] == [f"v{i}".encode() * 10 for i in range(100)]
    assert got[0].headers() == [("h", b"x")]


async def test_admin_topics_and_configs(kafka_jvm: Any) -> None:
    topic = f"tidal-admin-{uuid.uuid4().hex[:8]}"
    async with AdminClient(bootstrap_servers=kafka_jvm.bootstrap_servers) as admin:
        await admin.create_topics([NewTopic(topic, 3, 1, {"retention.ms": "12345"})])
        with pytest.raises(TopicAlreadyExistsError, match=topic):
            await admin.create_topics([NewTopic(topic, 1, 1)])
        desc = (await admin.describe_topics([topic]))[topic]
        assert len(desc.partitions) == 3
        resource = ConfigResource(ResourceType.TOPIC, topic)
        assert (await admin.describe_configs([resource]))[resource]["retention.ms"].value == "12345"
        await admin.incremental_alter_configs({resource: {"retention.ms": ("set", "54321")}})
        # Kafka answers the alter once its controller committed the change; the
        # broker applies it from the metadata log a moment later.
        async with asyncio.timeout(15):
            while True:
                entries = (await admin.describe_configs([resource]))[resource]
                if entries["retention.ms"].value == "54321":
                    break
                await asyncio.sleep(0.1)
        cluster = await admin.describe_cluster()
        assert cluster.cluster_id
        assert cluster.nodes
        await admin.delete_topics([topic])
        with pytest.raises(UnknownTopicOrPartitionError, match=topic):
            await admin.delete_topics([topic])
