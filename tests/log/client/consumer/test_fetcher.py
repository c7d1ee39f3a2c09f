"""When the fetcher sends a Fetch: ahead of the application while a partition is
behind its high watermark, but once it has caught up, not while its records
are still buffered (as Java's consumer), and at once when the application takes
the last of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.protocol.messages import FetchRequest

T0 = TopicPartition("t", 0)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, "t", 1)
        await produce(b.bootstrap_servers, "t", {0: [b"a%d" % i for i in range(10)]})
        yield b.bootstrap_servers


def count_fetches(consumer: Consumer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fetch offsets of partition 0, one item per Fetch the consumer sends from now on."""
    kernel = consumer._kernel
    send = kernel.send
    offsets: list[int] = []

    async def counting(node_id: int, api: Any, builder: Any = None, **kw: Any) -> Any:
        if api is FetchRequest:
            offsets.extend(p.fetch_offset for t in builder.topics for p in t.partitions)
        return await send(node_id, api, builder, **kw)

    monkeypatch.setattr(kernel, "send", counting)
    return offsets


async def poll(consumer: Consumer, max_records: int) -> list[ConsumerRecord]:
    batch = await consumer.getmany(timeout_ms=2_000, max_records=max_records)
    return batch.get(T0, [])


async def test_no_fetch_while_a_caught_up_partition_has_records_buffered(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Consumer(bootstrap_servers=broker, auto_offset_reset="earliest", **FAST) as c:
        await c.start()
        fetches = count_fetches(c, monkeypatch)
        c.assign([T0])
        first = await poll(c, 5)
        assert [r.offset for r in first] == [0, 1, 2, 3, 4]
        # Three Produce requests while five records wait in the buffer, each of
        # which would have answered a Fetch sent meanwhile.
        for n in range(3):
            await produce(broker, "t", {0: [b"b%d-%d" % (n, i) for i in range(10)]})
        await asyncio.sleep(3 * FAST["fetch_max_wait_ms"] / 1000)
        assert fetches == [0]

        rest = await poll(c, 100)
        assert [r.offset for r in rest] == [5, 6, 7, 8, 9]
        # Taking the last buffered records sent the next Fetch, from where they
        # end, and its one answer holds all three batches.
        later = await poll(c, 100)
        assert [r.offset for r in later] == list(range(10, 40))
        assert fetches[:2] == [0, 10]


async def test_a_partition_behind_its_high_watermark_is_fetched_ahead(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await produce(broker, "t", {0: [b"b%d-%d" % (n, i) for i in range(10)]})
    # One batch a Fetch: each answer but the last ends below the high watermark.
    settings = {**FAST, "max_partition_fetch_bytes": 1}
    async with Consumer(bootstrap_servers=broker, auto_offset_reset="earliest", **settings) as c:
        await c.start()
        fetches = count_fetches(c, monkeypatch)
        c.assign([T0])
        first = await poll(c, 5)
        assert [r.offset for r in first] == [0, 1, 2, 3, 4]
        await asyncio.sleep(3 * FAST["fetch_max_wait_ms"] / 1000)
        # The next batches came while the first one's records were still buffered.
        assert fetches[:2] == [0, 10]
        rest = await poll(c, 100)
        assert [r.offset for r in rest] == list(range(5, 20))
