"""Transactions through lost Produce answers: the retried batches are
written once (idempotence holds inside transactions), and read_committed
readers see every committed record exactly once, in order."""

from __future__ import annotations

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
