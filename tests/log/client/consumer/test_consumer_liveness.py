"""A member that stops polling or heartbeating loses its partitions; a pattern
subscription picks up new topics; the synchronous wrapper.

All against the embedded broker, with timeouts small enough to expire in a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, SyncConsumer, TopicPartition

TOPIC = "events"
PARTITIONS = 3


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, PARTITIONS)
        yield b.bootstrap_servers


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def poll_until(
    consumer: Consumer, predicate: Callable[[], bool], timeout: float = 20
) -> None:
    """Keep polling (so the poll timer never runs out) until ``predicate``."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await consumer.getmany(timeout_ms=50)


async def poll_for(consumer: Consumer, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await consumer.getmany(timeout_ms=50)


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[str, set[TopicPartition]]] = []

    def on_partitions_assigned(self, parts: set[TopicPartition]) -> None:
        self.calls.append(("assigned", parts))

    def on_partitions_revoked(self, parts: set[TopicPartition]) -> None:
        self.calls.append(("revoked", parts))

    def on_partitions_lost(self, parts: set[TopicPartition]) -> None:
        self.calls.append(("lost", parts))

    def names(self) -> list[str]:
        return [name for name, parts in self.calls if parts]


def member(bootstrap: str, **extra: object) -> Consumer:
    settings: dict[str, object] = {
        **FAST,
        "group_id": "live",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        **extra,
    }
    return Consumer(bootstrap_servers=bootstrap, **settings)  # type: ignore[arg-type]


ALL = {TopicPartition(TOPIC, p) for p in range(PARTITIONS)}


async def test_a_member_that_stops_polling_leaves_and_rejoins_on_the_next_poll(
    broker: str,
) -> None:
    listener, other_listener = Listener(), Listener()
    async with (
        member(broker, max_poll_interval_ms=1500) as slow,
        member(broker, max_poll_interval_ms=10_000) as other,
    ):
        slow.subscribe([TOPIC], listener=listener)
        other.subscribe([TOPIC], listener=other_listener)

        async def both_assigned() -> None:
            while not (slow.assignment() and other.assignment()):
                await asyncio.gather(slow.getmany(timeout_ms=50), other.getmany(timeout_ms=50))

        await asyncio.wait_for(both_assigned(), 20)
        held = slow.assignment()
        # `slow` stops polling: after 1.5 s it leaves, and `other` gets everything.
        await poll_until(other, lambda: other.assignment() == ALL)
        assert slow.assignment() == set()
        assert ("lost", held) in listener.calls
        assert slow._coordinator is not None
        assert slow._coordinator.poll_expired
        # Its next poll brings it back into the group.
        await produce(broker, TOPIC, {p: [b"after-%d" % p] for p in range(PARTITIONS)})

        async def shared_again() -> None:
            while not (slow.assignment() and other.assignment()):
                await asyncio.gather(slow.getmany(timeout_ms=50), other.getmany(timeout_ms=50))

        await asyncio.wait_for(shared_again(), 20)
        assert slow.assignment() | other.assignment() == ALL


async def test_partitions_are_lost_when_the_session_expires(broker: str) -> None:
    listener = Listener()
    async with member(broker, session_timeout_ms=1000) as consumer:
        consumer.subscribe([TOPIC], listener=listener)
        await poll_until(consumer, lambda: consumer.assignment() == ALL)
        coordinator = consumer._coordinator
        assert coordinator is not None
        first_member_id = coordinator.member_id
        heartbeat = coordinator._heartbeat
        silent = True

        async def dropped_heartbeat() -> None:
            if not silent:
                await heartbeat()

        # Heartbeats stop (a network partition, a stalled process) past the session timeout.
        coordinator._heartbeat = dropped_heartbeat  # type: ignore[method-assign]
        await poll_for(consumer, 2.5)  # polling goes on: only the session runs out
        silent = False
        # The next heartbeat learns the member is gone: the partitions are lost, not revoked.
        await poll_until(consumer, lambda: "lost" in listener.names())
        assert ("lost", ALL) in listener.calls
        assert "revoked" not in listener.names()
        # It joins afresh, with a new member id, and gets them back.
        await poll_until(consumer, lambda: consumer.assignment() == ALL)
        assert coordinator.member_id != first_member_id


async def test_a_pattern_subscription_picks_up_a_new_matching_topic(broker: str) -> None:
    await create_topic(broker, "metrics-a", 1)
    await create_topic(broker, "other", 1)
    await produce(broker, "metrics-a", {0: [b"a0"]})
    got: list[tuple[str, bytes | None]] = []
    async with member(broker, metadata_max_age_ms=300) as consumer:
        consumer.subscribe(pattern=r"metrics-.*")

        async def consume_until(done: Callable[[], bool]) -> None:
            async with asyncio.timeout(20):
                while not done():
                    batch = await consumer.getmany(timeout_ms=50)
                    got.extend((r.topic, r.value) for rs in batch.values() for r in rs)

        await consume_until(lambda: ("metrics-a", b"a0") in got)
        assert consumer.subscription() == {"metrics-a"}
        await create_topic(broker, "metrics-b", 2)
        await produce(broker, "metrics-b", {0: [b"b0"], 1: [b"b1"]})
        await consume_until(lambda: {("metrics-b", b"b0"), ("metrics-b", b"b1")} <= set(got))
        assert consumer.subscription() == {"metrics-a", "metrics-b"}
        assert {tp.topic for tp in consumer.assignment()} == {"metrics-a", "metrics-b"}
    assert all(topic != "other" for topic, _ in got)


async def test_sync_consumer_subscribes_commits_and_resumes(broker: str) -> None:
    await produce(broker, TOPIC, {p: [b"%d-%d" % (p, i) for i in range(5)] for p in range(3)})
    settings = {**FAST, "group_id": "sync", "auto_offset_reset": "earliest"}

    def first_run() -> list[bytes]:
        with SyncConsumer(bootstrap_servers=broker, enable_auto_commit=False, **settings) as c:
            c.subscribe(TOPIC)
            seen: list[bytes] = []
            while len(seen) < 9:
                for records in c.getmany(timeout_ms=200, max_records=3).values():
                    seen.extend(r.value for r in records)
                    c.commit({TopicPartition(TOPIC, records[0].partition): records[-1].offset + 1})
            assert c.assignment() == ALL
            return seen

    def second_run() -> tuple[list[bytes], dict[TopicPartition, int]]:
        with SyncConsumer(bootstrap_servers=broker, **settings) as c:
            c.subscribe([TOPIC])
            seen: list[bytes] = []
            for record in c:
                seen.append(record.value)
                if len(seen) + 9 >= 15:
                    break
            c.commit()
            committed = c.committed(ALL)
            return seen, {tp: om.offset for tp, om in committed.items() if om is not None}

    first = await asyncio.to_thread(first_run)
    second, committed = await asyncio.to_thread(second_run)
    everything = {b"%d-%d" % (p, i) for i in range(5) for p in range(3)}
    assert len(first) + len(second) == 15
    assert set(first) | set(second) == everything
    assert committed == dict.fromkeys(ALL, 5)


def test_sync_consumer_fails_fast_on_bad_settings() -> None:
    from tidal.log.client import ConfigError  # noqa: PLC0415

    with pytest.raises(ConfigError, match="max_poll_records"):
        SyncConsumer(max_poll_records=0)
