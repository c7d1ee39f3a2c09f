"""Transactional failures on the embedded broker: zombies fenced by a newer
instance, transactions the coordinator timed out, a crashed producer's open
transaction aborted by its successor, abortable errors recovered by abort."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import TopicPartition
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import (
    Producer,
    ProducerFencedError,
    TransactionAbortableError,
    TransactionAbortedError,
    TransactionState,
)
from tidal.log.protocol.errors import InvalidTransactionTimeoutError, MessageTooLargeError

from .test_transactions import FAST, read_all


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    config = {
        "num.partitions": 3,
        # the coordinator looks for timed-out transactions this often
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "100",
    }
    async with EmbeddedBroker(data_dir=tmp_path, config=config) as b:
        yield b


async def test_a_zombie_is_fenced_at_commit(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    old = Producer(bootstrap_servers=bs, transactional_id="app-0")
    new = Producer(bootstrap_servers=bs, transactional_id="app-0")
    try:
        await old.init_transactions()
        old.begin_transaction()
        await old.send_and_wait("t", "zombie", partition=0)
        await new.init_transactions()  # bumps the epoch and aborts old's transaction
        new.begin_transaction()
        await new.send("t", "fresh", partition=0)
        with pytest.raises(ProducerFencedError):
            await old.commit_transaction()
        assert old.transaction_state is TransactionState.FATAL_ERROR
        # every later call raises the same
        with pytest.raises(ProducerFencedError):
            old.begin_transaction()
        with pytest.raises(ProducerFencedError):
            await old.send("t", "more")
        with pytest.raises(ProducerFencedError):
            await old.abort_transaction()
        await new.commit_transaction()
    finally:
        await old.close()
        await new.close()
    assert await read_all(bs, "t", "read_committed") == [b"fresh"]
    assert await read_all(bs, "t", "read_uncommitted") == [b"zombie", b"fresh"]


async def test_a_zombie_is_fenced_on_its_next_send(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    old = Producer(bootstrap_servers=bs, transactional_id="app-1")
    new = Producer(bootstrap_servers=bs, transactional_id="app-1")
    try:
        await old.init_transactions()
        old.begin_transaction()
        await old.send_and_wait("t", "first", partition=0)
        await new.init_transactions()
        # to a partition already in the transaction: the Produce is fenced
        with pytest.raises(ProducerFencedError):
            await old.send_and_wait("t", "second", partition=0)
        assert old.transaction_state is TransactionState.FATAL_ERROR
        with pytest.raises(ProducerFencedError):
            await old.commit_transaction()
    finally:
        await old.close()
        await new.close()
    assert await read_all(bs, "t", "read_committed") == []


async def test_a_zombie_is_fenced_adding_a_partition(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    old = Producer(bootstrap_servers=bs, transactional_id="app-2")
    new = Producer(bootstrap_servers=bs, transactional_id="app-2")
    try:
        await old.init_transactions()
        await new.init_transactions()
        old.begin_transaction()
        with pytest.raises(ProducerFencedError):  # AddPartitionsToTxn answers PRODUCER_FENCED
            await old.send_and_wait("t", "never", partition=2)
        with pytest.raises(ProducerFencedError):
            await old.commit_transaction()
    finally:
        await old.close()
        await new.close()
    assert await read_all(bs, "t", "read_uncommitted") == []


async def test_the_coordinator_aborts_a_transaction_that_timed_out(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    async with Producer(
        bootstrap_servers=bs, transactional_id="slow", transaction_timeout_ms=300
    ) as p:
        await p.init_transactions()
        p.begin_transaction()
        await p.send_and_wait("t", "late", partition=0)
        await asyncio.sleep(1.5)
        with pytest.raises(ProducerFencedError, match="transaction_timeout_ms"):
            await p.commit_transaction()
    assert await read_all(bs, "t", "read_committed") == []
    async with Consumer(bootstrap_servers=bs, isolation_level="read_committed", **FAST) as c:
        tp = TopicPartition("t", 0)
        assert (await c.end_offsets([tp]))[tp] == 2  # the record and the ABORT marker


async def test_a_restarted_producer_aborts_what_its_crashed_predecessor_left_open(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    crashing = textwrap.dedent(
        f"""
        import os
        from tidal.log.client.producer import SyncProducer

        p = SyncProducer(bootstrap_servers={bs!r}, transactional_id="crashy")
        p.init_transactions()
        p.begin_transaction()
        for i in range(10):
            p.send("t", f"lost-{{i}}".encode(), partition=i % 3)
        p.flush()
        os._exit(0)  # no abort, no close: as if the process was killed
        """
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", crashing], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert len(await read_all(bs, "t", "read_uncommitted")) == 10
    async with Consumer(bootstrap_servers=bs, isolation_level="read_committed", **FAST) as c:
        stuck = await c.end_offsets([TopicPartition("t", p) for p in range(3)])
        assert set(stuck.values()) == {0}  # the open transaction holds the LSO
    async with Producer(bootstrap_servers=bs, transactional_id="crashy") as p:
        await p.init_transactions()  # aborts the open transaction first
        p.begin_transaction()
        for i in range(3):
            await p.send("t", f"kept-{i}", partition=i)
        await p.commit_transaction()
    got = await read_all(bs, "t", "read_committed")
    assert sorted(got) == [b"kept-0", b"kept-1", b"kept-2"]


async def test_an_abortable_error_is_recovered_by_abort(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bs) as admin:
        await admin.create_topics([NewTopic("small", 1, 1, {"max.message.bytes": "2000"})])
    async with Producer(bootstrap_servers=bs, transactional_id="recover", linger_ms=50) as p:
        await p.init_transactions()
        p.begin_transaction()
        ok = await p.send("small", "fits")
        other = await p.send("t", "fits too", partition=0)
        big = await p.send("small", b"x" * 5000)  # the broker refuses its batch
        with pytest.raises(TransactionAbortableError) as info:
            await p.commit_transaction()
        assert isinstance(info.value.__cause__, MessageTooLargeError)
        assert p.transaction_state is TransactionState.ABORTABLE_ERROR
        with pytest.raises(MessageTooLargeError):
            await big
        with pytest.raises(TransactionAbortableError):
            await p.send("t", "refused")
        with pytest.raises(TransactionAbortableError):
            p.begin_transaction()
        await p.abort_transaction()  # also bumps the epoch: sequences start again
        assert p.transaction_state is TransactionState.READY
        expected = (TransactionAbortedError, MessageTooLargeError)
        for fut in (ok, other):  # written (in the aborted transaction) or failed as aborted
            assert fut.done()
            assert fut.exception() is None or isinstance(fut.exception(), expected)
        p.begin_transaction()
        await p.send("small", "after")
        await p.send("t", "after", partition=0)
        await p.commit_transaction()
    assert await read_all(bs, "small", "read_committed", partitions=1) == [b"after"]
    assert await read_all(bs, "t", "read_committed") == [b"after"]


async def test_a_transaction_timeout_above_the_broker_maximum_is_fatal(
    broker: EmbeddedBroker,
) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers,
        transactional_id="too-long",
        transaction_timeout_ms=3_600_000,
    ) as p:
        with pytest.raises(InvalidTransactionTimeoutError):
            await p.init_transactions()
        assert p.transaction_state is TransactionState.FATAL_ERROR
        with pytest.raises(InvalidTransactionTimeoutError):
            p.begin_transaction()
