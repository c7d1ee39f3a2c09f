"""kafka-python and aiokafka produce to and consume from a Tidal broker
(partitions assigned by hand; groups are tested in test_python_clients_groups)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread

COUNT = 200


@pytest.fixture
def sync_broker(tmp_path: Path) -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(tmp_path / "data", {"num.partitions": 2}) as running:
        yield running


@pytest.fixture
async def async_broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(tmp_path / "data", {"num.partitions": 2}) as running:
        yield running


@pytest.mark.parametrize("compression", [None, "gzip", "lz4", "zstd", "snappy"])
@pytest.mark.parametrize("idempotent", [False, True])
def test_kafka_python_produce_and_assign(
    sync_broker: EmbeddedBrokerThread, compression: str | None, idempotent: bool
) -> None:
    kafka = pytest.importorskip(
        "kafka", reason="kafka-python is not installed: pip install kafka-python"
    )
    topic = f"kp-{compression}-{idempotent}"
    producer = kafka.KafkaProducer(
        bootstrap_servers=sync_broker.bootstrap_servers,
        compression_type=compression,
        enable_idempotence=idempotent,
        acks="all",
        linger_ms=5,
    )
    futures = [
        producer.send(topic, key=b"k%d" % (i % 7), value=b"v%d" % i, headers=[("i", b"%d" % i)])
        for i in range(COUNT)
    ]
    producer.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    producer.close(10)
    assert {m.topic for m in metas} == {topic}

    consumer = kafka.KafkaConsumer(
        bootstrap_servers=sync_broker.bootstrap_servers, enable_auto_commit=False
    )
    partitions = [kafka.TopicPartition(topic, p) for p in range(2)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    got: list[tuple[int, int, bytes, bytes, list[tuple[str, bytes]]]] = []
    deadline = time.monotonic() + 30
    while len(got) < COUNT and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend((r.partition, r.offset, r.key, r.value, list(r.headers)) for r in records)
    end_offsets = consumer.end_offsets(partitions)
    consumer.close()
    assert sorted(v for _, _, _, v, _ in got) == sorted(b"v%d" % i for i in range(COUNT))
    assert sorted((m.partition, m.offset) for m in metas) == sorted((p, o) for p, o, *_ in got)
    assert all(h == [("i", v[1:])] for _, _, _, v, h in got)
    assert sum(end_offsets.values()) == COUNT


@pytest.mark.parametrize("compression", [None, "gzip", "lz4", "zstd", "snappy"])
async def test_aiokafka_produce_and_assign(
    async_broker: EmbeddedBroker, compression: str | None
) -> None:
    aiokafka = pytest.importorskip(
        "aiokafka", reason="aiokafka is not installed: pip install aiokafka"
    )
    topic = f"aio-{compression}"
    producer = aiokafka.AIOKafkaProducer(
        bootstrap_servers=async_broker.bootstrap_servers,
        compression_type=compression,
        enable_idempotence=True,
        linger_ms=5,
    )
    await producer.start()
    try:
        sends = [
            await producer.send(topic, key=b"k%d" % (i % 5), value=b"v%d" % i,
                                headers=[("i", b"%d" % i)])
            for i in range(COUNT)
        ]  # fmt: skip
        metas = await asyncio.gather(*sends)
    finally:
        await producer.stop()
    consumer = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=async_broker.bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [aiokafka.TopicPartition(topic, p) for p in range(2)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        got = []
        async with asyncio.timeout(30):
            while len(got) < COUNT:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    got.extend(records)
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    assert sorted(r.value for r in got) == sorted(b"v%d" % i for i in range(COUNT))
    assert sorted((m.partition, m.offset) for m in metas) == sorted(
        (r.partition, r.offset) for r in got
    )
    assert all(list(r.headers) == [("i", r.value[1:])] for r in got)
    assert sum(ends.values()) == COUNT
