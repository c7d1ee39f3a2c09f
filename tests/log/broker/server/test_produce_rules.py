"""Produce rules Kafka applies before appending: one batch per partition, and
keys on compacted topics. A refused partition appends nothing; the other
partitions of the same request are served."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.protocol.messages import CreateTopicsRequest, ProduceRequest
from tidal.log.protocol.messages.create_topics import CreatableTopic, CreatableTopicConfig
from tidal.log.protocol.messages.produce import (
    PartitionProduceData,
    PartitionProduceResponse,
    TopicProduceData,
)
from tidal.log.records import Compression, SimpleRecord, encode_batch

Connect = Callable[[], Awaitable[Any]]

INVALID_RECORD = 87
CORRUPT_MESSAGE = 2


def batch(*keys: bytes | None, compression: Compression = Compression.NONE) -> bytes:
    return encode_batch(
        [SimpleRecord(b"value", key=k, timestamp=1_700_000_000_000) for k in keys],
        compression=compression,
    )


def produce(topic: str, *records: bytes) -> ProduceRequest:
    """One partition per record set, numbered from 0."""
    parts = [PartitionProduceData(index=i, records=r) for i, r in enumerate(records)]
    return ProduceRequest(
        acks=-1, timeout_ms=5000, topic_data=[TopicProduceData(name=topic, partition_data=parts)]
    )


async def create(client: Any, name: str, policy: str | None = None, partitions: int = 2) -> None:
    configs = [] if policy is None else [CreatableTopicConfig(name="cleanup.policy", value=policy)]
    topic = CreatableTopic(
        name=name, num_partitions=partitions, replication_factor=1, configs=configs
    )
    response = await client.call(CreateTopicsRequest(topics=[topic], timeout_ms=1000), 7)
    assert response.topics[0].error_code == 0, response.topics[0].error_message


async def answers(client: Any, request: ProduceRequest, version: int) -> list[Any]:
    response = await client.call(request, version)
    parts: list[PartitionProduceResponse] = response.responses[0].partition_responses
    return parts


def end_offsets(broker: EmbeddedBroker, topic: str, partitions: int = 2) -> list[int]:
    logs = [broker.broker.partition_log(topic, i) for i in range(partitions)]
    return [log.log_end_offset for log in logs if log is not None]


# ---- one batch per partition ------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 7, 9, 11])
async def test_two_batches_for_a_partition_are_refused(
    connect: Connect, broker: EmbeddedBroker, version: int
) -> None:
    client = await connect()
    await create(client, "batches")
    two = batch(b"a") + batch(b"b", b"c")
    first, second = await answers(client, produce("batches", two, batch(b"d")), version)
    assert first.error_code == INVALID_RECORD
    if version >= 8:
        assert "exactly one record batch" in first.error_message
    assert (second.error_code, second.base_offset) == (0, 0)
    assert end_offsets(broker, "batches") == [0, 1]


async def test_two_batches_then_a_partial_one_are_refused_as_two(connect: Connect) -> None:
    client = await connect()
    await create(client, "partial")
    records = batch(b"a") + batch(b"b") + batch(b"c")[:-5]
    [part] = await answers(client, produce("partial", records), 9)
    assert part.error_code == INVALID_RECORD
    [part] = await answers(client, produce("partial", batch(b"a") + batch(b"c")[:-5]), 9)
    assert part.error_code == CORRUPT_MESSAGE


# ---- keys on compacted topics -----------------------------------------------------------


@pytest.mark.parametrize("policy", ["compact", "delete,compact", "compact,delete"])
@pytest.mark.parametrize("compression", [Compression.NONE, Compression.ZSTD], ids=["none", "zstd"])
async def test_a_compacted_topic_refuses_records_without_a_key(
    connect: Connect, broker: EmbeddedBroker, policy: str, compression: Compression
) -> None:
    client = await connect()
    await create(client, "changelog", policy)
    keyless = batch(b"k1", None, b"k3", None, compression=compression)
    refused, served = await answers(
        client, produce("changelog", keyless, batch(b"k", compression=compression)), 11
    )
    message = "Compacted topic cannot accept message without key in topic partition changelog-0."
    assert (refused.error_code, refused.error_message) == (INVALID_RECORD, message)
    assert [(e.batch_index, e.batch_index_error_message) for e in refused.record_errors] == [
        (1, message),
        (3, message),
    ]
    assert refused.base_offset == -1
    assert (served.error_code, served.base_offset) == (0, 0)
    assert end_offsets(broker, "changelog") == [0, 1]
    # Keyed records, empty keys included, are appended.
    [part] = await answers(client, produce("changelog", batch(b"k", b"")), 11)
    assert (part.error_code, part.base_offset) == (0, 0)


@pytest.mark.parametrize("version", [3, 7])
async def test_keyless_refusal_in_versions_without_messages(
    connect: Connect, broker: EmbeddedBroker, version: int
) -> None:
    client = await connect()
    await create(client, "old-clients", "compact")
    [part] = await answers(client, produce("old-clients", batch(None)), version)
    assert part.error_code == INVALID_RECORD
    assert end_offsets(broker, "old-clients") == [0, 0]


async def test_other_faults_of_a_keyless_batch_are_answered_first(connect: Connect) -> None:
    client = await connect()
    await create(client, "faulty", "compact")
    corrupt = bytearray(batch(None))
    corrupt[-1] ^= 0xFF
    [part] = await answers(client, produce("faulty", bytes(corrupt)), 11)
    assert part.error_code == CORRUPT_MESSAGE
    assert not part.record_errors
    too_large = encode_batch([SimpleRecord(b"x" * 600_000)])  # message.max.bytes is 500 kB
    [part] = await answers(client, produce("faulty", too_large), 11)
    assert part.error_code == 10  # MESSAGE_TOO_LARGE


async def test_a_topic_that_only_deletes_takes_records_without_a_key(
    connect: Connect, broker: EmbeddedBroker
) -> None:
    client = await connect()
    await create(client, "events", "delete")
    [part] = await answers(client, produce("events", batch(None, None)), 11)
    assert (part.error_code, part.base_offset) == (0, 0)
    assert end_offsets(broker, "events") == [2, 0]
