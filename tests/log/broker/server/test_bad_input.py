"""Bad bytes on one connection: Kafka's answer or a hang-up, a log line
naming the peer, and every other client still served."""

from __future__ import annotations

import logging
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.protocol import RequestHeader, ResponseReceived
from tidal.log.protocol.messages import ApiVersionsRequest, ApiVersionsResponse

Connect = Callable[[], Awaitable[Any]]
Check = Callable[[], Awaitable[None]]


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def header(api_key: int, version: int, correlation_id: int = 7) -> bytes:
    out = bytearray()
    RequestHeader(api_key, version, correlation_id, "bad-client").encode_into(out, 1)
    return bytes(out)


def logged_peer(caplog: pytest.LogCaptureFixture, client: Any) -> bool:
    host, port = client.writer.get_extra_info("sockname")[:2]
    return any(f"{host}:{port}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x00\x00\x08GET / HTTP/1.1\r\n", id="http-ish"),
        pytest.param(frame(b"\xff\xff"), id="frame-shorter-than-a-header"),
        pytest.param(frame(header(3, 12) + b"\x7f\xff\xff\xff"), id="body-length-past-end"),
        pytest.param(b"\xff\xff\xff\xfe" + b"x" * 10, id="negative-size"),
    ],
)
async def test_garbage_closes_the_connection(
    connect: Connect, still_served: Check, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    caplog.set_level(logging.INFO)
    client = await connect()
    await client.send_raw(data)
    assert await client.closed_by_peer()
    assert logged_peer(caplog, client)
    await still_served()


async def test_oversized_frame_closes_before_reading_it(
    connect: Connect, still_served: Check, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await connect()
    await client.send_raw(struct.pack(">i", (1 << 20) + 1) + b"\x00" * 100)
    assert await client.closed_by_peer()
    assert logged_peer(caplog, client)
    assert any("exceeds" in r.getMessage() for r in caplog.records)
    await still_served()


async def test_truncated_frame_then_eof(
    connect: Connect, still_served: Check, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await connect()
    await client.send_raw(struct.pack(">i", 500) + header(18, 0) + b"\x00" * 10)
    client.writer.write_eof()
    assert await client.closed_by_peer()
    assert logged_peer(caplog, client)
    await still_served()


async def test_unknown_api_key_closes(
    connect: Connect, still_served: Check, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await connect()
    await client.send_raw(frame(header(999, 0)))
    assert await client.closed_by_peer()
    assert logged_peer(caplog, client)
    assert any("unknown api key 999" in r.getMessage() for r in caplog.records)
    await still_served()


async def test_unserved_version_closes(connect: Connect, still_served: Check) -> None:
    client = await connect()
    await client.send_raw(frame(header(0, 2) + b"\x00" * 20))  # Produce v2: advertised, not served
    assert await client.closed_by_peer()
    client = await connect()
    await client.send_raw(frame(header(3, 99)))  # Metadata v99
    assert await client.closed_by_peer()
    await still_served()


async def test_unsupported_api_versions_gets_a_v0_answer(
    connect: Connect, still_served: Check
) -> None:
    client = await connect()
    await client.send_raw(frame(header(18, 9, correlation_id=42) + b"\x00\x01\x02"))
    raw = await client.reader.readexactly(4)
    (size,) = struct.unpack(">i", raw)
    body = await client.reader.readexactly(size)
    (correlation_id,) = struct.unpack_from(">i", body)
    assert correlation_id == 42
    response = ApiVersionsResponse.decode(body[4:], 0)
    assert response.error_code == 35
    assert [(k.api_key, k.min_version, k.max_version) for k in response.api_keys] == [(18, 0, 4)]
    # The connection stays usable: the client retries with a version we know.
    answer = await client.call(ApiVersionsRequest(), 0)
    assert answer.error_code == 0
    await still_served()


async def test_a_closed_client_does_not_disturb_others(
    connect: Connect, broker: EmbeddedBroker, still_served: Check
) -> None:
    first = await connect()
    await first.send(ApiVersionsRequest(), 2)
    await first.close()
    await still_served()
    assert isinstance(first.conn, object)


async def test_many_pipelined_requests_answer_in_order(connect: Connect) -> None:
    client = await connect()
    for _ in range(300):
        await client.send(ApiVersionsRequest(), 2)
    ids = []
    for _ in range(300):
        event: ResponseReceived = await client.recv()
        ids.append(event.correlation_id)
    assert ids == list(range(300))
