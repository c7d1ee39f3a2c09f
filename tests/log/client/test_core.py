"""The client core against the embedded broker: settings, version
negotiation, pipelined requests, metadata, coordinators and bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import (
    CLIENT_VERSIONS,
    BrokerConnection,
    ClientConfig,
    ConfigError,
    KafkaConnectionError,
    KafkaTimeoutError,
    Kernel,
    TopicPartition,
    negotiate_version,
)
from tidal.log.protocol.errors import UnsupportedVersionError
from tidal.log.protocol.messages import (
    API_SPECS,
    CreateTopicsRequest,
    FindCoordinatorRequest,
    MetadataRequest,
    MetadataResponse,
    ProduceRequest,
)
from tidal.log.protocol.messages.create_topics import CreatableTopic


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 3}) as b:
        yield b


def config(broker: EmbeddedBroker, **kw: object) -> ClientConfig:
    return ClientConfig.build(bootstrap_servers=broker.bootstrap_servers, **kw)


# -- settings -----------------------------------------------------------------


def test_defaults_are_kafkas() -> None:
    c = ClientConfig.build()
    assert c.request_timeout_ms == 30_000
    assert c.metadata_max_age_ms == 300_000
    assert c.retry_backoff_ms == 100
    assert c.bootstrap_addresses == [("localhost", 9092)]


def test_dotted_names_and_keywords() -> None:
    c = ClientConfig.build({"bootstrap.servers": "a:1,[::1]:2,b"}, client_id="app")
    assert c.bootstrap_addresses == [("a", 1), ("::1", 2), ("b", 9092)]
    assert c.client_id == "app"


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="request_timeout") as e:
        ClientConfig.build(request_timeout=5)
    assert e.value.setting == "request_timeout"
    assert "did you mean 'request_timeout_ms'" in str(e.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("request_timeout_ms", 0),
        ("request_timeout_ms", "30"),
        ("retry_backoff_ms", True),
        ("bootstrap_servers", "host:notaport"),
        ("bootstrap_servers", ""),
        ("client_id", 3),
    ],
)
def test_invalid_value_is_named(name: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"setting '{name}'"):
        ClientConfig.build(**{name: value})


# -- version negotiation --------------------------------------------------------


def test_negotiation_is_the_highest_common_version() -> None:
    assert negotiate_version(0, {0: (0, 11)}) == 11
    assert negotiate_version(0, {0: (0, 7)}) == 7
    assert negotiate_version(ProduceRequest, {0: (3, 20)}) == CLIENT_VERSIONS[0][1]
    with pytest.raises(UnsupportedVersionError, match="Produce"):
        negotiate_version(0, {0: (0, 2)})
    with pytest.raises(UnsupportedVersionError, match="does not support Metadata"):
        negotiate_version(3, {})


async def test_connect_negotiates_from_api_versions(broker: EmbeddedBroker) -> None:
    host, port = broker.bootstrap_servers.split(":")
    conn = BrokerConnection(host, int(port), config=config(broker))
    await conn.connect()
    try:
        assert conn.api_versions[3] == (API_SPECS[3].min_version, API_SPECS[3].max_version)
        assert conn.version_for(MetadataRequest) == 12
        assert conn.version_for(ProduceRequest) == 11
        # many requests in flight at once, each answered to its sender
        responses = await asyncio.gather(
            *(conn.send(MetadataRequest, lambda v: MetadataRequest(topics=[])) for _ in range(50))
        )
        assert all(isinstance(r, MetadataResponse) for r in responses)
        assert conn.in_flight == 0
    finally:
        await conn.close()
    assert not conn.connected
    with pytest.raises(KafkaConnectionError, match="closed"):
        await conn.send(MetadataRequest)


async def test_unreachable_bootstrap_fails_in_time_naming_it() -> None:
    kernel = Kernel(ClientConfig.build(bootstrap_servers="127.0.0.1:1", reconnect_backoff_ms=10))
    started = time.monotonic()
    with pytest.raises(KafkaConnectionError, match=r"127\.0\.0\.1:1"):
        await kernel.start(timeout_ms=700)
    assert time.monotonic() - started < 3
    await kernel.close()


async def test_silent_broker_times_out_the_request() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def mute(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        accepted.append(w)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = BrokerConnection("127.0.0.1", port, config=ClientConfig.build(request_timeout_ms=300))
    started = time.monotonic()
    with pytest.raises(KafkaTimeoutError, match="ApiVersionsRequest"):
        await conn.connect()
    assert time.monotonic() - started < 2
    assert not conn.connected
    for w in accepted:
        w.close()
    server.close()
    await server.wait_closed()


# -- kernel: metadata and coordinators -----------------------------------------


async def test_metadata_refresh_sees_a_created_topic(broker: EmbeddedBroker) -> None:
    kernel = Kernel(config(broker, allow_auto_create_topics=False))
    await kernel.start()
    try:
        md = kernel.cluster.metadata
        assert md.nodes
        assert md.controller_id in md.nodes
        assert md.cluster_id
        kernel.cluster.add_topics(["fresh"])
        md = await kernel.refresh_metadata()
        assert md.partitions_for("fresh") is None
        with pytest.raises(Exception, match="topic 'fresh'"):
            md.raise_for_topic("fresh")

        def create(version: int) -> CreateTopicsRequest:
            topic = CreatableTopic(name="fresh", num_partitions=4, replication_factor=1)
            return CreateTopicsRequest(topics=[topic])

        await kernel.send(md.controller_id, CreateTopicsRequest, create)
        md = await kernel.wait_for_topic("fresh", timeout_ms=5000)
        assert md.partitions_for("fresh") == [0, 1, 2, 3]
        assert md.leader_for(TopicPartition("fresh", 2)) in md.nodes
        with pytest.raises(KafkaTimeoutError, match="topic 'missing' not present"):
            await kernel.wait_for_topic("missing", timeout_ms=300)
    finally:
        await kernel.close()


async def test_concurrent_refreshes_share_one_request(broker: EmbeddedBroker) -> None:
    kernel = Kernel(config(broker))
    await kernel.start()
    try:
        before = kernel.cluster.generation
        await asyncio.gather(*(kernel.refresh_metadata() for _ in range(10)))
        assert kernel.cluster.generation == before + 1
    finally:
        await kernel.close()


async def test_coordinator_is_cached_and_invalidated(broker: EmbeddedBroker) -> None:
    kernel = Kernel(config(broker))
    await kernel.start()
    try:
        node = await kernel.coordinator("group-a")
        assert node in kernel.cluster.metadata.nodes
        calls = 0
        real = kernel.send_to_any

        async def counting(*args: object, **kw: object) -> object:
            nonlocal calls
            calls += 1
            return await real(*args, **kw)  # type: ignore[arg-type]

        kernel.send_to_any = counting  # type: ignore[method-assign]
        assert await kernel.coordinator("group-a") == node
        assert calls == 0
        kernel.invalidate_coordinator("group-a")
        assert await kernel.coordinator("group-a") == node
        assert calls == 1
        version = (await kernel.connection(node)).version_for(FindCoordinatorRequest)
        assert version == API_SPECS[10].max_version
    finally:
        await kernel.close()


async def test_reconnects_after_the_broker_restarts(tmp_path: Path) -> None:
    b = EmbeddedBroker(data_dir=tmp_path)
    await b.start()
    port = b.port
    kernel = Kernel(ClientConfig.build(bootstrap_servers=b.bootstrap_servers))
    try:
        await kernel.start()
        await b.stop()
        with pytest.raises(KafkaConnectionError):
            await kernel.refresh_metadata()
        b = EmbeddedBroker(data_dir=tmp_path, port=port)
        await b.start()
        md = await kernel.retry(kernel.refresh_metadata, timeout_ms=5000)
        assert md.nodes
    finally:
        await kernel.close()
        await b.stop()
