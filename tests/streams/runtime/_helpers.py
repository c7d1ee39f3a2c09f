"""Shared pieces of the runtime tests: fast settings, topics, produce, read back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.streams.runtime._topology import INPUT, CountTopology, open_file_store
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, ConsumerRecord, OffsetAndMetadata, TopicPartition
from tidal.log.client.producer import Producer
from tidal.streams.runtime import App

BROKER_CONFIG = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
}

#: Consumer settings that keep group changes quick.
FAST_CONSUMER = {
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 100,
    "max_poll_interval_ms": 10000,
    "fetch_max_wait_ms": 100,
}
FAST_CLIENT = {"retry_backoff_ms": 20, "retry_backoff_max_ms": 200}


def count_app(
    bootstrap: str | None,
    state_dir: Path,
    app_id: str = "wc",
    *,
    fail_on: bytes | None = b"boom",
    **kwargs: Any,
) -> App:
    """An App running :class:`CountTopology` with quick settings."""
    kwargs.setdefault("commit_interval_ms", 200)
    return App(
        app_id,
        bootstrap,
        state_dir=state_dir,
        topology=CountTopology(app_id, fail_on),
        store_opener=open_file_store,
        client_config=FAST_CLIENT,
        consumer_config=FAST_CONSUMER,
        **kwargs,
    )


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(name, num_partitions=partitions)])


async def produce(
    bootstrap: str, records: Sequence[tuple[bytes | None, bytes]], topic: str = INPUT
) -> None:
    """Send ``(key, value)`` records, keyed partitioning, and wait for the acks."""
    async with Producer(bootstrap_servers=bootstrap, linger_ms=0) as producer:
        futures = [await producer.send(topic, value, key) for key, value in records]
        await producer.flush()
        for fut in futures:
            await fut


async def read_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Every record of ``topic`` once at least ``expected`` are there."""
    async with Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as consumer:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        out: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            out += [r for records in batch.values() for r in records]
        return out


async def read_to_end(bootstrap: str, topic: str, timeout: float = 20.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its current end offsets."""
    async with Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as consumer:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            positions = {tp: await consumer.position(tp) for tp in ends}
            if all(positions[tp] >= end for tp, end in ends.items()):
                break
            batch = await consumer.getmany(timeout_ms=200)
            out += [r for records in batch.values() for r in records]
        return out


async def _partitions(consumer: Consumer, topic: str) -> list[TopicPartition]:
    async with AdminClient(bootstrap_servers=consumer.config.bootstrap_servers) as admin:
        # The app under test may not have created the topic yet.
        await wait_for(lambda: _exists(admin, topic), timeout=30, what=f"topic '{topic}' to exist")
        described = await admin.describe_topics([topic])
    return [TopicPartition(topic, p.partition) for p in described[topic].partitions]


async def _exists(admin: AdminClient, topic: str) -> bool:
    return topic in await admin.list_topics()


async def committed(
    bootstrap: str, group: str, topic: str = INPUT
) -> dict[TopicPartition, OffsetAndMetadata]:
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        offsets = await admin.list_group_offsets(group)
    return {tp: om for tp, om in offsets.items() if tp.topic == topic}


def latest_counts(records: Sequence[ConsumerRecord]) -> dict[bytes, int]:
    """The last count sent per word."""
    out: dict[bytes, int] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert r.key is not None
        assert r.value is not None
        out[r.key] = int(r.value)
    return out


async def wait_for(predicate: Any, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``predicate()`` (sync or async) every 50 ms until true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
