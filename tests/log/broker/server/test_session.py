"""Per-connection behaviour: answers in request order while later requests
run concurrently, acks=0, and handler failures."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker, _session
from tidal.log.protocol import Connection, ResponseReceived, Role
from tidal.log.protocol.messages import (
    FetchRequest,
    MetadataRequest,
    ProduceRequest,
)
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, decode_batch, encode_batch

Connect = Callable[[], Awaitable[Any]]
Check = Callable[[], Awaitable[None]]


def produce_request(topic: str, value: bytes, acks: int = -1, partition: int = 0) -> ProduceRequest:
    batch = encode_batch([SimpleRecord(value, key=b"k")])
    data = PartitionProduceData(index=partition, records=batch)
    return ProduceRequest(
        acks=acks, timeout_ms=5000, topic_data=[TopicProduceData(name=topic, partition_data=[data])]
    )


def fetch_request(topic: str, offset: int = 0, wait_ms: int = 0) -> FetchRequest:
    part = FetchPartition(partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)
    return FetchRequest(
        max_wait_ms=wait_ms, min_bytes=1, topics=[FetchTopic(topic=topic, partitions=[part])]
    )


def metadata_request(*topics: str) -> MetadataRequest:
    return MetadataRequest(topics=[MetadataRequestTopic(name=t) for t in topics])


async def test_long_poll_is_woken_by_a_produce_behind_it(connect: Connect) -> None:
    client = await connect()
    await client.call(metadata_request("polled"), 12)  # auto-creates the topic
    started = time.monotonic()
    await client.send(fetch_request("polled", wait_ms=5000), 12)
    await client.send(produce_request("polled", b"wake up"), 9)
    first: ResponseReceived = await client.recv()
    second: ResponseReceived = await client.recv()
    assert time.monotonic() - started < 2.5
    assert isinstance(first.request, FetchRequest)
    assert isinstance(second.request, ProduceRequest)
    assert second.response.responses[0].partition_responses[0].error_code == 0
    part = first.response.responses[0].partitions[0]
    assert part.error_code == 0
    assert part.high_watermark == 1
    assert [r.value for r in decode_batch(part.records).records] == [b"wake up"]


async def test_long_poll_times_out_empty(connect: Connect) -> None:
    client = await connect()
    await client.call(metadata_request("quiet"), 12)
    started = time.monotonic()
    response = await client.call(fetch_request("quiet", wait_ms=300), 11)
    assert 0.25 < time.monotonic() - started < 3
    part = response.responses[0].partitions[0]
    assert (part.error_code, part.records, part.high_watermark) == (0, b"", 0)


async def test_acks_zero_gets_no_answer(connect: Connect, broker: EmbeddedBroker) -> None:
    client = await connect()
    await client.call(metadata_request("fire-and-forget"), 12)
    await client.send(produce_request("fire-and-forget", b"one", acks=0), 9)
    event: ResponseReceived = await client.recv_after(metadata_request(), 12)
    assert isinstance(event.request, MetadataRequest)
    log = broker.broker.partition_log("fire-and-forget", 0)
    assert log is not None
    assert log.log_end_offset == 1


async def test_failed_acks_zero_produce_closes(connect: Connect, still_served: Check) -> None:
    client = await connect()
    await client.send(produce_request("no-such-topic", b"x", acks=0, partition=5), 9)
    assert await client.closed_by_peer()
    await still_served()


async def test_handler_failure_answers_unknown_server_error(
    connect: Connect,
    broker: EmbeddedBroker,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(ctx: Any, request: Any) -> Any:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(broker.server.handlers, 3, broken)
    client = await connect()
    response = await client.call(metadata_request("a", "b"), 12)
    assert [(t.name, t.error_code) for t in response.topics] == [("a", -1), ("b", -1)]
    assert any("handler bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    # the connection stays usable
    answer = await client.call(fetch_request("a"), 12)
    assert answer.responses[0].partitions[0].error_code == 3


async def test_handler_failure_without_error_field_closes(
    connect: Connect,
    broker: EmbeddedBroker,
    still_served: Check,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)

    async def broken(ctx: Any, request: Any) -> Any:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(broker.server.handlers, 3, broken)
    monkeypatch.setattr("tidal.log.broker._session.error_response", lambda *a: None)
    client = await connect()
    await client.send(metadata_request("a"), 12)
    assert await client.closed_by_peer()
    host, port = client.writer.get_extra_info("sockname")[:2]
    assert any(f"{host}:{port}" in r.getMessage() for r in caplog.records)
    await still_served()


async def test_stop_closes_clients_and_cancels_long_polls(tmp_path: Any) -> None:
    broker = EmbeddedBroker(tmp_path / "data")
    await broker.start()
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    conn = Connection(Role.CLIENT)
    writer.write(conn.send_request(metadata_request("t"), 12))
    writer.write(conn.send_request(fetch_request("t", wait_ms=30_000), 12))
    await writer.drain()
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await broker.stop()
    assert time.monotonic() - started < 3
    assert (tmp_path / "data" / ".kafka_cleanshutdown").exists()
    data = await reader.read()
    conn.receive_data(data)
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize("threshold", [None, 0, 4096])
async def test_fetch_ranges_sent_with_or_without_sendfile(
    connect: Connect, broker: EmbeddedBroker, threshold: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes arrive whether ranges are sendfile'd or copied, and
    pipelined answers behind a sendfile'd one stay in order."""
    broker.broker.sendfile_min_bytes = threshold
    sent: list[int] = []
    real = _session.send_chunk

    async def counting(loop: Any, transport: Any, chunk: Any) -> None:
        sent.append(len(chunk))
        await real(loop, transport, chunk)

    monkeypatch.setattr(_session, "send_chunk", counting)
    client = await connect()
    await client.call(metadata_request("chunks"), 12)
    values = [bytes([65 + i % 26]) * (100 + 300 * i) for i in range(40)]
    for p in (0, 1):
        for value in values:
            await client.call(produce_request("chunks", value, partition=p), 9)
    parts = [
        FetchPartition(partition=p, fetch_offset=0, partition_max_bytes=1 << 20) for p in (0, 1)
    ]
    fetch = FetchRequest(
        max_wait_ms=0, min_bytes=1, topics=[FetchTopic(topic="chunks", partitions=parts)]
    )
    for _ in range(3):
        await client.send(fetch, 12)
        await client.send(metadata_request("chunks"), 9)
    for _ in range(3):
        fetched: ResponseReceived = await client.recv()
        meta: ResponseReceived = await client.recv()
        assert isinstance(fetched.request, FetchRequest)
        assert isinstance(meta.request, MetadataRequest)
        for part in fetched.response.responses[0].partitions:
            got, pos, data = [], 0, part.records
            while pos < len(data):
                size = 12 + int.from_bytes(data[pos + 8 : pos + 12], "big")
                got += [r.value for r in decode_batch(data[pos : pos + size]).records]
                pos += size
            assert got == values
    assert bool(sent) == (threshold is not None)
