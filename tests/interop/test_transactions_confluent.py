"""confluent-kafka (librdkafka) transactions against a Tidal broker.

librdkafka's transactional producer drives the whole V1 protocol: FindCoordinator
(key type 1), InitProducerId with a transactional id, AddPartitionsToTxn v0,
AddOffsetsToTxn, TxnOffsetCommit, EndTxn; its consumer reads with
``isolation.level`` read_committed (its default) or read_uncommitted, which
exercises the last stable offset and the aborted-transactions list of Fetch.
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

from confluent_kafka import (  # noqa: E402
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread  # noqa: E402

PARTITIONS = 3


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBrokerThread]:
    data_dir: Path = tmp_path_factory.mktemp("txn-confluent")
    config = {"num.partitions": PARTITIONS, "group.initial.rebalance.delay.ms": 0}
    with EmbeddedBroker.sync(data_dir, config) as running:
        yield running


def txn_producer(bootstrap: str, transactional_id: str, **extra: Any) -> Producer:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": transactional_id,
            "linger.ms": 5,
            **extra,
        }
    )
    producer.init_transactions(30)
    return producer


def read_all(bootstrap: str, topic: str, isolation: str, group: str | None = None) -> list[bytes]:
    """Every record of ``topic`` a consumer with ``isolation`` sees, up to the end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"reader-{topic}-{isolation}",
            "isolation.level": isolation,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    values: list[bytes] = []
    at_end: set[int] = set()
    deadline = time.monotonic() + 30
    try:
        while len(at_end) < PARTITIONS and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                at_end.add(message.partition())
                continue
            values.append(message.value())
    finally:
        consumer.close()
    assert len(at_end) == PARTITIONS, "did not reach the end of every partition"
    return values


def send(producer: Producer, topic: str, prefix: str, count: int) -> None:
    for i in range(count):
        producer.produce(topic, key=f"k{i}".encode(), value=f"{prefix}-{i}".encode())


def test_commit_and_abort_seen_by_isolation_level(broker: EmbeddedBrokerThread) -> None:
    bootstrap, topic = broker.bootstrap_servers, "txn-commit-abort"
    producer = txn_producer(bootstrap, "commit-abort")
    producer.begin_transaction()
    send(producer, topic, "committed", 50)
    producer.commit_transaction(30)
    producer.begin_transaction()
    send(producer, topic, "aborted", 30)
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    send(producer, topic, "again", 20)
    producer.commit_transaction(30)

    committed = read_all(bootstrap, topic, "read_committed")
    uncommitted = read_all(bootstrap, topic, "read_uncommitted")
    assert sorted(committed) == sorted(
        [f"committed-{i}".encode() for i in range(50)] + [f"again-{i}".encode() for i in range(20)]
    )
    assert len(uncommitted) == 100
    assert sum(v.startswith(b"aborted-") for v in uncommitted) == 30


def test_open_transaction_holds_read_committed_back(broker: EmbeddedBrokerThread) -> None:
    bootstrap, topic = broker.bootstrap_servers, "txn-open"
    producer = txn_producer(bootstrap, "open-txn")
    producer.begin_transaction()
    send(producer, topic, "open", 10)
    producer.flush(30)
    # The last stable offset stays at the open transaction's first offset.
    assert read_all(bootstrap, topic, "read_committed") == []
    assert len(read_all(bootstrap, topic, "read_uncommitted")) == 10
    # ListOffsets(latest) answers the last stable offset to read_committed
    # consumers, the high watermark to the others.
    assert _latest(bootstrap, topic, "read_committed") == [0] * PARTITIONS
    assert sum(_latest(bootstrap, topic, "read_uncommitted")) == 10
    producer.commit_transaction(30)
    assert len(read_all(bootstrap, topic, "read_committed")) == 10
    assert sum(_latest(bootstrap, topic, "read_committed")) == 10 + PARTITIONS  # + markers


def _latest(bootstrap: str, topic: str, isolation: str) -> list[int]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "latest", "isolation.level": isolation}
    )
    try:
        return [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        ]
    finally:
        consumer.close()


def test_zombie_is_fenced_by_a_new_instance(broker: EmbeddedBrokerThread) -> None:
    bootstrap, topic = broker.bootstrap_servers, "txn-zombie"
    zombie = txn_producer(bootstrap, "zombie-app")
    zombie.begin_transaction()
    send(zombie, topic, "zombie", 10)
    zombie.flush(30)

    successor = txn_producer(bootstrap, "zombie-app")  # aborts the zombie's transaction
    successor.begin_transaction()
    send(successor, topic, "successor", 5)
    successor.commit_transaction(30)

    send(zombie, topic, "late", 1)
    with pytest.raises(KafkaException) as raised:
        zombie.commit_transaction(10)
    error = raised.value.args[0]
    assert error.fatal(), error
    assert error.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED), error

    committed = read_all(bootstrap, topic, "read_committed")
    assert sorted(committed) == sorted(f"successor-{i}".encode() for i in range(5))


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], 10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found}


def _consume_transform_produce(
    bootstrap: str, source: str, sink: str, group: str, *, commit: bool
) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    producer = txn_producer(bootstrap, f"ctp-{group}")
    consumer.subscribe([source])
    producer.begin_transaction()
    seen = 0
    deadline = time.monotonic() + 30
    try:
        while seen < 30 and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            producer.produce(sink, key=message.key(), value=message.value().upper())
            seen += 1
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
        )
        producer.flush(30)  # an abort would purge what is still queued
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    finally:
        consumer.close()
    return seen


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "abort"])
def test_consume_transform_produce(broker: EmbeddedBrokerThread, commit: bool) -> None:
    bootstrap = broker.bootstrap_servers
    source, sink = f"ctp-in-{commit}", f"ctp-out-{commit}"
    group = f"ctp-group-{commit}"
    feeder = Producer({"bootstrap.servers": bootstrap})
    send(feeder, source, "input", 30)
    assert feeder.flush(30) == 0

    assert _consume_transform_produce(bootstrap, source, sink, group, commit=commit) == 30
    offsets = _committed(bootstrap, group, source)
    output = read_all(bootstrap, sink, "read_committed")
    if commit:
        assert sum(offsets.values()) == 30
        assert sorted(output) == sorted(f"INPUT-{i}".encode() for i in range(30))
    else:
        assert all(o < 0 for o in offsets.values()), offsets  # nothing committed
        assert output == []
        assert len(read_all(bootstrap, sink, "read_uncommitted")) == 30
