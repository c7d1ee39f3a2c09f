"""Tidal's consumer in a group on a real Apache Kafka broker (JVM), reading what
confluent-kafka (librdkafka) produced: commits, then a new member resumes
from them; the synchronous wrapper does the same."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, SyncConsumer, TopicPartition

pytestmark = pytest.mark.kafka

PARTITIONS = 3
PER_PARTITION = 200


def _produce_with_confluent(bootstrap: str, topic: str) -> set[tuple[int, bytes]]:
    ck = pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")
    producer = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    written = set()
    for p in range(PARTITIONS):
        for i in range(PER_PARTITION):
            value = b"%d-%d" % (p, i)
            producer.produce(topic, value, key=b"k%d" % i, partition=p, headers=[("i", b"%d" % i)])
            written.add((p, value))
    assert producer.flush(30) == 0
    return written


async def _new_topic(bootstrap: str) -> str:
    topic = f"tidal-consume-{uuid.uuid4().hex[:8]}"
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    return topic


def _settings(bootstrap: str, group: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 500,
        "fetch_max_wait_ms": 100,
    }


async def test_group_consumes_commits_and_resumes(kafka_jvm: Any) -> None:
    bootstrap = kafka_jvm.bootstrap_servers
    topic = await _new_topic(bootstrap)
    written = await asyncio.to_thread(_produce_with_confluent, bootstrap, topic)
    group = f"g-{uuid.uuid4().hex[:8]}"
    first: list[tuple[int, bytes]] = []
    async with Consumer(**_settings(bootstrap, group)) as consumer:
        consumer.subscribe([topic])
        async with asyncio.timeout(60):
            while len(first) < 300:
                batch = await consumer.getmany(timeout_ms=500, max_records=50)
                for tp, records in batch.items():
                    first.extend((tp.partition, r.value) for r in records)
                    assert records[0].key is not None
                    assert records[0].headers[0][0] == "i"
                    await consumer.commit({tp: records[-1].offset + 1})
        assert consumer.assignment() == {TopicPartition(topic, p) for p in range(PARTITIONS)}
        # what was committed is exactly what was consumed, per partition
        committed = await consumer.committed(consumer.assignment())
        counts = {p: sum(1 for q, _ in first if q == p) for p in range(PARTITIONS)}
        assert {tp.partition: om.offset for tp, om in committed.items() if om} == {
            p: n for p, n in counts.items() if n
        }

    second: list[tuple[int, bytes]] = []
    async with Consumer(**_settings(bootstrap, group)) as consumer:
        consumer.subscribe([topic])
        async with asyncio.timeout(60):
            while len(first) + len(second) < len(written):
                batch = await consumer.getmany(timeout_ms=500)
                second.extend((tp.partition, r.value) for tp, rs in batch.items() for r in rs)
        await consumer.commit()
        ends = await consumer.end_offsets(consumer.assignment())
        assert set(ends.values()) == {PER_PARTITION}

    assert len(first) + len(second) == len(written)  # nothing read twice
    assert set(first) | set(second) == written


async def test_sync_consumer_resumes_from_committed_offsets(kafka_jvm: Any) -> None:
    bootstrap = kafka_jvm.bootstrap_servers
    topic = await _new_topic(bootstrap)
    written = await asyncio.to_thread(_produce_with_confluent, bootstrap, topic)
    group = f"g-{uuid.uuid4().hex[:8]}"

    def run(stop_after: int) -> list[tuple[int, bytes]]:
        got: list[tuple[int, bytes]] = []
        with SyncConsumer(**_settings(bootstrap, group)) as consumer:
            consumer.subscribe([topic])
            for record in consumer:
                got.append((record.partition, record.value))
                if len(got) >= stop_after:
                    break
            consumer.commit({TopicPartition(topic, p): o for p, o in _next(got).items()})
        return got

    def _next(got: list[tuple[int, bytes]]) -> dict[int, int]:
        # values are "p-i": the next offset of partition p is the highest i + 1
        out: dict[int, int] = {}
        for p, value in got:
            out[p] = max(out.get(p, 0), int(value.split(b"-")[1]) + 1)
        return out

    first = await asyncio.to_thread(run, 250)
    second = await asyncio.to_thread(run, len(written) - len(first))
    assert len(first) + len(second) == len(written)
    assert set(first) | set(second) == written
