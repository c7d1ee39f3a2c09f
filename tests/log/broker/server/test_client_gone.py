"""A client that goes away while the broker holds its requests back (past
``MAX_IN_FLIGHT``, behind long polls) ends its connection at once: the
session is forgotten and its handlers are cancelled, instead of lingering
until the long polls time out."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._session import MAX_HELD_BYTES, MAX_IN_FLIGHT, ClientSession
from tidal.log.protocol.messages import FetchRequest, MetadataRequest, ProduceRequest
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch

Connect = Callable[[], Awaitable[Any]]


def long_poll(topic: str) -> FetchRequest:
    """A Fetch of an empty partition that waits a minute for data."""
    part = FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=1 << 20)
    return FetchRequest(
        max_wait_ms=60_000, min_bytes=1, topics=[FetchTopic(topic=topic, partitions=[part])]
    )


def produce(topic: str, value: bytes) -> ProduceRequest:
    data = PartitionProduceData(index=0, records=encode_batch([SimpleRecord(value, key=b"k")]))
    return ProduceRequest(
        acks=1, timeout_ms=5000, topic_data=[TopicProduceData(name=topic, partition_data=[data])]
    )


def handler_tasks() -> list[asyncio.Task[Any]]:
    """Live tasks running the Fetch or Produce handler."""
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "") in ("fetch", "produce")
    ]


async def eventually(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def hold_long_polls(client: Any, broker: EmbeddedBroker, count: int) -> ClientSession:
    """Send ``count`` long polls and wait until the broker holds them."""
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="idle")]), 12)
    for _ in range(count):
        await client.send(long_poll("idle"), 12)
    [session] = broker.server.sessions
    await eventually(lambda: len(session.pending) >= MAX_IN_FLIGHT, 5)
    await eventually(lambda: len(handler_tasks()) >= MAX_IN_FLIGHT, 5)
    return session


def reset(client: Any) -> None:
    """Close with an RST instead of a FIN."""
    sock = client.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.writer.transport.abort()


@pytest.mark.parametrize("extra", [0, 20])
@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_client_gone_behind_held_long_polls_ends_its_connection(
    connect: Connect, broker: EmbeddedBroker, how: str, extra: int
) -> None:
    client = await connect()
    await hold_long_polls(client, broker, MAX_IN_FLIGHT + extra)
    if how == "close":
        await client.close()
    else:
        reset(client)
    await eventually(lambda: not broker.server.sessions, 1.0)
    await eventually(lambda: not handler_tasks(), 1.0)


async def test_a_client_gone_after_filling_the_hold_ends_its_connection(
    connect: Connect, broker: EmbeddedBroker
) -> None:
    """Past ``MAX_HELD_BYTES`` the socket is no longer read; the broker still
    finds out that the peer has gone."""
    client = await connect()
    session = await hold_long_polls(client, broker, MAX_IN_FLIGHT)
    value = b"x" * 100_000
    for _ in range(2 * MAX_HELD_BYTES // len(value)):
        await client.send(produce("idle", value), 9)
    await eventually(lambda: session._reading_paused, 5)
    reset(client)
    await eventually(lambda: not broker.server.sessions, 1.5)
    await eventually(lambda: not handler_tasks(), 1.0)
    log = broker.broker.partition_log("idle", 0)
    assert log is not None
    assert log.log_end_offset == 0  # the held requests went with the client


async def test_held_requests_are_served_once_the_long_polls_answer(
    connect: Connect, broker: EmbeddedBroker
) -> None:
    """Holding back still serves every request, in order, once the head moves."""
    client = await connect()
    await hold_long_polls(client, broker, MAX_IN_FLIGHT)
    await client.send(produce("idle", b"wake up"), 9)  # held: decoding is paused
    await asyncio.sleep(0.1)
    log = broker.broker.partition_log("idle", 0)
    assert log is not None
    assert log.log_end_offset == 0
    other = await connect()
    answer = await other.call(produce("idle", b"from elsewhere"), 9)
    assert answer.responses[0].partition_responses[0].error_code == 0
    for _ in range(MAX_IN_FLIGHT):
        event = await client.recv()
        assert isinstance(event.request, FetchRequest)
        assert event.response.responses[0].partitions[0].high_watermark >= 1
    event = await client.recv()
    assert isinstance(event.request, ProduceRequest)
    assert event.response.responses[0].partition_responses[0].base_offset == 1
