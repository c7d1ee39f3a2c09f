"""Group membership details a framework on top of the consumer relies on:
revoked partitions are still assigned while the listener runs, and an idle
member without auto commit does not spin."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition

TOPIC = "events"


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, 4)
        await produce(b.bootstrap_servers, TOPIC, {p: [b"x%d" % p] * 3 for p in range(4)})
        yield b.bootstrap_servers


def member(bootstrap: str) -> Consumer:
    return Consumer(
        bootstrap_servers=bootstrap,
        group_id="g",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        partition_assignment_strategy="cooperative-sticky",
        **FAST,  # type: ignore[arg-type]
    )


class PositionsAtRevoke:
    """Reads the position of every revoked partition inside the callback."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.seen: dict[TopicPartition, int] = {}

    async def on_partitions_revoked(self, parts: set[TopicPartition]) -> None:
        for tp in parts:
            self.seen[tp] = await self.consumer.position(tp)

    def on_partitions_assigned(self, parts: set[TopicPartition]) -> None:
        pass


async def drain(consumer: Consumer, count: int) -> None:
    got = 0
    async with asyncio.timeout(20):
        while got < count:
            batch = await consumer.getmany(timeout_ms=100)
            got += sum(len(rs) for rs in batch.values())


async def test_revoked_partitions_are_still_assigned_in_the_listener(broker: str) -> None:
    first = member(broker)
    listener = PositionsAtRevoke(first)
    await first.start()
    first.subscribe([TOPIC], listener=listener)
    await drain(first, 12)
    second = member(broker)
    await second.start()
    second.subscribe([TOPIC])
    try:
        async with asyncio.timeout(20):
            while not listener.seen or not second.assignment():
                await first.getmany(timeout_ms=100)
                await second.getmany(timeout_ms=100)
        # The callback could read positions: every partition was read to its end.
        assert listener.seen
        assert all(pos == 3 for pos in listener.seen.values())
        assert set(listener.seen).isdisjoint(first.assignment())
    finally:
        await second.close()
        await first.close()


async def test_idle_member_without_auto_commit_does_not_spin(broker: str) -> None:
    consumer = member(broker)
    await consumer.start()
    consumer.subscribe([TOPIC])
    try:
        await drain(consumer, 12)
        cpu = time.process_time()
        await asyncio.sleep(2.0)  # nothing to fetch, nothing to commit
        used = time.process_time() - cpu
        # A busy loop burns most of a core here; an idle member a few ms.
        assert used < 0.3, f"idle member used {used:.2f}s of CPU in 2s"
    finally:
        await consumer.close()
