"""A Tidal consumer and a confluent-kafka (librdkafka) consumer in ONE group.

Both members offer the same assignor (``range``, or ``cooperative-sticky`` as
confluent's ``partition.assignment.strategy``), so whichever is the leader
assigns for both with its own implementation of that assignor. Each member
commits synchronously after every batch and counts a batch only once its
commit succeeded (seeking back to re-read it otherwise), so across the joins
and a member leaving every record must be counted exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.interop._mixed_group import ConfluentMember as _ConfluentMember
from tests.interop._mixed_group import Counted, Key
from tests.interop._mixed_group import TidalMember as _TidalMember
from tests.interop._mixed_group import wait_for as _wait_for
from tests.log.client.consumer._helpers import BROKER_CONFIG, FAST, create_topic, produce
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition

TOPIC = "mixed"
GROUP = "mixed-app"
PARTITIONS = 6


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path, config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, TOPIC, PARTITIONS)
        yield b.bootstrap_servers


async def write(bootstrap: str, start: int, count: int) -> set[Key]:
    values = {
        p: [b"%d-%d" % (p, i) for i in range(start, start + count)] for p in range(PARTITIONS)
    }
    await produce(bootstrap, TOPIC, values)
    return {(p, v) for p, vs in values.items() for v in vs}


def ConfluentMember(bootstrap: str, counted: Counted, strategy: str) -> _ConfluentMember:
    config = {"session.timeout.ms": 3000, "heartbeat.interval.ms": 100,
              "max.poll.interval.ms": 10000}  # fmt: skip
    return _ConfluentMember(
        bootstrap, TOPIC, GROUP, counted, strategy,
        config=config, stop_timeout=20, strict_stop=False,
    )  # fmt: skip


def TidalMember(bootstrap: str, counted: Counted, strategy: str) -> _TidalMember:
    settings: dict[str, Any] = {
        **FAST,
        "group_id": GROUP,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "partition_assignment_strategy": [strategy],
    }
    return _TidalMember(bootstrap, TOPIC, counted, settings=settings, stop_timeout=None)


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    await _wait_for(predicate, timeout)


@pytest.mark.parametrize("first", ["tidal", "confluent"])
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_tidal_and_confluent_share_one_group(broker: str, strategy: str, first: str) -> None:
    """``first`` starts alone and stays the group leader when the other joins,
    so its assignor (ours or librdkafka's) assigns for both; then it leaves."""
    counted = Counted()
    expected = await write(broker, 0, 30)
    ours = TidalMember(broker, counted, strategy)
    theirs = ConfluentMember(broker, counted, strategy)

    async def start(name: str) -> None:
        if name == "tidal":
            await ours.start()
        else:
            theirs.start()

    await start(first)
    await wait_for(lambda: len(counted.seen()) >= 30)  # alone at first
    await start("confluent" if first == "tidal" else "tidal")

    def shared() -> bool:
        a, b = ours.assignment, theirs.assignment
        return bool(a) and bool(b) and not (a & b) and len(a | b) == PARTITIONS

    await wait_for(shared)
    coordinator = ours.consumer._coordinator
    assert coordinator is not None
    assert coordinator.protocol == strategy
    expected |= await write(broker, 30, 30)
    await wait_for(lambda: counted.seen() >= expected)
    assert counted.by["tidal"] > 0
    assert counted.by["confluent"] > 0

    everything = set(range(PARTITIONS))
    if first == "confluent":  # the leader leaves: the other member takes over
        await asyncio.to_thread(theirs.stop)
        await wait_for(lambda: ours.assignment == everything)
    else:
        await ours.stop()
        await wait_for(lambda: theirs.assignment == everything)
    expected |= await write(broker, 60, 30)
    await wait_for(lambda: counted.seen() >= expected)
    await asyncio.sleep(0.3)
    if first == "confluent":
        await ours.stop()
    else:
        await asyncio.to_thread(theirs.stop)

    assert counted.seen() == expected
    duplicates = {k: n for k, n in counted.total.items() if n > 1}
    assert not duplicates
    assert len(expected) == PARTITIONS * 90


async def test_the_groups_committed_offsets_are_what_both_consumed(broker: str) -> None:
    """After the mixed group ends, a fresh Tidal consumer of the group finds
    every partition committed at its end: nothing left to read."""
    counted = Counted()
    expected = await write(broker, 0, 20)
    ours = TidalMember(broker, counted, "range")
    theirs = ConfluentMember(broker, counted, "range")
    await ours.start()
    theirs.start()
    await wait_for(lambda: counted.seen() >= expected)
    await ours.stop()
    await asyncio.to_thread(theirs.stop)
    async with Consumer(bootstrap_servers=broker, group_id=GROUP) as check:
        committed = await check.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
    assert {tp.partition: om.offset for tp, om in committed.items() if om} == dict.fromkeys(
        range(PARTITIONS), 20
    )
