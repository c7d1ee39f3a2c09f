"""The producer against the embedded broker, read back by confluent-kafka."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import (
    ConfigError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RecordTooLargeError,
)
from tidal.log.client.producer import Producer, ProducerConfig, SyncProducer
from tidal.log.protocol.errors import UnknownTopicOrPartitionError

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def test_settings() -> None:
    c = ProducerConfig.build()
    assert (c.acks_value, c.linger_ms, c.batch_size, c.idempotent) == (-1, 5, 16384, True)
    assert ProducerConfig.build(acks=1).idempotent is False
    with pytest.raises(ConfigError, match="setting 'acks'"):
        ProducerConfig.build(acks=1, enable_idempotence=True)
    with pytest.raises(ConfigError, match="setting 'compression_type'"):
        ProducerConfig.build(compression_type="brotli")
    with pytest.raises(ConfigError, match="setting 'delivery_timeout_ms'"):
        ProducerConfig.build(delivery_timeout_ms=1000)
    with pytest.raises(ConfigError, match="setting 'lingerms'"):
        Producer(lingerms=1)


@pytest.mark.parametrize("codec", CODECS)
async def test_each_codec_reads_back_in_confluent_kafka(
    broker: EmbeddedBroker, read_back: Any, codec: str
) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, compression_type=codec) as p:
        futs = [
            await p.send(
                "codec", f"value-{i}" * 20, key=f"k{i}", partition=0, headers={"h": f"{i}"}
            )
            for i in range(50)
        ]
        await p.flush()
        offsets = [(await f).offset for f in futs]
    assert offsets == list(range(50))
    got = await read_back(broker.bootstrap_servers, "codec", 50)
    assert [m.value() for m in got] == [f"value-{i}".encode() * 20 for i in range(50)]
    assert [m.key() for m in got] == [f"k{i}".encode() for i in range(50)]
    assert got[7].headers() == [("h", b"7")]


async def test_idempotent_retries_keep_order_without_duplicates(
    proxied: tuple[EmbeddedBroker, Any], read_back: Any
) -> None:
    _broker, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    async with Producer(bootstrap_servers=bootstrap, linger_ms=1, batch_size=300) as p:
        futs = [await p.send("ordered", str(i).encode()) for i in range(100)]
        await p.flush()
        proxy.drop_produce_responses = 2  # written by the broker, answer lost
        futs += [await p.send("ordered", str(i).encode()) for i in range(100, 400)]
        await p.flush()
        offsets = [(await f).offset for f in futs]
    assert proxy.dropped == 2
    assert offsets[:100] == list(range(100))
    got = await read_back(bootstrap, "ordered", 400)
    assert [int(m.value()) for m in got] == list(range(400))


async def test_without_idempotence_a_lost_answer_duplicates(
    proxied: tuple[EmbeddedBroker, Any], read_back: Any
) -> None:
    # The control experiment: the proxy really makes retries resend written batches.
    _broker, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    async with Producer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
    ) as p:
        await p.send_and_wait("dup", b"first")
        proxy.drop_produce_responses = 1
        await p.send_and_wait("dup", b"second")
    got = await read_back(bootstrap, "dup", 3)
    assert [m.value() for m in got] == [b"first", b"second", b"second"]


async def test_linger_holds_records_until_flush(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, linger_ms=60_000) as p:
        futs = [await p.send("linger", b"x", partition=0) for _ in range(10)]
        await asyncio.sleep(0.2)
        assert not any(f.done() for f in futs)
        assert len({id(f.batch) for f in futs}) == 1  # one batch
        await p.flush(timeout=5)
        assert [(await f).offset for f in futs] == list(range(10))


async def test_delivered_records_do_not_keep_their_bytes_alive(broker: EmbeddedBroker) -> None:
    """A caller may hold record futures long after delivery (a Streams app
    keeps them for its whole commit interval): the futures still answer
    their metadata, but the records' keys, values and encoded batches are
    let go once the batch is done."""
    value = b"v" * 200_000
    async with Producer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0) as p:
        await p.send_and_wait("held", b"warm-up", partition=0)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            futs = [await p.send("held", bytes(value), b"k", partition=0) for _ in range(40)]
            await p.flush(timeout=10)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        metadata = [f.result() for f in futs]
    assert [m.offset for m in metadata] == list(range(1, 41))
    # 40 values of 200 kB each: 8 MB if the batches kept them.
    assert held < 1_000_000, f"{held} bytes still held by delivered records"


async def test_full_batches_go_without_waiting_for_linger(broker: EmbeddedBroker) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers, linger_ms=60_000, batch_size=500
    ) as p:
        futs = [await p.send("full", b"y" * 100, partition=0) for _ in range(20)]
        done, _ = await asyncio.wait([asyncio.ensure_future(_wait(f)) for f in futs[:8]], timeout=5)
        assert len(done) == 8
        assert len({id(f.batch) for f in futs}) > 3


async def _wait(fut: Any) -> Any:
    return await fut


async def test_sticky_partitioner_fills_one_partition_per_batch(broker: EmbeddedBroker) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers, linger_ms=60_000, batch_size=2000
    ) as p:
        first = [await p.send("sticky", b"z" * 50) for _ in range(10)]
        assert len({f.batch.tp.partition for f in first}) == 1
        many = [await p.send("sticky", b"z" * 50) for _ in range(300)]
        await p.flush()
        parts = [(await f).partition for f in many]
    assert len(set(parts)) == 3
    switches = sum(1 for a, b in itertools.pairwise(parts) if a != b)
    assert switches < 20  # whole batches, not record by record


async def test_custom_partitioner_serializers_and_sync_wrapper(broker: EmbeddedBroker) -> None:
    def last(topic: str, key: bytes | None, all_: Sequence[int], available: Sequence[int]) -> int:
        return all_[-1]

    def run() -> Any:
        with SyncProducer(
            bootstrap_servers=broker.bootstrap_servers,
            partitioner=last,
            key_serializer=lambda k: str(k).encode(),
            value_serializer=lambda v: repr(v).encode(),
        ) as p:
            fut = p.send("custom", {"a": 1}, key=42)
            p.flush()
            return fut.result(5), p.send_and_wait("custom", [1])

    first, second = await asyncio.to_thread(run)
    assert (first.topic, first.partition, first.offset) == ("custom", 2, 0)
    assert second.offset == 1


async def test_backpressure_blocks_send_until_space(broker: EmbeddedBroker) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers,
        buffer_memory=5000,
        linger_ms=60_000,
        batch_size=100_000,
        max_block_ms=300,
    ) as p:
        for _ in range(40):
            await p.send("bp", b"v" * 100, partition=0)
        started = time.monotonic()

        async def overfill() -> None:
            for _ in range(40):
                await p.send("bp", b"v" * 100, partition=0)

        with pytest.raises(KafkaTimeoutError, match="buffer_memory"):
            await overfill()
        assert 0.25 < time.monotonic() - started < 2
        blocked = asyncio.ensure_future(p.send("bp", b"w" * 100, partition=0))
        await asyncio.sleep(0.05)
        assert not blocked.done()
        await p.flush()  # frees the buffer: the blocked send gets its space
        fut = await blocked
        await p.flush()
        assert (await fut).offset >= 40


async def test_oversized_record_fails_alone(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, max_request_size=1000) as p:
        before = await p.send("big", b"ok1", partition=0)
        with pytest.raises(RecordTooLargeError, match="max_request_size"):
            await p.send("big", b"x" * 2000, partition=0)
        after = await p.send("big", b"ok2", partition=0)
        assert [(await before).offset, (await after).offset] == [0, 1]


async def test_unknown_partition_is_named(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers) as p:
        with pytest.raises(UnknownTopicOrPartitionError, match="partition 9 of topic 'few'"):
            await p.send("few", b"x", partition=9)


async def test_delivery_times_out_on_a_dead_broker(tmp_path: Any) -> None:
    b = EmbeddedBroker(data_dir=tmp_path)
    await b.start()
    p = Producer(
        bootstrap_servers=b.bootstrap_servers,
        request_timeout_ms=500,
        delivery_timeout_ms=1500,
        linger_ms=0,
        reconnect_backoff_ms=50,
    )
    try:
        await p.start()
        await p.send_and_wait("dead", b"alive")
        await b.stop()
        started = time.monotonic()
        fut = await p.send("dead", b"lost")
        with pytest.raises(KafkaTimeoutError, match="delivery_timeout_ms"):
            await fut
        assert time.monotonic() - started < 4
    finally:
        await p.close(timeout=1)
        await b.stop()


async def test_unreachable_bootstrap_fails_within_max_block(tmp_path: Any) -> None:
    p = Producer(bootstrap_servers="127.0.0.1:1", max_block_ms=500)
    started = time.monotonic()
    with pytest.raises(KafkaConnectionError, match=r"127\.0\.0\.1:1"):
        await p.start()
    assert time.monotonic() - started < 3
    await p.close()
