"""The consumer by assignment against the embedded broker: seeks, positions,
offsets_for_times, pause/resume, commits and lag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import (
    Consumer,
    ConsumerRecord,
    NoOffsetForPartitionError,
    OffsetAndMetadata,
    TopicPartition,
)

T0, T1 = TopicPartition("t", 0), TopicPartition("t", 1)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, "t", 2)
        await produce(b.bootstrap_servers, "t", {0: [b"a%d" % i for i in range(10)], 1: [b"b0"]})
        yield b.bootstrap_servers


async def drain(consumer: Consumer, count: int) -> list[ConsumerRecord]:
    out: list[ConsumerRecord] = []
    for _ in range(50):
        batch = await consumer.getmany(timeout_ms=200)
        out += [r for records in batch.values() for r in records]
        if len(out) >= count:
            break
    return out


async def test_assign_seek_variants(broker: str) -> None:
    async with Consumer(bootstrap_servers=broker, auto_offset_reset="earliest", **FAST) as c:
        c.assign([T0])
        got = await drain(c, 10)
        assert [r.value for r in got] == [b"a%d" % i for i in range(10)]
        assert got[0].key == b"a0"
        assert got[0].timestamp == 1_700_000_000_000
        assert await c.position(T0) == 10
        assert c.lag(T0) == 0
        c.seek(T0, 7)
        assert [r.offset for r in await drain(c, 3)] == [7, 8, 9]
        c.seek_to_beginning(T0)
        assert await c.position(T0) == 0
        c.seek_to_end(T0)
        assert await c.position(T0) == 10
        assert await c.end_offsets([T0, T1]) == {T0: 10, T1: 1}
        assert await c.beginning_offsets([T0]) == {T0: 0}


async def test_latest_is_the_default_reset_and_none_raises(broker: str) -> None:
    async with Consumer(bootstrap_servers=broker, **FAST) as c:
        c.assign([T0])
        assert await c.position(T0) == 10
    async with Consumer(bootstrap_servers=broker, auto_offset_reset="none", **FAST) as c:
        c.assign([T0])
        with pytest.raises(NoOffsetForPartitionError):
            await c.getmany(timeout_ms=100)


async def test_offsets_for_times(broker: str) -> None:
    async with Consumer(bootstrap_servers=broker, **FAST) as c:
        got = await c.offsets_for_times({T0: 1_700_000_000_004, T1: 1_800_000_000_000})
        assert got[T0] is not None
        assert (got[T0].offset, got[T0].timestamp) == (4, 1_700_000_000_004)
        assert got[T1] is None


async def test_pause_and_resume(broker: str) -> None:
    async with Consumer(bootstrap_servers=broker, auto_offset_reset="earliest", **FAST) as c:
        c.assign([T0, T1])
        c.pause(T0)
        got = await drain(c, 1)
        assert {r.partition for r in got} == {1}
        assert not await c.getmany(timeout_ms=300)
        assert c.paused() == {T0}
        c.resume(T0)
        assert [r.offset for r in await drain(c, 10)] == list(range(10))


async def test_manual_commits_with_metadata_and_resume_from_them(broker: str) -> None:
    settings = {"bootstrap_servers": broker, "group_id": "g", "enable_auto_commit": False, **FAST}
    async with Consumer(settings, auto_offset_reset="earliest") as c:
        c.assign([T0])
        await drain(c, 4)
        await c.commit({T0: OffsetAndMetadata(4, "checkpoint")})
        assert await c.committed([T0, T1]) == {T0: OffsetAndMetadata(4, "checkpoint"), T1: None}
        await c.commit_async({T0: 6})
    async with Consumer(settings) as c:
        c.assign([T0])
        assert [r.offset for r in await drain(c, 4)] == [6, 7, 8, 9]
        await c.commit()
        assert (await c.committed([T0]))[T0] == OffsetAndMetadata(10, "")


async def test_auto_commit_on_interval_and_close(broker: str) -> None:
    settings = {"bootstrap_servers": broker, "group_id": "auto", **FAST}
    async with Consumer(settings, auto_offset_reset="earliest", auto_commit_interval_ms=100) as c:
        c.assign([T0])
        await drain(c, 10)
        for _ in range(50):
            if (await c.committed([T0]))[T0] == OffsetAndMetadata(10):
                break
            await c.getmany(timeout_ms=50)
        assert (await c.committed([T0]))[T0] == OffsetAndMetadata(10)
        c.seek(T0, 3)
    async with Consumer(settings, enable_auto_commit=False) as c:
        assert (await c.committed([T0]))[T0] == OffsetAndMetadata(3)  # committed on close


async def test_deserializers_and_async_iteration(broker: str) -> None:
    async with Consumer(
        bootstrap_servers=broker,
        auto_offset_reset="earliest",
        value_deserializer=lambda b: (b or b"").decode().upper(),
        **FAST,
    ) as c:
        c.assign([T1])
        async for record in c:
            assert record.value == "B0"
            break
