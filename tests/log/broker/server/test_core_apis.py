"""The core APIs over a socket in every version the broker serves: each
answer must encode in the request's version and say what Kafka says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.protocol import Connection, Role
from tidal.log.protocol.messages import (
    API_SPECS,
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
from tidal.log.records import SimpleRecord, decode_batch, encode_batch

Connect = Callable[[], Awaitable[Any]]


def served(api_key: int) -> list[int]:
    spec = API_SPECS[api_key]
    low = spec.min_version if spec.accepted_min is None else spec.accepted_min
    return list(range(low, spec.max_version + 1))


def produce(
    topic: str, records: bytes | None, partition: int = 0, acks: int = -1
) -> ProduceRequest:
    data = PartitionProduceData(index=partition, records=records)
    return ProduceRequest(
        acks=acks, timeout_ms=5000, topic_data=[TopicProduceData(name=topic, partition_data=[data])]
    )


def batch(*values: bytes, timestamp: int = 1_700_000_000_000, **kw: Any) -> bytes:
    return encode_batch(
        [SimpleRecord(v, timestamp=timestamp + i) for i, v in enumerate(values)], **kw
    )


@pytest.mark.parametrize("version", served(18))
async def test_api_versions_lists_the_handled_apis(connect: Connect, version: int) -> None:
    client = await connect()
    request = ApiVersionsRequest(client_software_name="t", client_software_version="1")
    response = await client.call(request, version)
    assert response.error_code == 0
    keys = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    for key in (0, 1, 2, 3, 10, 18, 22, 23, 24, 25, 26, 27, 28, 61, 65, 66):
        assert keys[key] == (API_SPECS[key].min_version, API_SPECS[key].max_version)
    assert keys[24][1] == 3  # AddPartitionsToTxn v4+ is broker-to-broker only
    assert keys[27] == (1, 1)  # WriteTxnMarkers, for Admin.abortTransaction
    assert keys[0][0] == 0  # Produce advertised from 0 for old librdkafka
    if version >= 3:
        assert response.finalized_features == []
        assert response.finalized_features_epoch == -1


async def test_api_versions_rejects_a_bad_software_name(connect: Connect) -> None:
    client = await connect()
    request = ApiVersionsRequest(client_software_name="bad name!", client_software_version="1")
    assert (await client.call(request, 3)).error_code == 42


@pytest.mark.parametrize("version", served(3))
async def test_metadata_every_version(
    connect: Connect, broker: EmbeddedBroker, version: int
) -> None:
    client = await connect()
    names = ["meta-auto", "bad name!", "__consumer_offsets"]
    topics = [MetadataRequestTopic(name=n) for n in names]
    response = await client.call(MetadataRequest(topics=topics), version)
    assert [(b.node_id, b.host, b.port) for b in response.brokers] == [
        (broker.broker.node_id, "127.0.0.1", broker.port)
    ]
    if version >= 1:
        assert response.controller_id == broker.broker.node_id
    if version >= 2:
        assert response.cluster_id == broker.broker.cluster_id
    by_name = {t.name: t for t in response.topics}
    auto = by_name["meta-auto"]
    assert auto.error_code == 0
    assert [p.partition_index for p in auto.partitions] == [0, 1]
    assert all(p.leader_id == broker.broker.node_id for p in auto.partitions)
    if version >= 7:
        assert all(p.leader_epoch == 0 for p in auto.partitions)
    if version >= 10:
        assert auto.topic_id == broker.broker.topics.get("meta-auto").topic_id  # type: ignore[union-attr]
    assert by_name["bad name!"].error_code == 17
    assert by_name["__consumer_offsets"].error_code in (0, 3)


@pytest.mark.parametrize("version", [0, 1, 4, 12])
async def test_metadata_all_topics(connect: Connect, version: int) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="listed")]), 12)
    everything = [] if version == 0 else None
    response = await client.call(MetadataRequest(topics=everything), version)
    assert "listed" in [t.name for t in response.topics]
    if version >= 1:
        none = await client.call(MetadataRequest(topics=[]), version)
        assert none.topics == []


async def test_metadata_auto_create_needs_both_switches(connect: Connect, tmp_path: Any) -> None:
    client = await connect()
    request = MetadataRequest(
        topics=[MetadataRequestTopic(name="not-auto")], allow_auto_topic_creation=False
    )
    assert (await client.call(request, 12)).topics[0].error_code == 3
    async with EmbeddedBroker(tmp_path / "off", {"auto.create.topics.enable": "false"}) as off:
        host, port = off.bootstrap_servers.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        conn = Connection(Role.CLIENT)
        writer.write(conn.send_request(MetadataRequest(topics=[MetadataRequestTopic(name="x")]), 4))
        conn.receive_data(await reader.read(65536))
        event = conn.next_event()
        writer.close()
        await writer.wait_closed()
        assert event.response.topics[0].error_code == 3  # type: ignore[union-attr]


async def test_metadata_unknown_topic_id(connect: Connect) -> None:
    client = await connect()
    topics = [MetadataRequestTopic(name=None, topic_id=uuid.uuid4())]
    response = await client.call(MetadataRequest(topics=topics), 12)
    assert response.topics[0].error_code == 100


@pytest.mark.parametrize("version", served(0))
async def test_produce_and_fetch_every_produce_version(
    connect: Connect, broker: EmbeddedBroker, version: int
) -> None:
    client = await connect()
    topic = f"produce-v{version}"
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name=topic)]), 12)
    response = await client.call(produce(topic, batch(b"a", b"b")), version)
    part = response.responses[0].partition_responses[0]
    assert (part.error_code, part.base_offset) == (0, 0)
    if version >= 5:
        assert part.log_start_offset == 0
    if version >= 2:
        assert part.log_append_time_ms == -1
    response = await client.call(produce(topic, batch(b"c")), version)
    assert response.responses[0].partition_responses[0].base_offset == 2
    log = broker.broker.partition_log(topic, 0)
    assert log is not None
    assert (log.log_end_offset, log.high_watermark) == (3, 3)


@pytest.mark.parametrize(
    ("records", "code"),
    [
        (b"\x00" * 30, 2),  # shorter than a batch header: CORRUPT_MESSAGE
        (bytes(bytearray(batch(b"x"))[:-1]), 2),  # truncated batch
        (None, 87),  # no records: INVALID_RECORD
    ],
)
async def test_produce_bad_records(connect: Connect, records: bytes | None, code: int) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="bad-records")]), 12)
    response = await client.call(produce("bad-records", records), 9)
    part = response.responses[0].partition_responses[0]
    assert part.error_code == code
    assert part.error_message


async def test_produce_crc_mismatch_is_corrupt(connect: Connect) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="crc")]), 12)
    data = bytearray(batch(b"payload"))
    data[-1] ^= 0xFF
    response = await client.call(produce("crc", bytes(data)), 9)
    assert response.responses[0].partition_responses[0].error_code == 2


async def test_produce_errors_per_partition(connect: Connect, tmp_path: Any) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="sized")]), 12)
    big = batch(b"x" * 600_000)  # message.max.bytes is 500 kB here
    response = await client.call(produce("sized", big), 9)
    assert response.responses[0].partition_responses[0].error_code == 10  # MESSAGE_TOO_LARGE
    response = await client.call(produce("never-created", batch(b"x")), 9)
    assert response.responses[0].partition_responses[0].error_code == 3
    response = await client.call(produce("sized", batch(b"x"), partition=9), 9)
    assert response.responses[0].partition_responses[0].error_code == 3
    response = await client.call(produce("__consumer_offsets", batch(b"x")), 9)
    assert response.responses[0].partition_responses[0].error_code == 17
    response = await client.call(produce("sized", batch(b"x"), acks=2), 9)
    assert response.responses[0].partition_responses[0].error_code == 21
    bad_codec = bytearray(batch(b"x"))
    bad_codec[22] |= 0x07  # compression id 7 (attributes low byte at offset 22)
    response = await client.call(produce("sized", bytes(bad_codec)), 9)
    assert response.responses[0].partition_responses[0].error_code in (2, 76)


async def test_idempotent_retry_returns_the_first_offset(connect: Connect) -> None:
    client = await connect()
    init = await client.call(InitProducerIdRequest(transaction_timeout_ms=60000), 4)
    assert init.error_code == 0
    pid, epoch = init.producer_id, init.producer_epoch
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="idem")]), 12)

    def seq_batch(seq: int, *values: bytes) -> bytes:
        return batch(*values, producer_id=pid, producer_epoch=epoch, base_sequence=seq)

    first = await client.call(produce("idem", seq_batch(0, b"a", b"b")), 9)
    assert first.responses[0].partition_responses[0].base_offset == 0
    again = await client.call(produce("idem", seq_batch(0, b"a", b"b")), 9)
    assert again.responses[0].partition_responses[0].base_offset == 0
    assert again.responses[0].partition_responses[0].error_code == 0
    gap = await client.call(produce("idem", seq_batch(5, b"c")), 9)
    assert gap.responses[0].partition_responses[0].error_code == 45
    nxt = await client.call(produce("idem", seq_batch(2, b"c")), 9)
    assert nxt.responses[0].partition_responses[0].base_offset == 2


@pytest.mark.parametrize("version", served(22))
async def test_init_producer_id(connect: Connect, version: int) -> None:
    client = await connect()
    response = await client.call(InitProducerIdRequest(transaction_timeout_ms=1000), version)
    assert response.error_code == 0
    assert response.producer_id >= 0
    assert response.producer_epoch == 0
    request = InitProducerIdRequest(
        transactional_id=f"txn-app-{version}", transaction_timeout_ms=1000
    )
    first = await client.call(request, version)
    assert first.error_code == 0
    assert first.producer_epoch == 0
    again = await client.call(request, version)
    assert (again.error_code, again.producer_id, again.producer_epoch) == (0, first.producer_id, 1)
    if version >= 3:
        bump = InitProducerIdRequest(
            transaction_timeout_ms=1000,
            producer_id=response.producer_id,
            producer_epoch=response.producer_epoch,
        )
        bumped = await client.call(bump, version)
        assert (bumped.producer_id, bumped.producer_epoch) == (response.producer_id, 1)


@pytest.mark.parametrize("version", served(1))
async def test_fetch_every_version(connect: Connect, version: int) -> None:
    client = await connect()
    topic = f"fetch-v{version}"
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name=topic)]), 12)
    for i in range(3):
        await client.call(produce(topic, batch(b"r%d" % i)), 9)

    def request(offset: int, partition: int = 0, max_bytes: int = 1 << 20) -> FetchRequest:
        part = FetchPartition(
            partition=partition, fetch_offset=offset, partition_max_bytes=max_bytes
        )
        return FetchRequest(
            max_wait_ms=0, min_bytes=0, isolation_level=1 if version >= 4 else 0,
            topics=[FetchTopic(topic=topic, partitions=[part])],
        )  # fmt: skip

    response = await client.call(request(1), version)
    part = response.responses[0].partitions[0]
    assert (part.error_code, part.high_watermark) == (0, 3)
    if version >= 5:
        assert part.log_start_offset == 0
    assert part.last_stable_offset == 3
    assert part.aborted_transactions == []
    offsets = [r.offset for b in _batches(part.records) for r in b.records]
    assert offsets == [1, 2]
    one = (await client.call(request(0, max_bytes=1), version)).responses[0].partitions[0]
    assert [r.value for b in _batches(one.records) for r in b.records] == [b"r0"]
    end = (await client.call(request(3), version)).responses[0].partitions[0]
    assert (end.error_code, end.records) == (0, b"")
    past = (await client.call(request(4), version)).responses[0].partitions[0]
    assert past.error_code == 1
    missing = (await client.call(request(0, partition=7), version)).responses[0].partitions[0]
    assert (missing.error_code, missing.records) == (3, b"")
    if version >= 7:
        response.session_id == 0  # noqa: B015
        stale = FetchRequest(max_wait_ms=0, min_bytes=0, session_id=5, session_epoch=1, topics=[])
        assert (await client.call(stale, version)).error_code == 70


def _batches(data: bytes | None) -> list[Any]:
    assert data is not None
    out, pos = [], 0
    while pos < len(data):
        size = 12 + int.from_bytes(data[pos + 8 : pos + 12], "big")
        out.append(decode_batch(data[pos : pos + size]))
        pos += size
    return out


async def test_fetch_budget_and_first_batch_rule(connect: Connect) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="budget")]), 12)
    for p in (0, 1):
        for i in range(4):
            await client.call(produce("budget", batch(b"x" * 1000 + b"%d" % i), partition=p), 9)
    parts = [FetchPartition(partition=p, fetch_offset=0, partition_max_bytes=2500) for p in (0, 1)]
    request = FetchRequest(
        max_wait_ms=0,
        min_bytes=0,
        max_bytes=10,
        topics=[FetchTopic(topic="budget", partitions=parts)],
    )
    response = await client.call(request, 11)
    first, second = response.responses[0].partitions
    assert len(_batches(first.records)) == 1  # over budget, but at least one batch
    assert second.records == b""
    request.max_bytes = 1 << 20
    first, second = (await client.call(request, 11)).responses[0].partitions
    assert len(_batches(first.records)) == 2  # partition_max_bytes 2500 ~ two batches
    assert len(_batches(second.records)) == 2


@pytest.mark.parametrize("version", served(2))
async def test_list_offsets_every_version(connect: Connect, version: int) -> None:
    client = await connect()
    topic = f"lo-v{version}"
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name=topic)]), 12)
    base = 1_700_000_000_000
    await client.call(produce(topic, batch(b"a", b"b", timestamp=base)), 9)
    await client.call(produce(topic, batch(b"c", timestamp=base + 10_000)), 9)

    async def lookup(timestamp: int, partition: int = 0) -> Any:
        wanted = ListOffsetsPartition(partition_index=partition, timestamp=timestamp)
        request = ListOffsetsRequest(topics=[ListOffsetsTopic(name=topic, partitions=[wanted])])
        return (await client.call(request, version)).topics[0].partitions[0]

    earliest, latest = await lookup(-2), await lookup(-1)
    assert (earliest.error_code, earliest.offset, earliest.timestamp) == (0, 0, -1)
    assert (latest.offset, latest.timestamp) == (3, -1)
    by_time = await lookup(base + 1)
    assert (by_time.offset, by_time.timestamp) == (1, base + 1)
    assert (await lookup(base + 5_000)).offset == 2
    none = await lookup(base + 60_000)
    assert (none.error_code, none.offset, none.timestamp) == (0, -1, -1)
    if version >= 4:
        assert latest.leader_epoch == 0
    if version >= 7:
        newest = await lookup(-3)
        assert (newest.offset, newest.timestamp) == (2, base + 10_000)
    assert (await lookup(-1, partition=9)).error_code == 3


@pytest.mark.parametrize("version", served(10))
async def test_find_coordinator(connect: Connect, broker: EmbeddedBroker, version: int) -> None:
    client = await connect()
    me = (broker.broker.node_id, "127.0.0.1", broker.port)
    if version >= 4:
        request = FindCoordinatorRequest(key_type=0, coordinator_keys=["g1", "g2"])
        response = await client.call(request, version)
        assert [
            (c.key, c.node_id, c.host, c.port, c.error_code) for c in response.coordinators
        ] == [
            ("g1", *me, 0),
            ("g2", *me, 0),
        ]
        bad = FindCoordinatorRequest(key_type=5, coordinator_keys=["x"])
        assert (await client.call(bad, version)).coordinators[0].error_code == 42
        return
    for key_type in (0, 1) if version >= 1 else (0,):
        response = await client.call(FindCoordinatorRequest(key="g", key_type=key_type), version)
        assert (response.error_code, response.node_id, response.host, response.port) == (0, *me)
    if version >= 1:
        bad = await client.call(FindCoordinatorRequest(key="g", key_type=9), version)
        assert bad.error_code == 42


@pytest.mark.parametrize("version", served(23))
async def test_offset_for_leader_epoch(connect: Connect, version: int) -> None:
    client = await connect()
    await client.call(MetadataRequest(topics=[MetadataRequestTopic(name="epochs")]), 12)
    await client.call(produce("epochs", batch(b"a", b"b")), 9)

    async def ask(epoch: int, partition: int = 0, current: int = -1) -> Any:
        wanted = OffsetForLeaderPartition(
            partition=partition, leader_epoch=epoch, current_leader_epoch=current
        )
        request = OffsetForLeaderEpochRequest(
            replica_id=-1, topics=[OffsetForLeaderTopic(topic="epochs", partitions=[wanted])]
        )
        return (await client.call(request, version)).topics[0].partitions[0]

    zero = await ask(0, current=0)
    assert (zero.error_code, zero.leader_epoch, zero.end_offset) == (0, 0, 2)
    assert (await ask(0, partition=5)).error_code == 3
    assert (await ask(0, current=3)).error_code == 75
