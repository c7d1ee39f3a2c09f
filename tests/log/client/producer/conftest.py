"""Fixtures for producer tests: an embedded broker, a fault-injecting proxy in
front of it, and confluent-kafka's consumer as the oracle reading back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker

ReadBack = Callable[..., Any]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 3}) as b:
        yield b


class FaultProxy:
    """Forwards Kafka frames to a broker; can drop the next Produce answers
    (after the broker acted on the request) by cutting the connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.drop_produce_responses = 0
        self.dropped = 0
        self.server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)

    async def _client(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [cw, uw]
        api_of: dict[int, int] = {}
        up = asyncio.get_running_loop().create_task(self._pump_requests(cr, uw, api_of))
        self._tasks.add(up)
        try:
            while True:
                head = await ur.readexactly(4)
                (size,) = struct.unpack(">i", head)
                body = await ur.readexactly(size)
                (cid,) = struct.unpack_from(">i", body)
                if api_of.pop(cid, None) == 0 and self.drop_produce_responses > 0:
                    self.drop_produce_responses -= 1
                    self.dropped += 1
                    break
                cw.write(head + body)
                await cw.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            up.cancel()
            cw.close()
            uw.close()

    @staticmethod
    async def _pump_requests(
        cr: asyncio.StreamReader, uw: asyncio.StreamWriter, api_of: dict[int, int]
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await cr.readexactly(4)
                (size,) = struct.unpack(">i", head)
                body = await cr.readexactly(size)
                api_key, _version, cid = struct.unpack_from(">hhi", body)
                api_of[cid] = api_key
                uw.write(head + body)
                await uw.drain()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for w in self._writers:
            w.close()
        for t in list(self._tasks):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self.server is not None:
            await self.server.wait_closed()


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedBroker, FaultProxy]]:
    """A broker that advertises a proxy's address, and the proxy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = FaultProxy(port)
    await proxy.start()
    config = {"num.partitions": 1, "advertised.listeners": f"127.0.0.1:{proxy.port}"}
    async with EmbeddedBroker(data_dir=tmp_path, config=config, port=port) as b:
        yield b, proxy
        await proxy.stop()


def _read_back(bootstrap: str, topic: str, count: int, partitions: int = 1) -> list[Any]:
    from confluent_kafka import Consumer, TopicPartition  # noqa: PLC0415 - optional peer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "oracle",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: list[Any] = []
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                if len(got) >= count:
                    break
                continue
            assert msg.error() is None, msg.error()
            got.append(msg)
    finally:
        consumer.close()
    return got


@pytest.fixture
def read_back() -> ReadBack:
    """``await read_back(bootstrap, topic, count, partitions=1)``: the records a
    confluent-kafka consumer finds (read in a thread; the broker shares our loop)."""
    pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")

    async def run(bootstrap: str, topic: str, count: int, partitions: int = 1) -> list[Any]:
        return await asyncio.to_thread(_read_back, bootstrap, topic, count, partitions)

    return run
