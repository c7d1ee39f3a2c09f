"""Transactions across a broker restart, with librdkafka producers and consumers.

The broker stops with transactions open; after it comes back on the same port
and data directory, the coordinator has reloaded ``__transaction_state``,
the partitions their producer state (with the open transactions' first
offsets), so a producer that reconnects can still commit, and a transaction
whose producer went away is aborted once its timeout passes.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

from tidal.log.broker import EmbeddedBroker  # noqa: E402

PARTITIONS = 2
CONFIG = {
    "num.partitions": PARTITIONS,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, int]:
    return tmp_path / "data", _free_port()


def read_committed(
    bootstrap: str, topic: str, *, wait_for: int, timeout: float = 30
) -> list[bytes]:
    """Poll ``topic`` read_committed until ``wait_for`` values arrived (or the timeout)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"restart-reader-{time.monotonic_ns()}",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(values) < wait_for and time.monotonic() < deadline:
            message = consumer.poll(0.3)
            if message is not None and not message.error():
                values.append(message.value())
        extra_deadline = time.monotonic() + 1  # nothing more than expected shows up
        while time.monotonic() < extra_deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                values.append(message.value())
    finally:
        consumer.close()
    return values


def produce(producer: Producer, topic: str, prefix: str, count: int) -> None:
    for i in range(count):
        producer.produce(topic, key=f"{prefix}{i}".encode(), value=f"{prefix}-{i}".encode())


def test_producer_commits_after_the_broker_restarted(place: tuple[Path, int]) -> None:
    data_dir, port = place
    bootstrap = f"127.0.0.1:{port}"
    broker = EmbeddedBroker.sync(data_dir, CONFIG, port=port)
    broker.start()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": "survivor", "linger.ms": 5}
    )
    try:
        producer.init_transactions(30)
        producer.begin_transaction()
        produce(producer, "restart-commit", "before", 20)
        producer.commit_transaction(30)
        producer.begin_transaction()
        produce(producer, "restart-commit", "during", 10)
        assert producer.flush(30) == 0
    finally:
        broker.stop()

    broker = EmbeddedBroker.sync(data_dir, CONFIG, port=port)
    broker.start()
    try:
        producer.commit_transaction(60)  # reconnects to the restarted coordinator
        values = read_committed(bootstrap, "restart-commit", wait_for=30)
        assert sorted(values) == sorted(
            [f"before-{i}".encode() for i in range(20)]
            + [f"during-{i}".encode() for i in range(10)]
        )
    finally:
        broker.stop()


def test_abandoned_transaction_is_aborted_after_restart(place: tuple[Path, int]) -> None:
    data_dir, port = place
    bootstrap = f"127.0.0.1:{port}"
    broker = EmbeddedBroker.sync(data_dir, CONFIG, port=port)
    broker.start()
    try:
        committed = Producer({"bootstrap.servers": bootstrap, "transactional.id": "steady"})
        committed.init_transactions(30)
        committed.begin_transaction()
        produce(committed, "restart-abort", "kept", 15)
        committed.commit_transaction(30)

        abandoned = Producer(
            {
                "bootstrap.servers": bootstrap,
                "transactional.id": "abandoned",
                "transaction.timeout.ms": 2000,
            }
        )
        abandoned.init_transactions(30)
        abandoned.begin_transaction()
        produce(abandoned, "restart-abort", "lost", 10)
        assert abandoned.flush(30) == 0
        # The open transaction holds read_committed readers back on its partitions.
        committed.begin_transaction()
        produce(committed, "restart-abort", "later", 5)
        committed.commit_transaction(30)
    finally:
        broker.stop()

    broker = EmbeddedBroker.sync(data_dir, CONFIG, port=port)
    broker.start()
    try:
        # After the timeout the coordinator aborts it; everything committed shows.
        values = read_committed(bootstrap, "restart-abort", wait_for=20)
        assert sorted(values) == sorted(
            [f"kept-{i}".encode() for i in range(15)] + [f"later-{i}".encode() for i in range(5)]
        )
        with pytest.raises(ck.KafkaException) as raised:
            abandoned.commit_transaction(30)
        assert raised.value.args[0].code() in (
            KafkaError._FENCED,
            KafkaError.PRODUCER_FENCED,
            KafkaError.INVALID_PRODUCER_EPOCH,
        )
    finally:
        broker.stop()
