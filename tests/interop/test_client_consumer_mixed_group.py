"""A Tidal consumer and a confluent-kafka (librdkafka) consumer in ONE group.

Both members offer the same assignor (``range``, or ``cooperative-sticky`` as
confluent's ``partition.assignment.strategy``), so whichever is the leader
assigns for both with its own implementation of that assignor. Each member
commits synchronously after every batch and counts a batch only once its
commit succeeded (seeking back to re-read it otherwise), so across the joins
and a member leaving every record must be counted exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.protocol import KafkaError

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

TOPIC = "mixed"
GROUP = "mixed-app"
PARTITIONS = 6
Key = tuple[int, bytes]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, PARTITIONS)
        yield b.bootstrap_servers


async def write(bootstrap: str, start: int, count: int) -> set[Key]:
    values = {
        p: [b"%d-%d" % (p, i) for i in range(start, start + count)] for p in range(PARTITIONS)
    }
    await produce(bootstrap, TOPIC, values)
    return {(p, v) for p, vs in values.items() for v in vs}


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

    def __init__(self, bootstrap: str, counted: Counted, strategy: str) -> None:
        self.consumer = ck.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "broker.address.family": "v4",
                "group.id": GROUP,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": 3000,
                "heartbeat.interval.ms": 100,
                "max.poll.interval.ms": 10000,
                "partition.assignment.strategy": strategy,
            }
        )
        self.counted = counted
        self.assignment: set[int] = set()
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.consumer.subscribe([TOPIC])
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
        offsets = [ck.TopicPartition(TOPIC, p, o + 1) for p, o in last.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except ck.KafkaException:
            for partition, offset in first.items():
                with contextlib.suppress(ck.KafkaException):  # unless no longer ours
                    self.consumer.seek(ck.TopicPartition(TOPIC, partition, offset))
            return
        self.counted.add("confluent", [(m.partition(), m.value()) for m in batch])

    def stop(self) -> None:
        """Stop consuming and close (LeaveGroup)."""
        self.stopping.set()
        self.thread.join(20)
        self.consumer.close()
        if self.error is not None:
            raise self.error


class TidalMember:
    """Our consumer as a task: the same consume-commit-count loop."""

    def __init__(self, bootstrap: str, counted: Counted, strategy: str) -> None:
        settings: dict[str, Any] = {
            **FAST,
            "group_id": GROUP,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "partition_assignment_strategy": [strategy],
        }
        self.consumer = Consumer(bootstrap_servers=bootstrap, **settings)
        self.counted = counted
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def assignment(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([TOPIC])
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
        await self.task
        await self.consumer.close()


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("first", ["tidal", "confluent"])
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_tidal_and_confluent_share_one_group(broker: str, strategy: str, first: str) -> None:
    """``first`` starts alone and stays the group leader when the other joins,
    so its assignor (ours or librdkafka's) assigns for both; then it leaves."""
    counted = Counted()
    expected = await write(broker, 0, 30)
    ours = TidalMember(broker, counted, strategy)
    theirs = ConfluentMember(broker, counted, strategy)

    async def start(name: str) -> None:
        if name == "tidal":
            await ours.start()
        else:
            theirs.start()

    await start(first)
    await wait_for(lambda: len(counted.seen()) >= 30)  # alone at first
    await start("confluent" if first == "tidal" else "tidal")

    def shared() -> bool:
        a, b = ours.assignment, theirs.assignment
        return bool(a) and bool(b) and not (a & b) and len(a | b) == PARTITIONS

    await wait_for(shared)
    coordinator = ours.consumer._coordinator
    assert coordinator is not None
    assert coordinator.protocol == strategy
    expected |= await write(broker, 30, 30)
    await wait_for(lambda: counted.seen() >= expected)
    assert counted.by["tidal"] > 0
    assert counted.by["confluent"] > 0

    everything = set(range(PARTITIONS))
    if first == "confluent":  # the leader leaves: the other member takes over
        await asyncio.to_thread(theirs.stop)
        await wait_for(lambda: ours.assignment == everything)
    else:
        await ours.stop()
        await wait_for(lambda: theirs.assignment == everything)
    expected |= await write(broker, 60, 30)
    await wait_for(lambda: counted.seen() >= expected)
    await asyncio.sleep(0.3)
    if first == "confluent":
        await ours.stop()
    else:
        await asyncio.to_thread(theirs.stop)

    assert counted.seen() == expected
    duplicates = {k: n for k, n in counted.total.items() if n > 1}
    assert not duplicates
    assert len(expected) == PARTITIONS * 90


async def test_the_groups_committed_offsets_are_what_both_consumed(broker: str) -> None:
    """After the mixed group ends, a fresh Tidal consumer of the group finds
    every partition committed at its end: nothing left to read."""
    counted = Counted()
    expected = await write(broker, 0, 20)
    ours = TidalMember(broker, counted, "range")
    theirs = ConfluentMember(broker, counted, "range")
    await ours.start()
    theirs.start()
    await wait_for(lambda: counted.seen() >= expected)
    await ours.stop()
    await asyncio.to_thread(theirs.stop)
    async with Consumer(bootstrap_servers=broker, group_id=GROUP) as check:
        committed = await check.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
    assert {tp.partition: om.offset for tp, om in committed.items() if om} == dict.fromkeys(
        range(PARTITIONS), 20
    )
