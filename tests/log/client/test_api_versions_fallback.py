"""ApiVersions against older brokers (KIP-511), with a fake peer on a socket.

A broker that does not know the ApiVersions version asked answers
UNSUPPORTED_VERSION in a v0 body, listing the ApiVersions range it serves
(Kafka 2.4+) or nothing (older brokers). The client then asks again at that
broker's highest version, or v0, as Kafka's ``NetworkClient`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from tidal.log.client import BrokerConnection, ClientConfig
from tidal.log.protocol import Connection, RequestReceived, Role, UnsupportedRequest
from tidal.log.protocol.errors import UnsupportedVersionError
from tidal.log.protocol.messages import ApiVersionsResponse, MetadataRequest
from tidal.log.protocol.messages.api_versions import ApiVersion

#: How the fake broker answers ApiVersions at a version: the response and the
#: version its body is written in.
Answer = Callable[[int], tuple[ApiVersionsResponse, int]]

UNSUPPORTED = UnsupportedVersionError.code


def entry(api_key: int, low: int, high: int) -> ApiVersion:
    return ApiVersion(api_key=api_key, min_version=low, max_version=high)


SERVED = [entry(18, 0, 2), entry(MetadataRequest.api_key, 0, 9)]


def old_broker(highest: int, *, names_its_range: bool) -> Answer:
    """A broker serving ApiVersions 0..``highest``; above that a v0 error body,
    with the ApiVersions range in it when ``names_its_range`` (Kafka 2.4+)."""

    def answer(version: int) -> tuple[ApiVersionsResponse, int]:
        if version > highest:
            offered = [entry(18, 0, highest)] if names_its_range else []
            return ApiVersionsResponse(error_code=UNSUPPORTED, api_keys=offered), 0
        return ApiVersionsResponse(api_keys=SERVED), version

    return answer


@asynccontextmanager
async def fake_broker(answer: Answer, asked: list[int]) -> AsyncIterator[int]:
    """A socket server answering ApiVersions through ``answer``, recording the
    versions asked; yields its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        engine = Connection(Role.BROKER)
        try:
            while data := await reader.read(65536):
                engine.receive_data(data)
                requests = RequestReceived | UnsupportedRequest
                while isinstance(event := engine.next_event(), requests):
                    asked.append(event.header.api_version)
                    response, version = answer(event.header.api_version)
                    writer.write(engine.send_response(event.header, response, version=version))
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def connect(port: int) -> BrokerConnection:
    conn = BrokerConnection("127.0.0.1", port, config=ClientConfig.build(request_timeout_ms=2000))
    await asyncio.wait_for(conn.connect(), 5)
    return conn


async def test_retries_with_the_version_the_broker_offers() -> None:
    asked: list[int] = []
    async with fake_broker(old_broker(2, names_its_range=True), asked) as port:
        conn = await connect(port)
        try:
            assert conn.api_versions == {18: (0, 2), MetadataRequest.api_key: (0, 9)}
            assert conn.version_for(MetadataRequest) == 9
        finally:
            await conn.close()
    assert asked == [3, 2]


async def test_falls_back_to_v0_when_the_broker_names_no_range() -> None:
    asked: list[int] = []
    async with fake_broker(old_broker(0, names_its_range=False), asked) as port:
        conn = await connect(port)
        try:
            assert conn.api_versions[MetadataRequest.api_key] == (0, 9)
        finally:
            await conn.close()
    assert asked == [3, 0]


async def test_never_asks_above_the_last_version_tried() -> None:
    """A broker that offers a higher range than it serves does not loop the
    client: each try is lower than the last."""
    asked: list[int] = []

    def confused(version: int) -> tuple[ApiVersionsResponse, int]:
        if version > 1:
            offered = [entry(18, 0, 4)]
            return ApiVersionsResponse(error_code=UNSUPPORTED, api_keys=offered), 0
        return ApiVersionsResponse(api_keys=SERVED), version

    async with fake_broker(confused, asked) as port:
        conn = await connect(port)
        await conn.close()
    assert asked == [3, 2, 1]


async def test_a_broker_refusing_v0_too_fails_the_connection() -> None:
    asked: list[int] = []

    def refuses(_version: int) -> tuple[ApiVersionsResponse, int]:
        return ApiVersionsResponse(error_code=UNSUPPORTED), 0

    async with fake_broker(refuses, asked) as port:
        conn = BrokerConnection("127.0.0.1", port, config=ClientConfig.build())
        with pytest.raises(UnsupportedVersionError, match="ApiVersions v0"):
            await asyncio.wait_for(conn.connect(), 5)
        assert not conn.connected
    assert asked == [3, 0]
