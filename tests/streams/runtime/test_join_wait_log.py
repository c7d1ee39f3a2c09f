"""A restarted instance whose group still holds a member that left without a
LeaveGroup (killed) says that it is waiting to join, and for how long at most."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    FAST_CLIENT,
    FAST_CONSUMER,
    count_app,
    create_topic,
)
from tests.streams.runtime._topology import INPUT, CountTopology, open_file_store
from tidal.log.broker import EmbeddedBroker
from tidal.streams.runtime import App, _app

SESSION_MS = 6000


async def test_a_slow_join_is_logged_with_the_session_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_app, "JOIN_WAIT_LOG_S", 0.5)
    caplog.set_level(logging.INFO, logger="tidal.streams.runtime")
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        await create_topic(broker.bootstrap_servers, INPUT, 2)
        # A static member sends no LeaveGroup when it goes: to the group it is
        # a killed member until its session times out.
        gone = App(
            "wc",
            broker.bootstrap_servers,
            state_dir=tmp_path / "gone",
            topology=CountTopology("wc"),
            store_opener=open_file_store,
            client_config=FAST_CLIENT,
            consumer_config={
                **FAST_CONSUMER,
                "group_instance_id": "gone",
                "session_timeout_ms": SESSION_MS,
            },
        )
        await gone.start()
        await gone.wait(timeout=1.0)
        await gone.close()

        caplog.clear()
        restarted = count_app(broker.bootstrap_servers, tmp_path / "restarted")
        started = time.monotonic()
        await restarted.start()
        try:
            while not restarted.local_tasks() and time.monotonic() - started < 30:
                await restarted.wait(timeout=0.1)
            joined_after = time.monotonic() - started
            assert restarted.local_tasks(), "never joined"
        finally:
            await restarted.close()
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert waits == [
        "waiting to join group wc (a previous member may still hold tasks until its session "
        "times out after 3000 ms)"
    ]
    assert joined_after > 1.0  # it did wait for the group


async def test_a_quick_join_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_app, "JOIN_WAIT_LOG_S", 0.5)
    caplog.set_level(logging.INFO, logger="tidal.streams.runtime")
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        await create_topic(broker.bootstrap_servers, INPUT, 2)
        app = count_app(broker.bootstrap_servers, tmp_path / "state")
        await app.start()
        try:
            await app.wait(timeout=1.5)
            assert app.local_tasks()
        finally:
            await app.close()
    assert not [r for r in caplog.records if r.getMessage().startswith("waiting to join")]
