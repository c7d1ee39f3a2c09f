"""A kafka-python 3.x consumer group and admin client against a Tidal broker.

Two members of one group share a 3-partition topic, commit what they
consumed, and leave; a new member of the group then gets only the records
produced since. kafka-python negotiates its own versions of JoinGroup,
SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch; its admin
client then lists, describes and deletes the group and some of its offsets.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker

BROKER_CONFIG = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
}
PARTITIONS = 3


def values(start: int, count: int) -> list[str]:
    return [f"v{i:04d}" for i in range(start, start + count)]


def assert_exactly_once(consumed: Counter[str], expected: list[str]) -> None:
    duplicated = sorted(v for v, n in consumed.items() if n > 1)
    assert duplicated == [], f"consumed more than once: {duplicated[:5]}"
    assert sorted(consumed) == sorted(expected)


@pytest.fixture
def kafka_python() -> Any:
    kafka = pytest.importorskip(
        "kafka", reason="kafka-python is not installed: pip install kafka-python"
    )
    if not kafka.__version__.startswith("3."):
        pytest.skip(
            f"needs kafka-python 3.x, found {kafka.__version__}: pip install 'kafka-python>=3'"
        )
    return kafka


@pytest.fixture
def sync_broker(tmp_path: Path) -> Iterator[Any]:
    with EmbeddedBroker.sync(tmp_path / "broker", BROKER_CONFIG) as broker:
        yield broker


class KafkaPythonMember:
    """A kafka-python consumer on a thread that commits after every poll."""

    def __init__(self, kafka: Any, bootstrap: str, topic: str, group: str) -> None:
        self.consumer = kafka.KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=3000,
            heartbeat_interval_ms=200,
        )
        self.commit_failed = kafka.errors.CommitFailedError
        self.consumed: Counter[str] = Counter()
        self.assigned: set[int] = set()
        self.stopping = threading.Event()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = self.consumer.poll(timeout_ms=100)
                self.assigned = {tp.partition for tp in self.consumer.assignment()}
                if not batch:
                    continue
                try:
                    self.consumer.commit()
                except self.commit_failed:
                    continue  # rebalanced: the records come again from the commit
                for records in batch.values():
                    self.consumed.update(r.value.decode() for r in records)
        except Exception as exc:  # noqa: BLE001 - surfaced by close()
            self.error = exc

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(15)
        self.consumer.close()
        if self.error is not None:
            raise self.error


def wait_until(condition: Any, members: list[KafkaPythonMember], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for member in members:
            if member.error is not None:
                raise member.error
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kafka_python_group_consumes_and_commits(kafka_python: Any, sync_broker: Any) -> None:
    kafka, bootstrap = kafka_python, sync_broker.bootstrap_servers
    # Every client is closed however the test ends: a member left polling
    # would keep its network thread busy through the tests that follow.
    opened: list[Any] = []
    try:
        _group_consumes_and_commits(kafka, bootstrap, opened)
    finally:
        for client in reversed(opened):
            with contextlib.suppress(Exception):
                client.close()


def _group_consumes_and_commits(kafka: Any, bootstrap: str, opened: list[Any]) -> None:
    admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap)
    opened.append(admin)
    admin.create_topics([kafka.admin.NewTopic("kp-orders", PARTITIONS, 1)])
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap)
    opened.append(producer)

    def produce(batch: list[str]) -> None:
        for value in batch:
            producer.send("kp-orders", value.encode())
        producer.flush(10)

    members = [KafkaPythonMember(kafka, bootstrap, "kp-orders", "kp-group") for _ in range(2)]
    opened.extend(members)
    wait_until(lambda: all(m.assigned for m in members), members)  # formed with both
    expected = values(0, 90)
    produce(expected)

    def consumed() -> Counter[str]:
        return sum((m.consumed for m in members), Counter())

    wait_until(lambda: len(consumed()) >= len(expected), members)
    for member in members:
        member.close()
    assert_exactly_once(consumed(), expected)

    offsets = admin.list_group_offsets({"kp-group": None})["kp-group"]
    assert sum(o.offset for o in offsets.values()) == len(expected)
    listed = admin.list_groups()
    assert [(g["group_id"], g["group_state"]) for g in listed] == [("kp-group", "Empty")]
    described = admin.describe_groups(["kp-group"])["kp-group"]
    assert (described["group_state"], described["error"]) == ("Empty", None)

    more = values(90, 30)
    produce(more)
    resumed = KafkaPythonMember(kafka, bootstrap, "kp-orders", "kp-group")
    opened.append(resumed)
    wait_until(lambda: len(resumed.consumed) >= len(more), [resumed], timeout=60)
    time.sleep(0.3)
    resumed.close()
    assert_exactly_once(resumed.consumed, more)

    # OffsetDelete, then DeleteGroups, from kafka-python's admin client.
    partition = kafka.TopicPartition("kp-orders", 0)
    deleted = admin.delete_group_offsets("kp-group", [partition])
    assert deleted == {partition: kafka.errors.NoError}
    offsets = admin.list_group_offsets({"kp-group": None})["kp-group"]
    assert sorted(tp.partition for tp in offsets) == [1, 2]
    assert admin.delete_groups(["kp-group"]) == {"kp-group": "OK"}
    assert admin.list_groups() == []
