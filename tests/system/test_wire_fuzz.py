"""Fuzz the broker's wire input: random bytes and mutated valid frames.

Every connection either gets answers or is closed; no handler may raise on
whatever a mutated frame decodes to (that would be logged as a failure),
and afterwards a fresh client is still served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.protocol import Connection, ResponseReceived, Role
from tidal.log.protocol.messages import (
    ApiVersionsRequest,
    FetchRequest,
    FindCoordinatorRequest,
    InitProducerIdRequest,
    ListOffsetsRequest,
    MetadataRequest,
    OffsetForLeaderEpochRequest,
    ProduceRequest,
)
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.list_offsets import ListOffsetsPartition, ListOffsetsTopic
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.offset_for_leader_epoch import (
    OffsetForLeaderPartition,
    OffsetForLeaderTopic,
)
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch

SEEDS = range(3)
FRAMES_PER_SEED = 400


def valid_frames() -> list[bytes]:
    client = Connection(Role.CLIENT, client_id="fuzz")
    batch = encode_batch([SimpleRecord(b"value", key=b"key")])
    requests = [
        (ApiVersionsRequest(client_software_name="f", client_software_version="1"), 3),
        (MetadataRequest(topics=[MetadataRequestTopic(name="fuzzed")]), 12),
        (MetadataRequest(topics=None), 1),
        (
            ProduceRequest(
                acks=1, timeout_ms=100,
                topic_data=[TopicProduceData(name="fuzzed", partition_data=[
                    PartitionProduceData(index=0, records=batch)])],
            ),
            9,
        ),
        (
            FetchRequest(
                max_wait_ms=10, min_bytes=1,
                topics=[FetchTopic(topic="fuzzed", partitions=[
                    FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=1000)])],
            ),
            11,
        ),
        (
            ListOffsetsRequest(topics=[ListOffsetsTopic(name="fuzzed", partitions=[
                ListOffsetsPartition(partition_index=0, timestamp=-1)])]),
            7,
        ),
        (FindCoordinatorRequest(key_type=0, coordinator_keys=["g"]), 4),
        (InitProducerIdRequest(transaction_timeout_ms=100), 4),
        (
            OffsetForLeaderEpochRequest(topics=[OffsetForLeaderTopic(topic="fuzzed", partitions=[
                OffsetForLeaderPartition(partition=0, leader_epoch=0)])]),
            4,
        ),
    ]  # fmt: skip
    return [bytes(client.send_request(r, v, correlation_id=i)) for i, (r, v) in enumerate(requests)]


def mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    choice = rng.randrange(4)
    if choice == 0:  # flip bytes after the size and api key
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(6, len(data))] = rng.randrange(256)
    elif choice == 1:  # truncate the body but keep the size honest
        cut = rng.randrange(14, len(data))
        data = data[:cut]
        struct.pack_into(">i", data, 0, len(data) - 4)
    elif choice == 2:  # grow it with junk
        data += rng.randbytes(rng.randint(1, 40))
        struct.pack_into(">i", data, 0, len(data) - 4)
    else:  # lie about a length inside
        pos = rng.randrange(14, len(data) - 2)
        struct.pack_into(">h", data, pos, rng.choice([-2, -1, 0x7FFF, rng.randrange(200)]))
    return bytes(data)


async def blast(bootstrap: str, frames: list[bytes]) -> None:
    host, port = bootstrap.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for frame in frames:
            writer.write(frame)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while await reader.read(65536):
                    pass
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize("seed", SEEDS)
async def test_fuzzed_frames_never_break_the_broker(
    tmp_path: Path, seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(seed)
    good = valid_frames()
    async with EmbeddedBroker(tmp_path / "data", {"socket.request.max.bytes": 1 << 16}) as broker:
        batches: list[list[bytes]] = []
        for _ in range(FRAMES_PER_SEED // 8):
            frames = []
            for _ in range(8):
                kind = rng.random()
                if kind < 0.15:
                    frames.append(rng.randbytes(rng.randint(1, 64)))
                elif kind < 0.3:
                    frames.append(rng.choice(good))
                else:
                    frames.append(mutate(rng, rng.choice(good)))
            batches.append(frames)
        await asyncio.gather(*(blast(broker.bootstrap_servers, b) for b in batches))
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert failures == [], failures[0].getMessage()
        client = Connection(Role.CLIENT, client_id="after-fuzz")
        host, port = broker.bootstrap_servers.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(client.send_request(MetadataRequest(topics=None), 12))
        event = client.next_event()
        while not isinstance(event, ResponseReceived):
            client.receive_data(await reader.read(65536))
            event = client.next_event()
        writer.close()
        await writer.wait_closed()
        assert event.response.brokers[0].port == broker.port  # type: ignore[attr-defined]
