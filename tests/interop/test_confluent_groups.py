"""A confluent-kafka (librdkafka) consumer group against a Tidal broker.

Three consumers share a 6-partition topic while members join, leave, and are
killed (a child process that SIGKILLs itself, so it never sends LeaveGroup
and the broker must expire its session). Each consumer commits synchronously
after every batch and counts a batch as consumed only once its commit
succeeded, so across all the rebalances every produced record must be
counted exactly once: none lost, none duplicated. Then the broker restarts
and the group resumes from its committed offsets.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "group-orders"
GROUP = "group-app"
PARTITIONS = 6
BROKER_CONFIG = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
}


def consumer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "broker.address.family": "v4",
        "group.id": GROUP,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 2000,
        "heartbeat.interval.ms": 200,
        "max.poll.interval.ms": 10000,
        **extra,
    }


# The killed member: says when it has partitions, consumes and commits like the
# others, prints its committed batch as a JSON line, then SIGKILLs itself (no
# LeaveGroup, no close) after that batch or ten seconds.
CHILD = """
import json, os, signal, sys, time
from confluent_kafka import Consumer, KafkaException, TopicPartition
config = json.loads(sys.argv[1])
consumer = Consumer(config)
def assigned(consumer, partitions):
    print("assigned", flush=True)
consumer.subscribe([sys.argv[2]], on_assign=assigned)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    batch = [m for m in consumer.consume(10, 0.2) if m.error() is None]
    if not batch:
        continue
    last = {}
    for m in batch:
        last[m.partition()] = m.offset()
    offsets = [TopicPartition(m.topic(), p, o + 1) for p, o in last.items()]
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException:
        continue
    print(json.dumps([m.value().decode() for m in batch]), flush=True)
    break
os.kill(os.getpid(), signal.SIGKILL)
"""


class Member:
    """One consumer in a thread: consume a batch, commit it synchronously,
    count it only if the commit succeeded."""

    def __init__(self, bootstrap: str, record: Callable[[list[str]], None]) -> None:
        self.consumer = Consumer(consumer_config(bootstrap))
        self.record = record
        self.stopping = threading.Event()
        self.error: Exception | None = None
        self.consumed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Member:
        self.consumer.subscribe([TOPIC])
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._one_batch()
        except Exception as exc:  # noqa: BLE001 - surfaced by stop()
            self.error = exc

    def _one_batch(self) -> None:
        batch = [m for m in self.consumer.consume(10, 0.1) if m.error() is None]
        if not batch:
            return
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for m in batch:
            first.setdefault(m.partition(), m.offset())
            last[m.partition()] = m.offset()
        time.sleep(0.01)  # "processing": keeps batches in flight across rebalances
        offsets = [TopicPartition(TOPIC, p, o + 1) for p, o in last.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException:
            # Not committed: the records will be consumed again, here or elsewhere.
            for partition, offset in first.items():
                with contextlib.suppress(KafkaException):  # unless no longer ours
                    self.consumer.seek(TopicPartition(TOPIC, partition, offset))
            return
        self.record([m.value().decode() for m in batch])
        self.consumed += len(batch)

    def stop(self) -> None:
        """Stop consuming and close (which sends LeaveGroup)."""
        self.stopping.set()
        self.thread.join(15)
        self.consumer.close()
        if self.error is not None:
            raise self.error


class Ledger:
    """Every record counted by a successful commit, from all members."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def record(self, values: list[str]) -> None:
        with self.lock:
            self.counts.update(values)

    def wait_for(self, expected: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if set(self.counts) >= expected:
                    return
            time.sleep(0.05)
        missing = expected - set(self.counts)
        raise AssertionError(f"{len(missing)} records never consumed, e.g. {sorted(missing)[:5]}")

    def assert_exactly(self, expected: set[str]) -> None:
        with self.lock:
            duplicated = {v: n for v, n in self.counts.items() if n > 1}
            assert duplicated == {}, f"consumed more than once: {sorted(duplicated)[:5]}"
            assert set(self.counts) == expected


def produce(bootstrap: str, start: int, count: int) -> set[str]:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "broker.address.family": "v4", "linger.ms": 5}
    )
    values = [f"r{i:05d}" for i in range(start, start + count)]
    for value in values:
        producer.produce(TOPIC, key=value.encode(), value=value.encode())
    assert producer.flush(10) == 0
    return set(values)


def spawn_killed_member(bootstrap: str) -> subprocess.Popen[str]:
    """Start the member that will be killed; returns once it has partitions."""
    config = json.dumps(consumer_config(bootstrap))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, config, TOPIC],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "assigned"
    return child


def reap(child: subprocess.Popen[str], ledger: Ledger) -> int:
    """Wait for the killed member's death; returns how many records it committed."""
    out, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    committed = [json.loads(line) for line in out.splitlines() if line != "assigned"]
    for values in committed:
        ledger.record(values)
    return sum(len(values) for values in committed)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "broker"


def test_group_of_three_rebalances_without_loss_or_duplicates(data_dir: Path) -> None:
    ledger = Ledger()
    expected: set[str] = set()
    with EmbeddedBroker.sync(data_dir, BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        admin = AdminClient({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
        expected |= produce(bootstrap, 0, 600)

        first = Member(bootstrap, ledger.record).start()
        time.sleep(0.5)
        second = Member(bootstrap, ledger.record).start()  # joins: rebalance
        third = Member(bootstrap, ledger.record).start()  # joins: rebalance
        killed = spawn_killed_member(bootstrap)  # joins, consumes, dies without leaving
        expected |= produce(bootstrap, 600, 600)
        assert reap(killed, ledger) > 0
        expected |= produce(bootstrap, 1200, 300)
        # The member that leaves has taken part first: on a loaded machine its first
        # committed batch can come after these records were produced.
        deadline = time.monotonic() + 30
        while second.consumed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        second.stop()  # leaves: rebalance
        expected |= produce(bootstrap, 1500, 300)
        ledger.wait_for(expected, timeout=30)
        for member in (first, third):
            member.stop()
        ledger.assert_exactly(expected)
        assert all(m.consumed > 0 for m in (first, second, third))

    # After a restart the group resumes from its commits: only new records arrive.
    with EmbeddedBroker.sync(data_dir, BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        expected |= produce(bootstrap, 1800, 300)
        resumed = [Member(bootstrap, ledger.record).start() for _ in range(2)]
        ledger.wait_for(expected, timeout=30)
        time.sleep(0.5)  # anything redelivered would show up now
        for member in resumed:
            member.stop()
        ledger.assert_exactly(expected)
