"""A started ``Broker`` over a temporary data directory, and a way to call
handlers through the wire codec.

``call`` encodes the request in the given version and decodes it again (so
the handler sees exactly what a client would send), runs the registered
handler and sends its response through the codec of that version too: a
handler that sets a field its version lacks fails there, as it would on a
real connection.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import (
    Handler,
    cluster,
    configs,
    groups,
    offsets,
    records_admin,
    topics,
)
from tidal.log.protocol._schema import Request, Response
from tidal.log.records import SimpleRecord, encode_batch

R = TypeVar("R", bound=Response)

Call = Callable[..., Awaitable[Any]]


BrokerFactory = Callable[..., Awaitable[Broker]]


def _handlers() -> dict[int, Handler]:
    """The handlers under test by API key, from their request annotations
    (not ``registry()``, which imports every handler module)."""
    found: dict[int, Handler] = {}
    for module in (cluster, configs, groups, offsets, records_admin, topics):
        for name in module.__all__:
            func = getattr(module, name)
            if callable(func) and not isinstance(func, type):
                request_type = get_type_hints(func)["request"]
                found[request_type.api_key] = func
    return found


HANDLERS = _handlers()


@pytest.fixture
async def make_broker(tmp_path: Path) -> AsyncIterator[BrokerFactory]:
    """``await make_broker(**settings)``: a started broker over its own data
    directory (by default rebalancing groups without delay), stopped after
    the test."""
    started: list[Broker] = []

    async def make(**settings: str) -> Broker:
        props = {
            "log.dirs": str(tmp_path / f"data{len(started)}"),
            "group.initial.rebalance.delay.ms": "0",
            "group.min.session.timeout.ms": "10",
            "offsets.topic.num.partitions": "3",
            **settings,
        }
        b = Broker(BrokerConfig(props))
        await b.start()
        started.append(b)
        return b

    yield make
    for b in started:
        await b.stop()


@pytest.fixture
async def broker(make_broker: BrokerFactory) -> Broker:
    """A started single-node broker that rebalances groups without delay."""
    return await make_broker()


async def call_handler(
    broker: Broker, request: Request, version: int, *, client_id: str | None = "tester"
) -> Any:
    """Run ``request`` through the codec and its handler at ``version``."""
    wire_request = type(request).decode(request.encode(version), version)
    handler = HANDLERS[type(request).api_key]
    ctx = RequestContext(
        broker=broker,
        api_key=type(request).api_key,
        api_version=version,
        correlation_id=1,
        client_id=client_id,
        peer="127.0.0.1:50000",
        client_host="/127.0.0.1",
    )
    response = await handler(ctx, wire_request)
    return type(response).decode(response.encode(version), version)


@pytest.fixture
def call(broker: Broker) -> Call:
    """``await call(request, version)`` -> the decoded response
    (``on=other_broker`` to ask another broker)."""

    async def run(request: Request, version: int, *, on: Broker | None = None, **kw: Any) -> Any:
        return await call_handler(on or broker, request, version, **kw)

    return run


@pytest.fixture
def produce(broker: Broker) -> Callable[[str, int, int], None]:
    """``produce(topic, partition, count)``: append records and commit them
    (move the high watermark), as the Produce handler does."""

    def append(topic: str, partition: int, count: int) -> None:
        log = broker.partition_log(topic, partition)
        assert log is not None
        records = [SimpleRecord(b"v%d" % i, key=b"k%d" % i) for i in range(count)]
        log.append(encode_batch(records))
        log.high_watermark = log.log_end_offset

    return append


@pytest.fixture
def subscription() -> Callable[..., bytes]:
    """``subscription(*topics)``: a ConsumerProtocolSubscription v0."""

    def encode(*topics: str) -> bytes:
        out = bytearray(struct.pack(">hi", 0, len(topics)))
        for topic in topics:
            data = topic.encode()
            out += struct.pack(">h", len(data)) + data
        return bytes(out + struct.pack(">i", -1))

    return encode
