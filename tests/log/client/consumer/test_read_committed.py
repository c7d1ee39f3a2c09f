"""``isolation_level="read_committed"`` over sockets: the consumer returns
committed and non-transactional records only, never control records, stops
at the last stable offset, and agrees with confluent-kafka's consumer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import TopicPartition
from tidal.log.client.consumer import Consumer, ConsumerConfig, ConsumerRecord
from tidal.log.client.producer import Producer

FAST = {"fetch_max_wait_ms": 50, "retry_backoff_ms": 20}
TP = TopicPartition("t", 0)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 1}) as b:
        yield b


async def consume(
    bootstrap: str, isolation: str, *, settle: float = 0.5, **settings: Any
) -> tuple[list[ConsumerRecord], int]:
    """Records of ``t-0`` from offset 0 until nothing new came for ``settle``
    seconds, and the consumer's position then."""
    got: list[ConsumerRecord] = []
    async with Consumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, **FAST, **settings
    ) as c:
        c.assign([TP])
        c.seek(TP, 0)
        quiet_since = time.monotonic()
        deadline = quiet_since + 20
        while time.monotonic() - quiet_since < settle and time.monotonic() < deadline:
            for records in (await c.getmany(timeout_ms=100)).values():
                got += records
                quiet_since = time.monotonic()
        return got, await c.position(TP)


async def interleaved_history(bootstrap: str) -> list[bytes]:
    """Two transactional producers and a plain one writing into the same
    partition with their transactions interleaved; the values a
    read_committed reader must see, in offset order."""
    committed: list[tuple[int, bytes]] = []
    async with (
        Producer(bootstrap_servers=bootstrap, transactional_id="a") as a,
        Producer(bootstrap_servers=bootstrap, transactional_id="b") as b,
        Producer(bootstrap_servers=bootstrap) as plain,
    ):
        await a.init_transactions()
        await b.init_transactions()
        for round_ in range(4):
            a.begin_transaction()
            b.begin_transaction()
            written: list[tuple[bool, str, Any]] = []
            for i in range(5):
                written.append(
                    (True, f"a{round_}-{i}", await a.send("t", f"a{round_}-{i}", partition=0))
                )
                written.append(
                    (
                        round_ % 2 == 0,
                        f"b{round_}-{i}",
                        await b.send("t", f"b{round_}-{i}", partition=0),
                    )
                )
                await a.flush()
                await b.flush()
                written.append(
                    (True, f"p{round_}-{i}", await plain.send("t", f"p{round_}-{i}", partition=0))
                )
                await plain.flush()
            await a.commit_transaction()
            if round_ % 2 == 0:
                await b.commit_transaction()
            else:
                await b.abort_transaction()
            for keep, value, fut in written:
                if keep:
                    committed.append(((await fut).offset, value.encode()))
    return [v for _, v in sorted(committed)]


async def test_aborted_and_control_records_are_never_returned(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    expected = await interleaved_history(bs)
    assert len(expected) == 4 * 5 * 2 + 2 * 5
    got, position = await consume(bs, "read_committed")
    assert [r.value for r in got] == expected
    offsets = [r.offset for r in got]
    assert offsets == sorted(offsets)
    async with Consumer(bootstrap_servers=bs, **FAST) as c:
        end = (await c.end_offsets([TP]))[TP]
    assert position == end  # past the last markers
    # 4 rounds x (a: COMMIT, b: COMMIT or ABORT) markers take offsets of their own
    assert end == 4 * 5 * 3 + 8

    everything, _ = await consume(bs, "read_uncommitted")
    assert len(everything) == 4 * 5 * 3  # data of aborted transactions, still no markers
    assert set(offsets) <= {r.offset for r in everything}  # data offsets, not markers


async def test_small_fetches_keep_filtering_across_responses(broker: EmbeddedBroker) -> None:
    """One batch per fetch: each response lists the aborted transactions
    overlapping it, so an aborted transaction split over many fetches stays hidden."""
    bs = broker.bootstrap_servers
    expected = await interleaved_history(bs)
    got, _ = await consume(bs, "read_committed", max_partition_fetch_bytes=1, fetch_max_bytes=1)
    assert [r.value for r in got] == expected


async def test_an_open_transaction_holds_read_committed_at_its_first_offset(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    async with (
        Producer(bootstrap_servers=bs, transactional_id="open") as txn,
        Producer(bootstrap_servers=bs) as plain,
    ):
        await plain.send_and_wait("t", "before", partition=0)
        await txn.init_transactions()
        txn.begin_transaction()
        await txn.send_and_wait("t", "pending", partition=0)
        await plain.send_and_wait("t", "after", partition=0)
        async with Consumer(bootstrap_servers=bs, isolation_level="read_committed", **FAST) as c:
            assert (await c.end_offsets([TP]))[TP] == 1  # the last stable offset
        got, position = await consume(bs, "read_committed", settle=0.3)
        assert ([r.value for r in got], position) == ([b"before"], 1)
        uncommitted, _ = await consume(bs, "read_uncommitted", settle=0.3)
        assert [r.value for r in uncommitted] == [b"before", b"pending", b"after"]
        await txn.commit_transaction()
    got, position = await consume(bs, "read_committed")
    assert [r.value for r in got] == [b"before", b"pending", b"after"]
    assert position == 4


async def test_a_transaction_with_only_aborted_data_moves_the_position(
    broker: EmbeddedBroker,
) -> None:
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs, transactional_id="gone") as p:
        await p.init_transactions()
        p.begin_transaction()
        for i in range(10):
            await p.send("t", f"x{i}", partition=0)
        await p.flush()
        await p.abort_transaction()
    got, position = await consume(bs, "read_committed")
    assert got == []
    assert position == 11  # ten records and the ABORT marker


def test_read_uncommitted_stays_the_default() -> None:
    assert ConsumerConfig.build().isolation_level == "read_uncommitted"
    assert ConsumerConfig.build(isolation_level="read_committed").isolation.wire == 1


def _confluent_values(bootstrap: str, isolation: str) -> list[bytes]:
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
    consumer.assign([CKTopicPartition("t", 0, 0)])
    got: list[bytes] = []
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < 1.5:
            msg = consumer.poll(0.1)
            if msg is None or msg.error() is not None:
                continue
            got.append(msg.value())
            quiet_since = time.monotonic()
    finally:
        consumer.close()
    return got


async def test_confluent_kafka_reads_what_we_committed(broker: EmbeddedBroker) -> None:
    pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")
    bs = broker.bootstrap_servers
    expected = await interleaved_history(bs)
    committed = await asyncio.to_thread(_confluent_values, bs, "read_committed")
    assert committed == expected
    everything = await asyncio.to_thread(_confluent_values, bs, "read_uncommitted")
    assert len(everything) == 4 * 5 * 3
