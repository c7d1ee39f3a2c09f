"""Coordinator requests travel on a connection of their own: a consumer's
commit does not queue behind its long-poll Fetch to the same broker (on the
embedded broker the coordinator and the partition leader are one node)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client import ClientConfig, Kernel
from tidal.log.client._coordinators import coordinator_connection_id
from tidal.log.client.consumer import Consumer, OffsetAndMetadata, TopicPartition
from tidal.log.protocol.messages import DescribeGroupsRequest, MetadataRequest

TP = TopicPartition("t", 0)
FETCH_WAIT_MS = 2000


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, "t", 1)
        await produce(b.bootstrap_servers, "t", {0: [b"v%d" % i for i in range(5)]})
        yield b.bootstrap_servers


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def test_commit_does_not_wait_for_the_in_flight_fetch(broker: str) -> None:
    settings: dict[str, Any] = {**FAST, "fetch_max_wait_ms": FETCH_WAIT_MS}
    async with Consumer(
        bootstrap_servers=broker, group_id="g", enable_auto_commit=False, **settings
    ) as c:
        c.assign([TP])
        c.seek_to_end(TP)
        assert await c.getmany(timeout_ms=20) == {}
        kernel = c._kernel
        leader = kernel.cluster.metadata.leader_for(TP)
        assert leader is not None
        fetcher = c._fetcher

        # The long-poll Fetch is out: the broker holds it for FETCH_WAIT_MS.
        def fetch_out() -> bool:
            conn = kernel._conns.get(leader)
            return leader in fetcher._in_flight and conn is not None and conn.in_flight == 1

        await wait_until(fetch_out, "the Fetch to go out")
        fetch = fetcher._in_flight[leader]
        fetch_conn = kernel._conns[leader]

        started = time.monotonic()
        await c.commit({TP: 5})
        elapsed = time.monotonic() - started

        # Structurally: the very Fetch is still parked at the broker, on its
        # own connection, when the commit has its answer.
        assert not fetch.done()
        assert fetch_conn.in_flight == 1
        assert fetcher._in_flight.get(leader) is fetch
        assert elapsed < FETCH_WAIT_MS / 2 / 1000, f"commit took {elapsed * 1000:.0f} ms"
        commit_conn = kernel._conns[coordinator_connection_id(leader)]
        assert commit_conn is not fetch_conn
        assert commit_conn.connected
        assert await c.committed([TP]) == {TP: OffsetAndMetadata(5)}
        assert not fetch.done()


async def test_coordinator_requests_use_their_own_connection_and_close_with_it(
    broker: str,
) -> None:
    kernel = Kernel(ClientConfig.build(bootstrap_servers=broker))
    await kernel.start()
    try:
        node = await kernel.coordinator("g")
        assert node >= 0  # the broker's own id, as before
        await kernel.send(node, MetadataRequest, MetadataRequest(topics=[]))
        await kernel.send_to_coordinator(
            "g", DescribeGroupsRequest, DescribeGroupsRequest(groups=["g"])
        )
        plain = kernel._conns[node]
        coordinator = kernel._conns[coordinator_connection_id(node)]
        assert plain is not coordinator
        assert plain.address == coordinator.address
    finally:
        await kernel.close()
    assert not plain.connected
    assert not coordinator.connected
