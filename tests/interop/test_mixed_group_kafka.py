"""A Tidal consumer and a confluent-kafka (librdkafka) consumer in ONE group on
a real Apache Kafka broker (JVM), Kafka's own group coordinator in charge.

The same pattern as ``test_client_consumer_mixed_group.py`` (against Tidal's
broker): both members offer one assignor, so whichever leads assigns for both
with its own implementation; each member commits synchronously after every
batch and counts a batch only once the commit succeeded (seeking back to read
it again otherwise). Across the second member joining and one member leaving,
every partition must belong to exactly one member (as each member sees it and
as the broker's DescribeGroups reports it) and every record must be counted
exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer
from tidal.log.protocol import KafkaError

pytestmark = pytest.mark.kafka

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

PARTITIONS = 6
Key = tuple[int, bytes]

#: Kafka's group.min.session.timeout.ms is 6000 by default.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 300


class Counted:
    """Records counted as consumed, by whom; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: Counter[Key] = Counter()
        self.by: Counter[str] = Counter()

    def add(self, who: str, keys: list[Key]) -> None:
        with self.lock:
            self.total.update(keys)
            self.by[who] += len(keys)

    def seen(self) -> set[Key]:
        with self.lock:
            return set(self.total)


class ConfluentMember:
    """librdkafka in a thread: consume, commit synchronously, count if committed."""

    def __init__(
        self, bootstrap: str, topic: str, group: str, counted: Counted, strategy: str
    ) -> None:
        self.topic = topic
        self.consumer = ck.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "broker.address.family": "v4",
                "group.id": group,
                "client.id": "confluent-member",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": SESSION_TIMEOUT_MS,
                "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
                "max.poll.interval.ms": 20000,
                "partition.assignment.strategy": strategy,
            }
        )
        self.counted = counted
        self.assignment: set[int] = set()
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.consumer.subscribe([self.topic])
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._one_batch()
                self.assignment = {tp.partition for tp in self.consumer.assignment()}
        except BaseException as exc:  # noqa: BLE001 - surfaced by stop()
            self.error = exc

    def _one_batch(self) -> None:
        batch = [m for m in self.consumer.consume(7, 0.1) if m.error() is None]
        if not batch:
            return
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for m in batch:
            first.setdefault(m.partition(), m.offset())
            last[m.partition()] = m.offset()
        offsets = [ck.TopicPartition(self.topic, p, o + 1) for p, o in last.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except ck.KafkaException:
            for partition, offset in first.items():
                with contextlib.suppress(ck.KafkaException):  # unless no longer ours
                    self.consumer.seek(ck.TopicPartition(self.topic, partition, offset))
            return
        self.counted.add("confluent", [(m.partition(), m.value()) for m in batch])

    def stop(self) -> None:
        """Stop consuming and close (LeaveGroup)."""
        self.stopping.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the confluent member did not stop"
        self.consumer.close()
        if self.error is not None:
            raise self.error


class TidalMember:
    """Our consumer as a task: the same consume-commit-count loop."""

    def __init__(
        self, bootstrap: str, topic: str, group: str, counted: Counted, strategy: str
    ) -> None:
        self.topic = topic
        self.consumer = Consumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="tidal-member",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            partition_assignment_strategy=[strategy],
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            max_poll_interval_ms=20000,
            fetch_max_wait_ms=100,
        )
        self.counted = counted
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def assignment(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic])
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        c = self.consumer
        while not self.stopping.is_set():
            batch = await c.getmany(timeout_ms=100, max_records=7)
            if not batch:
                continue
            offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            try:
                await c.commit(offsets)
            except KafkaError:
                for tp, records in batch.items():
                    if tp in c.assignment():
                        c.seek(tp, records[0].offset)
                continue
            keys = [(tp.partition, r.value) for tp, rs in batch.items() for r in rs]
            self.counted.add("tidal", keys)  # type: ignore[arg-type]

    async def stop(self) -> None:
        self.stopping.set()
        assert self.task is not None
        async with asyncio.timeout(30):
            await self.task
            await self.consumer.close()


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def write(bootstrap: str, topic: str, start: int, count: int) -> set[Key]:
    async with Producer(bootstrap_servers=bootstrap, linger_ms=5) as producer:
        for p in range(PARTITIONS):
            for i in range(start, start + count):
                await producer.send(topic, b"%d-%d" % (p, i), partition=p)
        await producer.flush()
    return {(p, b"%d-%d" % (p, i)) for p in range(PARTITIONS) for i in range(start, start + count)}


async def broker_view(bootstrap: str, group: str) -> dict[str, set[int]]:
    """Each member's partitions as Kafka's DescribeGroups reports them, by client id."""
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        desc = (await admin.describe_groups([group]))[group]
    return {m.client_id: {tp.partition for tp in m.assignment} for m in desc.members}


@pytest.mark.parametrize("first", ["tidal", "confluent"])
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_tidal_and_confluent_share_one_group_on_kafka(
    kafka_jvm: Any, strategy: str, first: str
) -> None:
    """``first`` starts alone and stays the group leader when the other joins,
    so its assignor (ours or librdkafka's) assigns for both; then it leaves and
    the other takes every partition."""
    bootstrap = kafka_jvm.bootstrap_servers
    topic, group = f"mixed-{uuid.uuid4().hex[:8]}", f"mixed-app-{uuid.uuid4().hex[:8]}"
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    counted = Counted()
    expected = await write(bootstrap, topic, 0, 30)
    ours = TidalMember(bootstrap, topic, group, counted, strategy)
    theirs = ConfluentMember(bootstrap, topic, group, counted, strategy)
    everything = set(range(PARTITIONS))

    async def start(name: str) -> None:
        if name == "tidal":
            await ours.start()
        else:
            theirs.start()

    try:
        await start(first)
        await wait_for(lambda: counted.seen() >= expected)  # alone at first
        await start("confluent" if first == "tidal" else "tidal")

        def shared() -> bool:
            a, b = ours.assignment, theirs.assignment
            return bool(a) and bool(b) and not (a & b) and a | b == everything

        await wait_for(shared)
        coordinator = ours.consumer._coordinator
        assert coordinator is not None
        assert coordinator.protocol == strategy
        view = await broker_view(bootstrap, group)
        assert sorted(view) == ["confluent-member", "tidal-member"]
        assert not view["confluent-member"] & view["tidal-member"]
        assert view["confluent-member"] | view["tidal-member"] == everything

        expected |= await write(bootstrap, topic, 30, 30)
        await wait_for(lambda: counted.seen() >= expected)
        assert counted.by["tidal"] > 0
        assert counted.by["confluent"] > 0

        if first == "confluent":  # the leader leaves: the other member takes over
            await asyncio.to_thread(theirs.stop)
            await wait_for(lambda: ours.assignment == everything)
        else:
            await ours.stop()
            await wait_for(lambda: theirs.assignment == everything)
        remaining = "tidal-member" if first == "confluent" else "confluent-member"
        assert await broker_view(bootstrap, group) == {remaining: everything}
        expected |= await write(bootstrap, topic, 60, 30)
        await wait_for(lambda: counted.seen() >= expected)
        await asyncio.sleep(0.3)
    finally:
        if ours.task is not None and not ours.task.done():
            await ours.stop()
        if theirs.thread.is_alive():
            await asyncio.to_thread(theirs.stop)

    assert counted.seen() == expected
    duplicates = {k: n for k, n in counted.total.items() if n > 1}
    assert not duplicates
    assert len(expected) == PARTITIONS * 90

    # The group's committed offsets are what both consumed: every partition at its end.
    async with Consumer(bootstrap_servers=bootstrap, group_id=group) as check:
        committed = await check.committed([TopicPartition(topic, p) for p in everything])
    assert {tp.partition: om.offset for tp, om in committed.items() if om} == dict.fromkeys(
        everything, 90
    )
