"""Tidal's transactional producer against a real Apache Kafka broker (JVM):
commit and abort seen by read_committed readers (ours and confluent-kafka's),
offsets in a transaction, and a zombie fenced by a newer instance."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from tidal.log.client import OffsetAndMetadata, TopicPartition
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import Producer, ProducerFencedError, TransactionState

pytestmark = pytest.mark.kafka

FAST = {"fetch_max_wait_ms": 100, "retry_backoff_ms": 50}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _create(bootstrap: str, *topics: tuple[str, int]) -> None:
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(t, n, 1) for t, n in topics])


async def _read(bootstrap: str, topic: str, partitions: int, isolation: str) -> list[bytes]:
    got: list[bytes] = []
    async with Consumer(bootstrap_servers=bootstrap, isolation_level=isolation, **FAST) as c:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, 0)
        quiet_since = time.monotonic()
        deadline = quiet_since + 30
        while time.monotonic() - quiet_since < 1.5 and time.monotonic() < deadline:
            for records in (await c.getmany(timeout_ms=200)).values():
                got += [r.value for r in records]
                quiet_since = time.monotonic()
    return got


def _confluent_read(bootstrap: str, topic: str, partitions: int, isolation: str) -> list[bytes]:
    from confluent_kafka import Consumer as CKConsumer  # noqa: PLC0415 - optional peer
    from confluent_kafka import TopicPartition as CKTopicPartition  # noqa: PLC0415

    consumer = CKConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "oracle",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.assign([CKTopicPartition(topic, p, 0) for p in range(partitions)])
    got: list[bytes] = []
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < 3:
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            got.append(msg.value())
            quiet_since = time.monotonic()
    finally:
        consumer.close()
    return got


async def test_commit_and_abort_against_kafka(kafka_jvm: Any) -> None:
    bs = kafka_jvm.bootstrap_servers
    topic = _name("tidal-txn")
    await _create(bs, (topic, 4))
    async with Producer(bootstrap_servers=bs, transactional_id=_name("tx")) as p:
        await p.init_transactions()
        for round_ in range(4):
            p.begin_transaction()
            for i in range(100):
                await p.send(topic, f"{round_}-{i}", key=f"k{i}")
            if round_ % 2:
                await p.flush()
                await p.abort_transaction()
            else:
                await p.commit_transaction()
    expected = sorted(f"{r}-{i}".encode() for r in (0, 2) for i in range(100))
    assert sorted(await _read(bs, topic, 4, "read_committed")) == expected
    assert len(await _read(bs, topic, 4, "read_uncommitted")) == 400
    pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")
    oracle = await asyncio.to_thread(_confluent_read, bs, topic, 4, "read_committed")
    assert sorted(oracle) == expected


async def test_offsets_in_a_transaction_against_kafka(kafka_jvm: Any) -> None:
    bs = kafka_jvm.bootstrap_servers
    src, dst, group = _name("src"), _name("dst"), _name("group")
    await _create(bs, (src, 1), (dst, 1))
    tp = TopicPartition(src, 0)
    async with (
        Producer(bootstrap_servers=bs, transactional_id=_name("tx")) as p,
        Consumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False, **FAST) as c,
    ):
        c.assign([tp])
        await p.init_transactions()
        p.begin_transaction()
        await p.send(dst, "out-1")
        await p.send_offsets_to_transaction({tp: OffsetAndMetadata(5, "m")}, c.group_metadata())
        await p.commit_transaction()
        assert await c.committed([tp]) == {tp: OffsetAndMetadata(5, "m")}
        p.begin_transaction()
        await p.send(dst, "out-2")
        await p.send_offsets_to_transaction({tp: 9}, c.group_metadata())
        await p.abort_transaction()
        assert (await c.committed([tp]))[tp] == OffsetAndMetadata(5, "m")
    assert await _read(bs, dst, 1, "read_committed") == [b"out-1"]


async def test_a_zombie_is_fenced_by_kafka(kafka_jvm: Any) -> None:
    bs = kafka_jvm.bootstrap_servers
    topic, tid = _name("fence"), _name("tx")
    await _create(bs, (topic, 1))
    old = Producer(bootstrap_servers=bs, transactional_id=tid)
    new = Producer(bootstrap_servers=bs, transactional_id=tid)
    try:
        await old.init_transactions()
        old.begin_transaction()
        await old.send_and_wait(topic, "zombie")
        await new.init_transactions()  # Kafka aborts old's transaction, bumps the epoch
        with pytest.raises(ProducerFencedError):
            await old.send_and_wait(topic, "late")
        with pytest.raises(ProducerFencedError):
            await old.commit_transaction()
        assert old.transaction_state is TransactionState.FATAL_ERROR
        new.begin_transaction()
        await new.send(topic, "fresh")
        await new.commit_transaction()
    finally:
        await old.close()
        await new.close()
    assert await _read(bs, topic, 1, "read_committed") == [b"fresh"]


async def test_a_timed_out_transaction_is_aborted_and_fenced_by_kafka(kafka_jvm: Any) -> None:
    """Kafka looks for timed-out transactions every 10 s
    (``transaction.abort.timed.out.transaction.cleanup.interval.ms``)."""
    bs = kafka_jvm.bootstrap_servers
    topic = _name("timeout")
    await _create(bs, (topic, 1))
    async with Producer(
        bootstrap_servers=bs, transactional_id=_name("tx"), transaction_timeout_ms=1000
    ) as p:
        await p.init_transactions()
        p.begin_transaction()
        await p.send_and_wait(topic, "expired")
        await asyncio.sleep(13)
        with pytest.raises(ProducerFencedError, match="transaction_timeout_ms"):
            await p.commit_transaction()
    assert await _read(bs, topic, 1, "read_committed") == []
    assert await _read(bs, topic, 1, "read_uncommitted") == [b"expired"]
