"""An App against the embedded broker over sockets: counts, commits, restarts,
restoration from the changelog."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    committed,
    count_app,
    create_topic,
    latest_counts,
    produce,
    read_all,
)
from tests.streams.runtime._topology import INPUT, OUTPUT
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import TopicPartition

WORDS = [b"apple", b"pear", b"fig", b"plum", b"kiwi", b"lime"]


def words(rounds: int) -> list[tuple[bytes, bytes]]:
    return [(w, b"x") for _ in range(rounds) for w in WORDS]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, INPUT, 3)
        yield b.bootstrap_servers


async def test_counts_end_to_end_and_commits_offsets(broker: str, tmp_path: Path) -> None:
    await produce(broker, words(3))
    app = count_app(broker, tmp_path / "state")
    await app.run_async(timeout=30, stop_when_idle_ms=300)
    out = await read_all(broker, OUTPUT, expected=18)
    assert len(out) == 18
    assert latest_counts(out) == dict.fromkeys(WORDS, 3)
    offsets = await committed(broker, "wc")
    assert sum(om.offset for om in offsets.values()) == 18
    assert app.metrics.value("tidal_streams_records_processed_total") == 18
    assert app.metrics.value("tidal_streams_commits_total") >= 1
    # The changelog holds the final counts (one record per word at least).
    changelog = await read_all(broker, "wc-counts-changelog", expected=6)
    assert latest_counts(changelog) == dict.fromkeys(WORDS, 3)


async def test_restart_resumes_from_committed_offsets_with_state(
    broker: str, tmp_path: Path
) -> None:
    await produce(broker, words(2))
    await count_app(broker, tmp_path / "state").run_async(timeout=30, stop_when_idle_ms=300)
    await produce(broker, words(1))
    second = count_app(broker, tmp_path / "state")
    await second.run_async(timeout=30, stop_when_idle_ms=300)
    out = await read_all(broker, OUTPUT, expected=18)
    assert len(out) == 18  # nothing read twice: the restart began at the committed offsets
    assert latest_counts(out) == dict.fromkeys(WORDS, 3)
    # State came from the local files, not from a replay of the changelog.
    assert second.metrics.value("tidal_streams_records_restored_total", store="counts") == 0


async def test_wiped_state_dir_restores_from_the_changelog(
    broker: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidal.streams.runtime")
    await produce(broker, words(2))
    await count_app(broker, tmp_path / "state").run_async(timeout=30, stop_when_idle_ms=300)
    shutil.rmtree(tmp_path / "state")
    changelog = await read_all(broker, "wc-counts-changelog", expected=6)
    await produce(broker, words(1))
    again = count_app(broker, tmp_path / "state")
    await again.run_async(timeout=30, stop_when_idle_ms=300)
    out = await read_all(broker, OUTPUT, expected=18)
    assert latest_counts(out) == dict.fromkeys(WORDS, 3)
    assert [int(r.value or b"0") for r in out if r.key == b"fig"] == [1, 2, 3]
    # The whole changelog was replayed: the last count of every word.
    assert latest_counts(changelog) == dict.fromkeys(WORDS, 2)
    restored = again.metrics.value("tidal_streams_records_restored_total", store="counts")
    assert restored == len(changelog)
    assert again.metrics.value("tidal_streams_restore_seconds_total") > 0
    # Without a terminal, progress is a log line per task, before and after.
    assert re.search(r"task 0_\d: restoring \d+ changelog records", caplog.text)
    assert re.search(r"task 0_\d: restored in \d+\.\d+ s", caplog.text)


async def test_embedded_broker_lives_under_the_state_dir(tmp_path: Path) -> None:
    app = count_app(None, tmp_path / "state", broker_config=BROKER_CONFIG)
    async with app:
        bootstrap = app.bootstrap_servers
        await produce(bootstrap, words(1))
        await app.wait(timeout=30, stop_when_idle_ms=300)
        out = await read_all(bootstrap, OUTPUT, expected=6)
    assert latest_counts(out) == dict.fromkeys(WORDS, 1)
    assert (tmp_path / "state" / "wc" / "broker").is_dir()
    assert any((tmp_path / "state" / "wc").glob("0_*/counts.json"))
    tps = {TopicPartition(INPUT, 0)}
    assert tps  # the embedded broker created the missing source topic


async def test_metrics_are_served_while_the_app_runs(broker: str, tmp_path: Path) -> None:
    await produce(broker, words(1))
    app = count_app(broker, tmp_path / "state", metrics_port=0)
    async with app:
        await app.wait(timeout=30, stop_when_idle_ms=300)
        assert app.metrics_port is not None
        url = f"http://127.0.0.1:{app.metrics_port}/metrics"
        body = await asyncio.to_thread(_fetch, url)
    assert 'tidal_streams_records_processed_total{application_id="wc"} 6.0' in body
    assert 'tidal_streams_active_tasks{application_id="wc"} 3.0' in body
    assert "tidal_streams_task_lag" in body
    with pytest.raises(OSError):  # the server stopped with the app
        await asyncio.to_thread(_fetch, url)


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
    return body.decode()
