"""An aiokafka consumer group against a Tidal broker.

Two members of one group share a 3-partition topic, commit what they
consumed, and leave; a new member of the group then gets only the records
produced since, with the versions aiokafka negotiates.
"""

from __future__ import annotations

import asyncio
from collections import Counter
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


async def test_aiokafka_group_consumes_and_commits(tmp_path: Path) -> None:
    aiokafka = pytest.importorskip(
        "aiokafka", reason="aiokafka is not installed: pip install aiokafka"
    )
    async with EmbeddedBroker(tmp_path / "broker", BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()

        async def produce(batch: list[str]) -> None:
            for value in batch:
                await producer.send("aio-orders", value.encode())
            await producer.flush()

        def member() -> Any:
            return aiokafka.AIOKafkaConsumer(
                "aio-orders",
                bootstrap_servers=bootstrap,
                group_id="aio-group",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=3000,
                heartbeat_interval_ms=200,
            )

        async def consume(consumer: Any, consumed: Counter[str], until: int) -> None:
            while sum(consumed.values()) < until:
                batch = await consumer.getmany(timeout_ms=100)
                if not batch:
                    continue
                try:
                    await consumer.commit()
                except aiokafka.errors.CommitFailedError:
                    continue
                for records in batch.values():
                    consumed.update(r.value.decode() for r in records)

        broker.broker.topics.create_topic("aio-orders", PARTITIONS)
        members = [member(), member()]
        for consumer in members:
            await consumer.start()
        expected = values(0, 90)
        await produce(expected)
        counts: list[Counter[str]] = [Counter(), Counter()]
        tasks = [
            asyncio.ensure_future(consume(c, n, len(expected)))
            for c, n in zip(members, counts, strict=True)
        ]
        deadline = asyncio.get_running_loop().time() + 20
        while sum(sum(c.values()) for c in counts) < len(expected):
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in members:
            await consumer.stop()
        assert_exactly_once(counts[0] + counts[1], expected)

        more = values(90, 30)
        await produce(more)
        resumed = member()
        await resumed.start()
        consumed: Counter[str] = Counter()
        await asyncio.wait_for(consume(resumed, consumed, len(more)), 20)
        await resumed.stop()
        assert_exactly_once(consumed, more)
        await producer.stop()
