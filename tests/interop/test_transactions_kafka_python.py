"""kafka-python 3.x transactions against a Tidal broker.

kafka-python negotiates InitProducerId up to v4 and AddPartitionsToTxn,
AddOffsetsToTxn, EndTxn and TxnOffsetCommit up to v3 (flexible), unlike
librdkafka's v0 of most of them; its consumer filters aborted records
itself from Fetch's aborted-transactions list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

kafka = pytest.importorskip(
    "kafka", reason="kafka-python is not installed: pip install 'kafka-python>=3'"
)

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.errors import KafkaError  # noqa: E402

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread  # noqa: E402

PARTITIONS = 2


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBrokerThread]:
    data_dir: Path = tmp_path_factory.mktemp("txn-kafka-python")
    config = {"num.partitions": PARTITIONS, "group.initial.rebalance.delay.ms": 0}
    with EmbeddedBroker.sync(data_dir, config) as running:
        yield running


def producer_for(bootstrap: str, transactional_id: str) -> KafkaProducer:
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    producer.init_transactions()
    return producer


def read_all(bootstrap: str, topic: str, isolation: str) -> list[bytes]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level=isolation,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        ends = consumer.end_offsets(partitions)
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                values.extend(r.value for r in records)
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
    finally:
        consumer.close()
    return values


def test_commit_and_abort(broker: EmbeddedBrokerThread) -> None:
    bootstrap, topic = broker.bootstrap_servers, "kp-txn"
    producer = producer_for(bootstrap, "kp-app")
    try:
        producer.begin_transaction()
        for i in range(40):
            producer.send(topic, key=b"k%d" % i, value=b"committed-%d" % i)
        producer.commit_transaction()
        producer.begin_transaction()
        for i in range(25):
            producer.send(topic, key=b"k%d" % i, value=b"aborted-%d" % i)
        producer.flush()
        producer.abort_transaction()
    finally:
        producer.close()
    committed = read_all(bootstrap, topic, "read_committed")
    assert sorted(committed) == sorted(b"committed-%d" % i for i in range(40))
    uncommitted = read_all(bootstrap, topic, "read_uncommitted")
    assert len(uncommitted) == 65


def test_send_offsets_and_fencing(broker: EmbeddedBrokerThread) -> None:
    bootstrap, source = broker.bootstrap_servers, "kp-source"
    feeder = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(10):
        feeder.send(source, key=b"k%d" % i, value=b"in-%d" % i)
    feeder.flush()
    feeder.close()

    producer = producer_for(bootstrap, "kp-ctp")
    producer.begin_transaction()
    producer.send("kp-sink", value=b"out")
    offsets = {TopicPartition(source, p): kafka.OffsetAndMetadata(5, "", -1) for p in range(2)}
    producer.send_offsets_to_transaction(offsets, "kp-group")
    producer.commit_transaction()

    check = KafkaConsumer(bootstrap_servers=bootstrap, group_id="kp-group")
    try:
        assert check.committed(TopicPartition(source, 0)) == 5
        assert check.committed(TopicPartition(source, 1)) == 5
    finally:
        check.close()

    successor = producer_for(bootstrap, "kp-ctp")
    try:
        producer.begin_transaction()
        producer.send("kp-sink", value=b"zombie")
        with pytest.raises(KafkaError) as raised:
            producer.commit_transaction()
        assert "ProducerFencedError" in str(raised.value)  # AddPartitionsToTxn answered 90
    finally:
        producer.close(timeout=5)
        successor.close()
