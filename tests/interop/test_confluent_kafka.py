"""confluent-kafka (librdkafka) produces to and consumes from a Tidal broker.

Keyed records with headers in every codec, through the idempotent producer,
read back with ``assign`` byte for byte at the offsets the delivery reports
named; then watermarks, offsets by time and librdkafka's own ListOffsets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
COUNT = 300


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBrokerThread]:
    data_dir: Path = tmp_path_factory.mktemp("confluent")
    with EmbeddedBroker.sync(data_dir, {"num.partitions": 3}) as running:
        yield running


def produce(bootstrap: str, topic: str, codec: str, count: int = COUNT) -> list[Any]:
    """Produce ``count`` keyed records with headers; the delivered messages."""
    delivered: list[Any] = []
    errors: list[Any] = []

    def on_delivery(err: Any, msg: Any) -> None:
        (errors if err else delivered).append(err or msg)

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "compression.type": codec,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "partitioner": "murmur2_random",
        }
    )
    for i in range(count):
        producer.produce(
            topic,
            key=f"key-{i % 17}".encode(),
            value=f"value-{i}-".encode() * (1 + i % 5),
            headers=[("seq", str(i).encode()), ("codec", codec.encode())],
            on_delivery=on_delivery,
        )
    assert producer.flush(30) == 0
    assert errors == []
    return delivered


def consume(bootstrap: str, partitions: list[TopicPartition], count: int) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "assign-only",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    consumer.assign(partitions)
    got: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            got.append(msg)
    finally:
        consumer.close()
    return got


def record(msg: Any) -> tuple[Any, ...]:
    return (msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value())


@pytest.mark.parametrize("codec", CODECS)
def test_keyed_records_with_headers_round_trip(broker: EmbeddedBrokerThread, codec: str) -> None:
    topic = f"orders-{codec}"
    delivered = produce(broker.bootstrap_servers, topic, codec)
    assert len(delivered) == COUNT
    partitions = [TopicPartition(topic, p, 0) for p in range(3)]
    got = consume(broker.bootstrap_servers, partitions, COUNT)
    assert sorted(map(record, got)) == sorted(map(record, delivered))
    for msg in got:  # delivery reports carry no headers: check them against the value
        headers = dict(msg.headers())
        assert headers["codec"] == codec.encode()
        assert msg.value().startswith(b"value-" + headers["seq"] + b"-")
    seqs = sorted(int(dict(m.headers())["seq"]) for m in got)
    assert seqs == list(range(COUNT))
    per_partition = {p: [m.offset() for m in got if m.partition() == p] for p in range(3)}
    for offsets in per_partition.values():
        assert offsets == list(range(len(offsets)))


def test_watermarks_and_offsets_for_times(broker: EmbeddedBrokerThread) -> None:
    topic = "watermarks"
    before = int(time.time() * 1000) - 1
    delivered = produce(broker.bootstrap_servers, topic, "lz4", count=50)
    counts = {p: sum(1 for m in delivered if m.partition() == p) for p in range(3)}
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "wm"})
    try:
        for p in range(3):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            assert (low, high) == (0, counts[p])
        wanted = [TopicPartition(topic, p, before) for p in range(3)]
        found = consumer.offsets_for_times(wanted, timeout=10)
        assert [tp.offset for tp in found] == [0 if counts[p] else -1 for p in range(3)]
        future = [TopicPartition(topic, p, before + 3_600_000) for p in range(3)]
        assert [tp.offset for tp in consumer.offsets_for_times(future, timeout=10)] == [-1] * 3
    finally:
        consumer.close()


def test_unknown_partition_is_reported(broker: EmbeddedBrokerThread) -> None:
    produce(broker.bootstrap_servers, "two-known", "none", count=3)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "unknown"})
    try:
        with pytest.raises(ck.KafkaException) as info:
            consumer.get_watermark_offsets(TopicPartition("two-known", 7), timeout=5)
        assert info.value.args[0].code() in (
            KafkaError.UNKNOWN_TOPIC_OR_PART,
            KafkaError._UNKNOWN_PARTITION,
        )
    finally:
        consumer.close()
