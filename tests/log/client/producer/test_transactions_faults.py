"""Transactions through lost Produce answers: the retried batches are
written once (idempotence holds inside transactions), and read_committed
readers see every committed record exactly once, in order; a broker restart
in the middle of a transaction."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.producer import Producer

from .test_transactions import read_all


async def test_lost_produce_answers_inside_transactions(
    proxied: tuple[EmbeddedBroker, Any],
) -> None:
    _broker, proxy = proxied
    bootstrap = f"127.0.0.1:{proxy.port}"
    expected: list[bytes] = []
    everything: list[bytes] = []
    async with Producer(
        bootstrap_servers=bootstrap,
        transactional_id="lossy",
        linger_ms=1,
        batch_size=300,
        retry_backoff_ms=10,
    ) as p:
        await p.init_transactions()
        for txn in range(12):
            p.begin_transaction()
            values = [f"{txn}-{i}".encode() for i in range(60)]
            for value in values[:20]:
                await p.send("ordered", value)
            await p.flush()
            if txn % 3 == 0:
                proxy.drop_produce_responses = 2  # written by the broker, answer lost
            for value in values[20:]:
                await p.send("ordered", value)
            everything += values
            if txn % 4 == 3:
                await p.flush()
                await p.abort_transaction()
            else:
                await p.commit_transaction()
                expected += values
    assert proxy.dropped == 8
    assert await read_all(bootstrap, "ordered", "read_committed", partitions=1) == expected
    assert await read_all(bootstrap, "ordered", "read_uncommitted", partitions=1) == everything


async def test_a_broker_restart_in_the_middle_of_a_transaction(tmp_path: Path) -> None:
    """The coordinator reloads the open transaction from __transaction_state;
    the producer reconnects and commits it, and the next one goes on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"num.partitions": 2}
    bootstrap = f"127.0.0.1:{port}"
    broker = EmbeddedBroker(data_dir=tmp_path, config=config, port=port)
    await broker.start()
    try:
        async with Producer(
            bootstrap_servers=bootstrap,
            transactional_id="survivor",
            retry_backoff_ms=20,
            reconnect_backoff_ms=20,
        ) as p:
            await p.init_transactions()
            p.begin_transaction()
            for i in range(10):
                await p.send("t", f"first-{i}", partition=i % 2)
            await p.flush()
            await broker.stop()
            broker = EmbeddedBroker(data_dir=tmp_path, config=config, port=port)
            await broker.start()
            await p.commit_transaction()
            p.begin_transaction()
            for i in range(10):
                await p.send("t", f"second-{i}", partition=i % 2)
            await p.commit_transaction()
        got = await read_all(bootstrap, "t", "read_committed", partitions=2)
        assert sorted(got) == sorted(
            [f"first-{i}".encode() for i in range(10)] + [f"second-{i}".encode() for i in range(10)]
        )
    finally:
        await broker.stop()
