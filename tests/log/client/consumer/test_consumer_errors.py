"""Errors in fetched data reach the application from getmany, and the
consumer can go on past them; a batch larger than the fetch size is not one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, RecordDeserializationError, TopicPartition

TOPIC = "errors"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, 2)
        yield b.bootstrap_servers


def strict(value: bytes | None) -> str:
    assert value is not None
    if value == b"bad":
        raise ValueError("not a good value")
    return value.decode()


async def drain(consumer: Consumer, want: int) -> list[tuple[int, int, object]]:
    got: list[tuple[int, int, object]] = []
    async with asyncio.timeout(10):
        while len(got) < want:
            batch = await consumer.getmany(timeout_ms=100)
            got.extend((tp.partition, r.offset, r.value) for tp, rs in batch.items() for r in rs)
    return got


async def poll_until_error(consumer: Consumer, got: list[tuple[int, int, object]]) -> None:
    async with asyncio.timeout(10):
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            got.extend((tp.partition, r.offset, r.value) for tp, rs in batch.items() for r in rs)


async def test_a_failing_deserializer_is_raised_and_seeking_past_it_goes_on(broker: str) -> None:
    await produce(broker, TOPIC, {0: [b"a", b"bad", b"c"], 1: [b"x", b"y"]})
    settings: dict[str, object] = {**FAST, "auto_offset_reset": "earliest"}
    async with Consumer(bootstrap_servers=broker, value_deserializer=strict, **settings) as c:  # type: ignore[arg-type]
        c.assign([P0, P1])
        got: list[tuple[int, int, object]] = []
        with pytest.raises(RecordDeserializationError) as info:
            await poll_until_error(c, got)
        assert info.value.topic_partition == P0
        assert info.value.offset == 1
        assert await c.position(P0) == 0  # nothing of the failing fetch was handed out
        c.seek(P0, 2)
        got += await drain(c, 3 - len(got))
    assert sorted(got) == [(0, 2, "c"), (1, 0, "x"), (1, 1, "y")]


async def test_a_batch_larger_than_the_fetch_size_still_arrives(broker: str) -> None:
    """The broker returns a first batch whole even past the size limits (KIP-74)."""
    await produce(broker, TOPIC, {0: [b"v" * 2000, b"w"]})
    settings: dict[str, object] = {**FAST, "max_partition_fetch_bytes": 1000}
    async with Consumer(bootstrap_servers=broker, **settings) as c:  # type: ignore[arg-type]
        c.assign([P0])
        c.seek(P0, 0)
        assert await drain(c, 2) == [(0, 0, b"v" * 2000), (0, 1, b"w")]
