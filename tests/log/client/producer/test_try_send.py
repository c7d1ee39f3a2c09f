"""``Producer.try_send``: queue a record without awaiting, or answer ``None``
and queue nothing when :meth:`send` would have waited (not started, unknown
topic, no buffer space), with every other guarantee of ``send``: order per
partition, backpressure, the named errors, transactions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import (
    ClientClosedError,
    KafkaTimeoutError,
    RecordTooLargeError,
    TopicPartition,
)
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import (
    DefaultPartitioner,
    Producer,
    RecordFuture,
    TransactionStateError,
    murmur2_partition,
)
from tidal.log.protocol.errors import UnknownTopicOrPartitionError


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    config = {"num.partitions": 3, "group.initial.rebalance.delay.ms": "0"}
    async with EmbeddedBroker(data_dir=tmp_path, config=config) as b:
        yield b


async def read_values(
    bootstrap: str, topic: str, *, isolation: str = "read_uncommitted", partitions: int = 3
) -> dict[int, list[bytes]]:
    """Every value of ``topic`` per partition, in offset order, once nothing
    new came for half a second."""
    got: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
    async with Consumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, fetch_max_wait_ms=50
    ) as c:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, 0)
        quiet_since = time.monotonic()
        deadline = quiet_since + 20
        while time.monotonic() - quiet_since < 0.5 and time.monotonic() < deadline:
            for tp, records in (await c.getmany(timeout_ms=100)).items():
                got[tp.partition] += [r.value for r in records if r.value is not None]
                quiet_since = time.monotonic()
    return got


async def send_all(
    p: Producer, topic: str, values: list[bytes], partition: int
) -> list[RecordFuture]:
    """The documented loop: ``try_send``, and ``send`` for a record it refused."""
    futs = []
    for v in values:
        fut = p.try_send(topic, v, partition=partition)
        if fut is None:
            fut = await p.send(topic, v, partition=partition)
        futs.append(fut)
    return futs


async def test_queues_without_awaiting_in_order_with_send(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, linger_ms=60_000) as p:
        await p.send("ordered", b"first", partition=1)
        await p.flush(timeout=10)
        futs = []
        for i in range(200):
            if i % 50 == 0:  # send and try_send interleaved keep one order
                futs.append(await p.send("ordered", b"s%d" % i, partition=1))
            else:
                fut = p.try_send("ordered", b"t%d" % i, partition=1)
                assert isinstance(fut, RecordFuture)
                futs.append(fut)
        assert not any(f.done() for f in futs)  # queued, not sent: linger holds them
        await p.flush(timeout=10)
        assert [(await f).offset for f in futs] == list(range(1, 201))
    values = await read_values(broker.bootstrap_servers, "ordered")
    assert values[1][1:] == [(b"s%d" if i % 50 == 0 else b"t%d") % i for i in range(200)]


async def test_keys_go_to_their_murmur2_partition(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers) as p:
        await p.send_and_wait("keyed", b"warm-up", key=b"k")
        keys = [f"user-{i}".encode() for i in range(60)]
        futs = [
            p.try_send("keyed", b"v", key=k, timestamp_ms=1_000 + i) for i, k in enumerate(keys)
        ]
        assert all(f is not None for f in futs)
        metadata = [await f for f in futs if f is not None]
    assert [m.partition for m in metadata] == [murmur2_partition(k, 3) for k in keys]
    assert [m.timestamp for m in metadata] == [1_000 + i for i in range(60)]


async def test_none_before_start_and_for_an_unknown_topic(broker: EmbeddedBroker) -> None:
    p = Producer(bootstrap_servers=broker.bootstrap_servers)
    try:
        assert p.try_send("fresh", b"x", partition=0) is None  # not started: send starts it
        futs = await send_all(p, "fresh", [b"a", b"b", b"c"], partition=0)
        used = p._acc.used_memory
        assert p.try_send("other", b"x") is None  # no metadata for it yet
        assert p._acc.used_memory == used
        assert "other" not in {tp.topic for tp in p._acc.batches}
        futs += await send_all(p, "fresh", [b"d"], partition=0)
        assert [(await f).offset for f in futs] == [0, 1, 2, 3]
    finally:
        await p.close()
    values = await read_values(broker.bootstrap_servers, "fresh")
    assert values[0] == [b"a", b"b", b"c", b"d"]


async def test_a_full_buffer_answers_none_and_queues_nothing(broker: EmbeddedBroker) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers,
        buffer_memory=5000,
        linger_ms=60_000,
        batch_size=100_000,
        max_block_ms=300,
    ) as p:
        await p.partitions_for("bp")
        accepted = []
        while (fut := p.try_send("bp", b"v" * 100, partition=0)) is not None:
            accepted.append(fut)
        assert 30 < len(accepted) < 50
        used = p._acc.used_memory
        assert p.try_send("bp", b"v" * 100, partition=0) is None
        assert p._acc.used_memory == used
        assert len(accepted[0].batch.timestamps) == len(accepted)
        with pytest.raises(KafkaTimeoutError, match="buffer_memory"):
            await p.send("bp", b"v" * 100, partition=0)  # what None stood for
        # A send waiting for space goes first: try_send does not overtake it,
        # even for a record small enough to fit.
        blocked = asyncio.ensure_future(p.send("bp", b"w" * 900, partition=0))
        await asyncio.sleep(0.05)
        assert p.try_send("bp", b"", partition=0) is None
        await p.flush()
        fut = await blocked
        after = p.try_send("bp", b"last", partition=0)
        assert after is not None
        await p.flush()
        offsets = [(await f).offset for f in [*accepted, fut, after]]
    assert offsets == list(range(len(accepted) + 2))


async def test_errors_are_those_of_send(broker: EmbeddedBroker) -> None:
    p = Producer(bootstrap_servers=broker.bootstrap_servers, max_request_size=1000)
    await p.start()
    try:
        await p.partitions_for("few")
        with pytest.raises(RecordTooLargeError, match="max_request_size"):
            p.try_send("few", b"x" * 2000, partition=0)
        with pytest.raises(UnknownTopicOrPartitionError, match="partition 9 of topic 'few'"):
            p.try_send("few", b"x", partition=9)
        with pytest.raises(TypeError, match="value must be bytes or str"):
            p.try_send("few", 42, partition=0)
        assert p._acc.used_memory == 0  # nothing reserved by a refusal
    finally:
        await p.close()
    with pytest.raises(ClientClosedError, match="closed"):
        p.try_send("few", b"x", partition=0)


async def test_transactions_take_records_from_try_send(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs, transactional_id="tx-try") as p:
        with pytest.raises(TransactionStateError, match="init_transactions"):
            p.try_send("tx", b"x", partition=0)
        await p.init_transactions()
        await p.partitions_for("tx")
        with pytest.raises(TransactionStateError, match="begin_transaction"):
            p.try_send("tx", b"x", partition=0)
        # Each partition first appears in the transaction through try_send:
        # it is added to the transaction before its batch goes out.
        p.begin_transaction()
        committed = [p.try_send("tx", b"c%d" % i, partition=i % 3) for i in range(30)]
        await p.commit_transaction()
        assert all(f is not None and f.result().offset >= 0 for f in committed)
        p.begin_transaction()
        aborted = [p.try_send("tx", b"a%d" % i, partition=i % 3) for i in range(30)]
        await p.flush()
        await p.abort_transaction()
        assert all(f is not None and f.result().offset >= 0 for f in aborted)
    visible = await read_values(bs, "tx", isolation="read_committed")
    assert visible == {q: [b"c%d" % i for i in range(q, 30, 3)] for q in range(3)}
    everything = await read_values(bs, "tx")
    assert sum(len(v) for v in everything.values()) == 60


async def test_a_partitioner_subclass_is_asked_for_every_keyed_record(
    broker: EmbeddedBroker,
) -> None:
    """Keyed records skip the call to the built-in partitioners (their answer
    is murmur2's), never to a subclass that may answer otherwise."""

    class Last(DefaultPartitioner):
        calls = 0

        def __call__(
            self, topic: str, key: bytes | None, all_: Sequence[int], available: Sequence[int]
        ) -> int:
            Last.calls += 1
            return all_[-1]

    async with Producer(bootstrap_servers=broker.bootstrap_servers, partitioner=Last()) as p:
        await p.partitions_for("sub")
        futs = [p.try_send("sub", b"v", key=b"k%d" % i) for i in range(20)]
        futs.append(await p.send("sub", b"v", key=b"k"))
        metadata = [await f for f in futs if f is not None]
    assert Last.calls == 21
    assert {m.partition for m in metadata} == {2}
