"""The transactional producer against the embedded broker: commit, abort,
offsets in a transaction, many partitions, the state rules, settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import ConfigError, OffsetAndMetadata, TopicPartition
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, ConsumerGroupMetadata
from tidal.log.client.producer import (
    Producer,
    ProducerConfig,
    SyncProducer,
    TransactionAbortedError,
    TransactionState,
    TransactionStateError,
)
from tidal.log.client.producer._txn_client import TransactionClient

FAST = {"fetch_max_wait_ms": 50, "retry_backoff_ms": 20}


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    config = {"num.partitions": 3, "group.initial.rebalance.delay.ms": "0"}
    async with EmbeddedBroker(data_dir=tmp_path, config=config) as b:
        yield b


async def read_all(
    bootstrap: str, topic: str, isolation: str, *, partitions: int = 3, settle: float = 0.5
) -> list[bytes]:
    """Every value of ``topic`` a consumer with ``isolation`` reads from the
    start, in offset order per partition; stops once nothing new came for
    ``settle`` seconds."""
    got: list[bytes] = []
    async with Consumer(bootstrap_servers=bootstrap, isolation_level=isolation, **FAST) as c:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, 0)
        quiet_since = time.monotonic()
        deadline = quiet_since + 20
        while time.monotonic() - quiet_since < settle and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=100)
            for records in batch.values():
                got += [r.value for r in records]
                quiet_since = time.monotonic()
    return got


async def test_commit_is_visible_and_abort_is_not(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs, transactional_id="tx-basic") as p:
        assert p.transaction_state is TransactionState.UNINITIALIZED
        await p.init_transactions()
        assert p.transaction_state is TransactionState.READY
        p.begin_transaction()
        committed = [await p.send("t", f"c{i}", key=f"k{i}") for i in range(30)]
        await p.commit_transaction()
        assert p.transaction_state is TransactionState.READY
        offsets = [(await f).offset for f in committed]
        assert all(o >= 0 for o in offsets)

        p.begin_transaction()
        aborted = [await p.send("t", f"a{i}", key=f"k{i}") for i in range(30)]
        await p.flush()  # written to the log, then aborted
        assert all(f.result().offset >= 0 for f in aborted)
        await p.abort_transaction()

        p.begin_transaction()
        await p.send("t", "c-last", key="k0")
        await p.commit_transaction()

    read_committed = await read_all(bs, "t", "read_committed")
    assert sorted(read_committed) == sorted([f"c{i}".encode() for i in range(30)] + [b"c-last"])
    read_uncommitted = await read_all(bs, "t", "read_uncommitted")
    assert sorted(read_uncommitted) == sorted(
        [f"c{i}".encode() for i in range(30)] + [f"a{i}".encode() for i in range(30)] + [b"c-last"]
    )


async def test_records_not_sent_yet_fail_when_the_transaction_aborts(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs, transactional_id="tx-unsent", linger_ms=5000) as p:
        await p.init_transactions()
        await p.partitions_for("t")
        p.begin_transaction()
        fut = await p.send("t", "never", partition=0)
        await p.abort_transaction()
        with pytest.raises(TransactionAbortedError):
            await fut
        p.begin_transaction()  # and the producer goes on
        await p.send("t", "after", partition=0)
        await p.commit_transaction()
    assert await read_all(bs, "t", "read_uncommitted") == [b"after"]


async def test_empty_transactions_commit_and_abort(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, transactional_id="e") as p:
        await p.init_transactions()
        p.begin_transaction()
        await p.commit_transaction()
        p.begin_transaction()
        await p.abort_transaction()
        assert p.transaction_state is TransactionState.READY


async def test_state_rules(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, transactional_id="s") as p:
        with pytest.raises(TransactionStateError, match="init_transactions"):
            await p.send("t", "x")
        with pytest.raises(TransactionStateError, match="init_transactions"):
            p.begin_transaction()
        with pytest.raises(TransactionStateError):
            await p.commit_transaction()
        await p.init_transactions()
        with pytest.raises(TransactionStateError, match="already"):
            await p.init_transactions()
        with pytest.raises(TransactionStateError, match="begin_transaction"):
            await p.send("t", "x")
        with pytest.raises(TransactionStateError):
            await p.abort_transaction()
        with pytest.raises(TransactionStateError):
            await p.send_offsets_to_transaction({TopicPartition("t", 0): 1}, "g")
        p.begin_transaction()
        with pytest.raises(TransactionStateError, match="commit or abort"):
            p.begin_transaction()
        await p.commit_transaction()
        with pytest.raises(TransactionStateError):
            await p.commit_transaction()
    async with Producer(bootstrap_servers=broker.bootstrap_servers) as plain:
        assert plain.transaction_state is None
        with pytest.raises(TransactionStateError, match="transactional_id"):
            await plain.init_transactions()
        with pytest.raises(TransactionStateError, match="transactional_id"):
            plain.begin_transaction()


def test_settings() -> None:
    c = ProducerConfig.build(transactional_id="app-0")
    assert c.idempotent
    assert c.transaction_timeout_ms == 60_000
    assert ProducerConfig.build({"transactional.id": "a", "transaction.timeout.ms": 5}).idempotent
    with pytest.raises(ConfigError, match="setting 'enable_idempotence'"):
        ProducerConfig.build(transactional_id="a", enable_idempotence=False)
    with pytest.raises(ConfigError, match=r"setting 'acks'.*transactional_id"):
        ProducerConfig.build(transactional_id="a", acks=1)
    with pytest.raises(ConfigError, match="setting 'max_in_flight_requests_per_connection'"):
        ProducerConfig.build(transactional_id="a", max_in_flight_requests_per_connection=6)
    with pytest.raises(ConfigError, match="setting 'retries'"):
        ProducerConfig.build(transactional_id="a", retries=0)
    with pytest.raises(ConfigError, match="setting 'transactional_id'"):
        ProducerConfig.build(transactional_id="")
    with pytest.raises(ConfigError, match="setting 'transaction_timeout_ms'"):
        ProducerConfig.build(transactional_id="a", transaction_timeout_ms=0)


async def test_offsets_commit_with_the_transaction_and_not_on_abort(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    src = TopicPartition("in", 0)
    async with AdminClient(bootstrap_servers=bs) as admin:
        await admin.create_topics([NewTopic("in", 1, 1)])  # unknown topics are refused
    settings = {"bootstrap_servers": bs, "group_id": "g", "enable_auto_commit": False, **FAST}
    async with (
        Consumer(**settings, isolation_level="read_committed") as consumer,
        Producer(bootstrap_servers=bs, transactional_id="tx-offsets") as p,
    ):
        consumer.assign([src])
        await p.init_transactions()
        metadata = consumer.group_metadata()
        assert metadata == ConsumerGroupMetadata("g", -1, "", None)

        p.begin_transaction()
        await p.send("out", "v1")
        await p.send_offsets_to_transaction({src: OffsetAndMetadata(10, "m")}, metadata)
        await p.commit_transaction()
        assert await consumer.committed([src]) == {src: OffsetAndMetadata(10, "m")}

        p.begin_transaction()
        await p.send("out", "v2")
        await p.send_offsets_to_transaction({src: 20}, "g")
        await p.abort_transaction()
        assert (await consumer.committed([src]))[src] == OffsetAndMetadata(10, "m")

        p.begin_transaction()  # offsets only, no records
        await p.send_offsets_to_transaction({src: 30}, metadata)
        await p.commit_transaction()
        assert (await consumer.committed([src]))[src] == OffsetAndMetadata(30)
    assert await read_all(bs, "out", "read_committed") == [b"v1"]


async def test_consume_transform_produce_with_a_group_member(broker: EmbeddedBroker) -> None:
    """A subscribed consumer's generation and member id go with the offsets."""
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs) as plain:
        for i in range(20):
            await plain.send("src", f"{i}", partition=0)
        await plain.flush()
    settings = {
        "bootstrap_servers": bs,
        "group_id": "ctp",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 200,
        **FAST,
    }
    async with (
        Consumer(**settings) as consumer,
        Producer(bootstrap_servers=bs, transactional_id="ctp-0") as p,
    ):
        consumer.subscribe(["src"])
        await p.init_transactions()
        seen = 0
        deadline = time.monotonic() + 20
        while seen < 20 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=7)
            if not batch:
                continue
            metadata = consumer.group_metadata()
            assert metadata.generation_id >= 1
            assert metadata.member_id
            p.begin_transaction()
            offsets = {}
            for tp, records in batch.items():
                for r in records:
                    await p.send("dst", str(int(r.value) * 2))
                offsets[tp] = records[-1].offset + 1
                seen += len(records)
            await p.send_offsets_to_transaction(offsets, metadata)
            await p.commit_transaction()
        assert seen == 20
        tp = TopicPartition("src", 0)
        assert (await consumer.committed([tp]))[tp] == OffsetAndMetadata(20)
    out = await read_all(bs, "dst", "read_committed")
    assert sorted(int(v) for v in out) == [i * 2 for i in range(20)]


async def test_many_partitions_in_one_transaction(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    bs = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bs) as admin:
        await admin.create_topics([NewTopic("wide", 24, 1)])
    requests: list[list[TopicPartition]] = []
    add_partitions = TransactionClient.add_partitions

    async def counting(self: Any, partitions: list[TopicPartition], deadline: float) -> Any:
        requests.append(partitions)
        return await add_partitions(self, partitions, deadline)

    monkeypatch.setattr(TransactionClient, "add_partitions", counting)
    async with Producer(bootstrap_servers=bs, transactional_id="wide-tx") as p:
        await p.init_transactions()
        await p.partitions_for("wide")
        for round_ in range(3):
            p.begin_transaction()
            for i in range(24 * 5):
                await p.send("wide", f"{round_}-{i}", partition=i % 24)
            if round_ == 1:
                await p.flush()  # written, then aborted
                await p.abort_transaction()
            else:
                await p.commit_transaction()
    # each transaction added its 24 partitions in one request (sends do not yield)
    assert [len(r) for r in requests] == [24, 24, 24]
    got = await read_all(bs, "wide", "read_committed", partitions=24)
    assert sorted(got) == sorted(f"{r}-{i}".encode() for r in (0, 2) for i in range(24 * 5))


async def test_sync_producer_transactions(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers

    def run() -> None:
        with SyncProducer(bootstrap_servers=bs, transactional_id="sync-tx") as p:
            p.init_transactions()
            p.begin_transaction()
            p.send("t", b"one")
            p.send_offsets_to_transaction({TopicPartition("t", 0): 1}, "sync-group")
            p.commit_transaction()
            p.begin_transaction()
            p.send("t", b"two")
            p.abort_transaction()
            with pytest.raises(TransactionStateError):
                p.send("t", b"three")

    await asyncio.to_thread(run)
    assert await read_all(bs, "t", "read_committed") == [b"one"]


async def test_close_aborts_an_open_transaction(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    p = Producer(bootstrap_servers=bs, transactional_id="closing")
    await p.init_transactions()
    p.begin_transaction()
    await p.send_and_wait("t", "open", partition=1)
    await p.close()
    # aborted, not left open: the last stable offset moved past it at once
    async with Consumer(bootstrap_servers=bs, isolation_level="read_committed", **FAST) as c:
        tp = TopicPartition("t", 1)
        assert (await c.end_offsets([tp]))[tp] == 2  # the record and the ABORT marker
    assert await read_all(bs, "t", "read_committed") == []


async def test_a_send_waiting_for_buffer_space_when_the_transaction_ends_fails(
    broker: EmbeddedBroker,
) -> None:
    """A record must not slip into the log after its transaction ended."""
    bs = broker.bootstrap_servers
    async with Producer(
        bootstrap_servers=bs,
        transactional_id="tx-waiting",
        buffer_memory=1000,
        linger_ms=10_000,
    ) as p:
        await p.init_transactions()
        await p.partitions_for("t")
        p.begin_transaction()
        first = await p.send("t", b"x" * 600, partition=0)
        waiting = asyncio.create_task(p.send("t", b"y" * 600, partition=0))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # no buffer space until the first batch completes
        await p.commit_transaction()
        with pytest.raises(TransactionStateError, match="outside a transaction"):
            await waiting
        assert (await first).offset == 0
    assert await read_all(bs, "t", "read_uncommitted") == [b"x" * 600]


async def test_offsets_pending_in_a_transaction_are_unstable_until_it_commits(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    tp = TopicPartition("in", 0)
    async with AdminClient(bootstrap_servers=bs) as admin:
        await admin.create_topics([NewTopic("in", 1, 1)])
    async with (
        Producer(bootstrap_servers=bs, transactional_id="tx-pending") as p,
        Consumer(bootstrap_servers=bs, group_id="pending", isolation_level="read_committed") as c,
    ):
        await p.init_transactions()
        p.begin_transaction()
        await p.send_offsets_to_transaction({tp: 7}, "pending")
        fetch = asyncio.create_task(c.committed([tp]))  # UNSTABLE_OFFSET_COMMIT, retried
        await asyncio.sleep(0.5)
        assert not fetch.done()
        await p.commit_transaction()
        assert (await asyncio.wait_for(fetch, 10))[tp] == OffsetAndMetadata(7)
