"""The Java client (Apache Kafka 4.x tools) in transactions against a Tidal broker.

``kafka-producer-perf-test`` with ``--transactional-id`` is the Java 4.x
transactional producer (it stays on transaction protocol V1 because the
broker advertises no finalized features), ``kafka-console-consumer
--isolation-level read_committed`` the Java consumer, and
``kafka-transactions.sh`` lists and describes the transactional ids through
the Java Admin client (ListTransactions, DescribeTransactions), finds a
hanging transaction (DescribeProducers) and aborts it (WriteTxnMarkers). The tools
come from the jars ``tests/peers/kafka-jvm/fetch.sh`` resolves from Maven
Central; no Kafka broker runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread
from tidal.log.protocol import NEED_DATA, Connection, ResponseReceived, Role
from tidal.log.protocol.messages import InitProducerIdRequest, MetadataRequest, ProduceRequest
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch, iter_batches

pytestmark = pytest.mark.kafka

FETCH = Path(__file__).resolve().parents[1] / "peers" / "kafka-jvm" / "fetch.sh"
TOPIC = "jvm-txn"
RECORDS = 2000
INVALID_TXN_STATE = 48


@pytest.fixture(scope="module")
def kafka_libs() -> str:
    reason = None
    if shutil.which("java") is None or shutil.which("mvn") is None:
        reason = "needs Java 17+ and Maven for the Kafka JVM tools (apt-get install maven)"
    else:
        fetched = subprocess.run(
            [str(FETCH)], capture_output=True, text=True, timeout=600, check=False
        )
        if fetched.returncode != 0:
            reason = f"could not fetch the Kafka jars: {fetched.stderr[-500:]}"
    if reason is not None:
        if os.environ.get("TIDAL_REQUIRE_PEERS") == "1":
            pytest.fail(f"required peer unavailable: {reason}")
        pytest.skip(reason)
    return fetched.stdout.strip()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(
        tmp_path_factory.mktemp("jvm-txn"),
        {"num.partitions": 2, "group.initial.rebalance.delay.ms": 0},
    ) as b:
        yield b


def java(libs: str, main: str, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        ["java", "-cp", f"{libs}/*", main, *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout


def test_java_transactional_producer_and_read_committed_consumer(
    kafka_libs: str, broker: EmbeddedBrokerThread
) -> None:
    bootstrap = broker.bootstrap_servers
    report = java(
        kafka_libs, "org.apache.kafka.tools.ProducerPerformance",
        "--topic", TOPIC, "--num-records", str(RECORDS), "--record-size", "100",
        "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}",
        "--transactional-id", "jvm-perf", "--transaction-duration-ms", "200",
    )  # fmt: skip
    assert f"{RECORDS} records sent" in report

    consumed = java(
        kafka_libs, "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", bootstrap, "--topic", TOPIC, "--from-beginning",
        "--isolation-level", "read_committed", "--max-messages", str(RECORDS),
        "--timeout-ms", "30000",
    )  # fmt: skip
    values = consumed.splitlines()
    assert len(values) == RECORDS
    assert all(len(v) == 100 for v in values)

    listed = java(
        kafka_libs, "org.apache.kafka.tools.TransactionsCommand",
        "--bootstrap-server", bootstrap, "list",
    )  # fmt: skip
    rows = [line.split() for line in listed.splitlines()]
    assert rows[0][:4] == ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"]
    assert [r[0] for r in rows[1:]] == ["jvm-perf"]
    assert rows[1][3] == "CompleteCommit"

    described = java(
        kafka_libs, "org.apache.kafka.tools.TransactionsCommand",
        "--bootstrap-server", bootstrap, "describe", "--transactional-id", "jvm-perf",
    )  # fmt: skip
    header, row = (line.split() for line in described.splitlines()[:2])
    assert dict(zip(header, row, strict=False))["TransactionState"] == "CompleteCommit"


def _produce_without_adding(broker: EmbeddedBrokerThread, topic: str) -> tuple[int, int]:
    """A hanging transaction: a transactional producer's batch for a partition
    never added to its transaction. The broker refuses it over the wire
    (transaction verification, KIP-890), so it is appended straight to the
    leader's log, as a broker before Kafka 3.6 accepted it. The producer id
    and epoch."""
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    conn = Connection(Role.CLIENT, client_id="hanging-producer")
    with socket.create_connection((host, int(port)), timeout=10) as sock:

        def call(request: Any, version: int) -> Any:
            sock.sendall(conn.send_request(request, version))
            while True:
                event = conn.next_event()
                if isinstance(event, ResponseReceived):
                    return event.response
                assert event is NEED_DATA, event
                conn.receive_data(sock.recv(65536))

        call(MetadataRequest(topics=[MetadataRequestTopic(name=topic)]), 9)
        init = call(
            InitProducerIdRequest(transactional_id="hanging", transaction_timeout_ms=60_000), 4
        )
        batch = encode_batch(
            [SimpleRecord(b"stuck", timestamp=int(time.time() * 1000))],
            producer_id=init.producer_id, producer_epoch=init.producer_epoch,
            base_sequence=0, is_transactional=True,
        )  # fmt: skip
        produced = call(
            ProduceRequest(
                transactional_id="hanging", acks=-1, timeout_ms=5000,
                topic_data=[
                    TopicProduceData(
                        name=topic, partition_data=[PartitionProduceData(index=0, records=batch)]
                    )
                ],
            ),
            9,
        )  # fmt: skip
        assert produced.responses[0].partition_responses[0].error_code == INVALID_TXN_STATE

    async def append() -> None:
        log = broker.broker.partition_log(topic, 0)
        assert log is not None
        info = log.append(batch)
        broker.broker.producer_state(topic, 0).on_log_append(iter_batches(batch), info)
        log.high_watermark = log.log_end_offset

    asyncio.run_coroutine_threadsafe(append(), broker.loop).result(10)
    return init.producer_id, init.producer_epoch


def test_kafka_transactions_abort_closes_a_hanging_transaction(
    kafka_libs: str, broker: EmbeddedBrokerThread
) -> None:
    bootstrap, topic = broker.bootstrap_servers, "jvm-hanging"
    pid, epoch = _produce_without_adding(broker, topic)
    log = broker.broker.partition_log(topic, 0)
    assert log is not None
    assert broker.broker.last_stable_offset(topic, 0, log) == 0  # held back for good

    time.sleep(0.01)  # older than the (zero) search window
    found = java(
        kafka_libs, "org.apache.kafka.tools.TransactionsCommand",
        "--bootstrap-server", bootstrap, "find-hanging", "--topic", topic,
        "--max-transaction-timeout", "0",
    )  # fmt: skip
    rows = [line.split() for line in found.splitlines()]
    assert rows[0][:5] == ["Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch"]
    # No marker was ever written for this producer: coordinator epoch -1.
    assert rows[1][:5] == [topic, "0", str(pid), str(epoch), "-1"]

    java(
        kafka_libs, "org.apache.kafka.tools.TransactionsCommand",
        "--bootstrap-server", bootstrap, "abort", "--topic", topic, "--partition", "0",
        "--start-offset", "0",
    )  # fmt: skip
    assert broker.broker.last_stable_offset(topic, 0, log) == log.high_watermark == 2
    assert [(e.producer_id, e.first_offset) for e in log.txn_index.entries()] == [(pid, 0)]
