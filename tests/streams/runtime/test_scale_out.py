"""Two App instances in one group share the tasks; when one stops, the other
takes its tasks over with their state (restored from the changelogs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    count_app,
    create_topic,
    latest_counts,
    produce,
    read_all,
    wait_for,
)
from tests.streams.runtime._topology import INPUT, OUTPUT
from tidal.log.broker import EmbeddedBroker
from tidal.streams import TaskId
from tidal.streams.runtime import App

WORDS = [b"w%02d" % i for i in range(16)]
ALL_TASKS = [TaskId(0, p) for p in range(4)]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, INPUT, 4)
        yield b.bootstrap_servers


async def counts_reach(broker: str, rounds: int) -> bool:
    out = await read_all(broker, OUTPUT, expected=len(WORDS) * rounds, timeout=0.5)
    return latest_counts(out) == dict.fromkeys(WORDS, rounds)


async def stop(app: App, running: asyncio.Task[None]) -> None:
    app.stop()
    await asyncio.wait_for(running, 30)


async def test_two_instances_share_tasks_and_hand_them_over(broker: str, tmp_path: Path) -> None:
    first = count_app(broker, tmp_path / "a")
    second = count_app(broker, tmp_path / "b")
    one = asyncio.create_task(first.run_async(timeout=120))
    await produce(broker, [(w, b"x") for w in WORDS])
    await wait_for(lambda: first.local_tasks() == ALL_TASKS, what="first owns all tasks")
    await wait_for(lambda: counts_reach(broker, 1), what="counts of 1")
    two = asyncio.create_task(second.run_async(timeout=120))
    try:
        await wait_for(
            lambda: len(first.local_tasks()) == 2 and len(second.local_tasks()) == 2,
            what="two tasks each",
        )
        assert sorted(first.local_tasks() + second.local_tasks()) == ALL_TASKS
        moved = second.local_tasks()
        # The tasks that moved brought their state: counts go on from 1.
        await produce(broker, [(w, b"x") for w in WORDS])
        await wait_for(lambda: counts_reach(broker, 2), what="counts of 2")
        assert second.metrics.value("tidal_streams_records_restored_total", store="counts") > 0
        await stop(second, two)
        await wait_for(lambda: first.local_tasks() == ALL_TASKS, what="first takes all back")
        await produce(broker, [(w, b"x") for w in WORDS])
        await wait_for(lambda: counts_reach(broker, 3), what="counts of 3")
    finally:
        for app, task in ((second, two), (first, one)):
            if not task.done():
                await stop(app, task)
    out = await read_all(broker, OUTPUT, expected=len(WORDS) * 3)
    assert latest_counts(out) == dict.fromkeys(WORDS, 3)
    # Every word's counts went 1, 2, 3 with nothing lost across both handovers.
    for word in WORDS:
        assert [int(r.value or b"0") for r in out if r.key == word] == [1, 2, 3]
    assert moved  # the tasks that went to the second instance and came back
    assert first.state == second.state == "stopped"
