"""A Tidal consumer and a confluent-kafka (librdkafka) consumer in ONE group on
a real Apache Kafka broker (JVM), Kafka's own group coordinator in charge.

The same pattern as ``test_client_consumer_mixed_group.py`` (against Tidal's
broker): both members offer one assignor, so whichever leads assigns for both
with its own implementation; each member commits synchronously after every
batch and counts a batch only once the commit succeeded (seeking back to read
it again otherwise). Across the second member joining and one member leaving,
every partition must belong to exactly one member (as each member sees it and
as the broker's DescribeGroups reports it) and every record must be counted
exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.interop._mixed_group import ConfluentMember as _ConfluentMember
from tests.interop._mixed_group import Counted, Key
from tests.interop._mixed_group import TidalMember as _TidalMember
from tests.interop._mixed_group import wait_for as _wait_for
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer

pytestmark = pytest.mark.kafka

PARTITIONS = 6

#: Kafka's group.min.session.timeout.ms is 6000 by default.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 300


def ConfluentMember(
    bootstrap: str, topic: str, group: str, counted: Counted, strategy: str
) -> _ConfluentMember:
    config = {
        "client.id": "confluent-member",
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
        "max.poll.interval.ms": 20000,
    }
    return _ConfluentMember(
        bootstrap, topic, group, counted, strategy,
        config=config, stop_timeout=30, strict_stop=True,
    )  # fmt: skip


def TidalMember(
    bootstrap: str, topic: str, group: str, counted: Counted, strategy: str
) -> _TidalMember:
    settings: dict[str, Any] = {
        "group_id": group,
        "client_id": "tidal-member",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "partition_assignment_strategy": [strategy],
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        "max_poll_interval_ms": 20000,
        "fetch_max_wait_ms": 100,
    }
    return _TidalMember(bootstrap, topic, counted, settings=settings, stop_timeout=30)


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    await _wait_for(predicate, timeout)


async def write(bootstrap: str, topic: str, start: int, count: int) -> set[Key]:
    async with Producer(bootstrap_servers=bootstrap, linger_ms=5) as producer:
        for p in range(PARTITIONS):
            for i in range(start, start + count):
                await producer.send(topic, b"%d-%d" % (p, i), partition=p)
        await producer.flush()
    return {(p, b"%d-%d" % (p, i)) for p in range(PARTITIONS) for i in range(start, start + count)}


async def broker_view(bootstrap: str, group: str) -> dict[str, set[int]]:
    """Each member's partitions as Kafka's DescribeGroups reports them, by client id."""
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        desc = (await admin.describe_groups([group]))[group]
    return {m.client_id: {tp.partition for tp in m.assignment} for m in desc.members}


@pytest.mark.parametrize("first", ["tidal", "confluent"])
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_tidal_and_confluent_share_one_group_on_kafka(
    kafka_jvm: Any, strategy: str, first: str
) -> None:
    """``first`` starts alone and stays the group leader when the other joins,
    so its assignor (ours or librdkafka's) assigns for both; then it leaves and
    the other takes every partition."""
    bootstrap = kafka_jvm.bootstrap_servers
    topic, group = f"mixed-{uuid.uuid4().hex[:8]}", f"mixed-app-{uuid.uuid4().hex[:8]}"
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    counted = Counted()
    expected = await write(bootstrap, topic, 0, 30)
    ours = TidalMember(bootstrap, topic, group, counted, strategy)
    theirs = ConfluentMember(bootstrap, topic, group, counted, strategy)
    everything = set(range(PARTITIONS))

    async def start(name: str) -> None:
        if name == "tidal":
            await ours.start()
        else:
            theirs.start()

    try:
        await start(first)
        await wait_for(lambda: counted.seen() >= expected)  # alone at first
        await start("confluent" if first == "tidal" else "tidal")

        def shared() -> bool:
            a, b = ours.assignment, theirs.assignment
            return bool(a) and bool(b) and not (a & b) and a | b == everything

        await wait_for(shared)
        coordinator = ours.consumer._coordinator
        assert coordinator is not None
        assert coordinator.protocol == strategy
        view = await broker_view(bootstrap, group)
        assert sorted(view) == ["confluent-member", "tidal-member"]
        assert not view["confluent-member"] & view["tidal-member"]
        assert view["confluent-member"] | view["tidal-member"] == everything

        expected |= await write(bootstrap, topic, 30, 30)
        await wait_for(lambda: counted.seen() >= expected)
        assert counted.by["tidal"] > 0
        assert counted.by["confluent"] > 0

        if first == "confluent":  # the leader leaves: the other member takes over
            await asyncio.to_thread(theirs.stop)
            await wait_for(lambda: ours.assignment == everything)
        else:
            await ours.stop()
            await wait_for(lambda: theirs.assignment == everything)
        remaining = "tidal-member" if first == "confluent" else "confluent-member"
        assert await broker_view(bootstrap, group) == {remaining: everything}
        expected |= await write(bootstrap, topic, 60, 30)
        await wait_for(lambda: counted.seen() >= expected)
        await asyncio.sleep(0.3)
    finally:
        if ours.task is not None and not ours.task.done():
            await ours.stop()
        if theirs.thread.is_alive():
            await asyncio.to_thread(theirs.stop)

    assert counted.seen() == expected
    duplicates = {k: n for k, n in counted.total.items() if n > 1}
    assert not duplicates
    assert len(expected) == PARTITIONS * 90

    # The group's committed offsets are what both consumed: every partition at its end.
    async with Consumer(bootstrap_servers=bootstrap, group_id=group) as check:
        committed = await check.committed([TopicPartition(topic, p) for p in everything])
    assert {tp.partition: om.offset for tp, om in committed.items() if om} == dict.fromkeys(
        everything, 90
    )
