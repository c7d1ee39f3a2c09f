"""A broker served on a loopback port and a raw client of our own codec.

``WireClient`` speaks through ``tidal.log.protocol.Connection`` over a real
socket, and can also write arbitrary bytes, so tests can send what no real
client would and check what the broker answers (or that it hangs up).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.protocol import (
    NEED_DATA,
    Connection,
    ProtocolViolation,
    Request,
    ResponseReceived,
    Role,
)
from tidal.log.protocol.messages import ApiVersionsRequest


class WireClient:
    """One connection to the broker, driven by a client ``Connection``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = Connection(Role.CLIENT, client_id="wire-test")

    @classmethod
    async def connect(cls, bootstrap: str) -> WireClient:
        host, port = bootstrap.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def send(self, request: Request, version: int) -> None:
        self.writer.write(self.conn.send_request(request, version))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 10.0) -> ResponseReceived:
        async with asyncio.timeout(timeout):
            while True:
                event = self.conn.next_event()
                if isinstance(event, ResponseReceived):
                    return event
                if isinstance(event, ProtocolViolation):
                    raise AssertionError(f"bad response: {event.reason}")
                assert event is NEED_DATA, event
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("the broker closed the connection")
                self.conn.receive_data(data)

    async def recv_after(self, request: Request, version: int) -> ResponseReceived:
        """Send ``request`` and return the next response (whichever it answers)."""
        await self.send(request, version)
        return await self.recv()

    async def call(self, request: Request, version: int) -> Any:
        await self.send(request, version)
        return (await self.recv()).response

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True when the broker closes the connection within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    data = await self.reader.read(65536)
                    if not data:
                        return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


Connect = Callable[[], Awaitable[WireClient]]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    """A broker on a free port with a 1 MiB request limit, 500 kB batches."""
    config = {
        "socket.request.max.bytes": 1 << 20,
        "message.max.bytes": 500_000,
        "num.partitions": 2,
    }
    async with EmbeddedBroker(tmp_path / "data", config) as running:
        yield running


@pytest.fixture
async def connect(broker: EmbeddedBroker) -> AsyncIterator[Connect]:
    """``await connect()``: a new ``WireClient``, closed after the test."""
    clients: list[WireClient] = []

    async def make() -> WireClient:
        client = await WireClient.connect(broker.bootstrap_servers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def still_served(connect: Connect) -> Callable[[], Awaitable[None]]:
    """``await still_served()``: asserts that a fresh client gets answers."""

    async def check() -> None:
        client = await connect()
        response = await client.call(
            ApiVersionsRequest(client_software_name="wire-test", client_software_version="1.0"), 3
        )
        assert response.error_code == 0
        assert any(k.api_key == 18 for k in response.api_keys)

    return check
