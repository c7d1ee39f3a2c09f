"""The Java client (Apache Kafka 4.x tools) in transactions against a Tidal broker.

``kafka-producer-perf-test`` with ``--transactional-id`` is the Java 4.x
transactional producer (it stays on transaction protocol V1 because the
broker advertises no finalized features), ``kafka-console-consumer
--isolation-level read_committed`` the Java consumer, and
``kafka-transactions.sh`` lists and describes the transactional ids through
the Java Admin client (ListTransactions, DescribeTransactions). The tools
come from the jars ``tests/peers/kafka-jvm/fetch.sh`` resolves from Maven
Central; no Kafka broker runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread

pytestmark = pytest.mark.kafka

FETCH = Path(__file__).resolve().parents[1] / "peers" / "kafka-jvm" / "fetch.sh"
TOPIC = "jvm-txn"
RECORDS = 2000


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
