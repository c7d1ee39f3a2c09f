"""Consumer groups of our own consumers against the embedded broker.

Each member commits synchronously after every batch and counts a batch only
once its commit succeeded (and re-reads it after a failed one), so across
rebalances every record must be counted exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.protocol import KafkaError

TOPIC = "orders"
PARTITIONS = 6


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, PARTITIONS)
        yield b.bootstrap_servers


async def write(bootstrap: str, start: int, count: int) -> set[tuple[int, bytes]]:
    values = {
        p: [b"%d-%d" % (p, i) for i in range(start, start + count)] for p in range(PARTITIONS)
    }
    await produce(bootstrap, TOPIC, values)
    return {(p, v) for p, vs in values.items() for v in vs}


class Member:
    """Consumes and commits after every batch until stopped."""

    def __init__(
        self, bootstrap: str, counted: Counter[tuple[int, bytes]], **extra: object
    ) -> None:
        self.consumer = Consumer(
            bootstrap_servers=bootstrap,
            group_id="app",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **{**FAST, **extra},  # type: ignore[arg-type]
        )
        self.counted = counted
        self.assigned: list[set[TopicPartition]] = []
        self.revoked: list[set[TopicPartition]] = []
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def on_partitions_assigned(self, parts: set[TopicPartition]) -> None:
        self.assigned.append(parts)

    def on_partitions_revoked(self, parts: set[TopicPartition]) -> None:
        self.revoked.append(parts)

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([TOPIC], listener=self)
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        c = self.consumer
        while not self.stop.is_set():
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
            for tp, records in batch.items():
                self.counted.update((tp.partition, r.value) for r in records)

    async def close(self) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task
        await self.consumer.close()


async def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
async def test_three_members_join_and_leave_without_loss_or_duplicates(
    broker: str, strategy: str
) -> None:
    counted: Counter[tuple[int, bytes]] = Counter()
    expected = await write(broker, 0, 40)
    members = [Member(broker, counted, partition_assignment_strategy=[strategy]) for _ in range(3)]
    await members[0].start()
    await members[1].start()
    await wait_for(lambda: len(counted) >= 60)
    expected |= await write(broker, 40, 40)
    await members[2].start()
    await wait_for(lambda: any(members[2].assigned[-1:]) and len(counted) >= 300)
    await members[0].close()
    expected |= await write(broker, 80, 40)
    await wait_for(lambda: set(counted) >= expected)
    await asyncio.sleep(0.3)
    for m in members[1:]:
        await m.close()
    assert set(counted) == expected
    duplicates = {k: n for k, n in counted.items() if n > 1}
    assert not duplicates
    if strategy == "cooperative-sticky":  # nobody gives up everything at once
        assert all(len(r) < PARTITIONS for m in members for r in m.revoked[:-1])


async def test_static_member_rejoins_without_a_rebalance(broker: str) -> None:
    counted: Counter[tuple[int, bytes]] = Counter()
    static = Member(broker, counted, group_instance_id="worker-1")
    other = Member(broker, counted)
    await static.start()
    await other.start()
    await wait_for(
        lambda: (
            bool(static.consumer.assignment())
            and bool(other.consumer.assignment())
            and len(static.consumer.assignment() | other.consumer.assignment()) == PARTITIONS
        )
    )
    before = static.consumer.assignment()
    rebalances = other.consumer._coordinator.rebalances  # type: ignore[union-attr]
    await static.close()  # a static member sends no LeaveGroup
    again = Member(broker, counted, group_instance_id="worker-1")
    await again.start()
    await wait_for(lambda: again.consumer.assignment() == before)
    await asyncio.sleep(0.5)
    assert other.consumer._coordinator.rebalances == rebalances  # type: ignore[union-attr]
    await again.close()
    await other.close()
