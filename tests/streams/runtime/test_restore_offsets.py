"""Starting tasks looks up their changelogs' offsets together: one end-offsets
request for every task of an assignment, no beginning offsets (and no fetch)
for stores already at their changelog's end, and restores that do not wait on
long fetches."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.streams.runtime._helpers import BROKER_CONFIG, count_app, create_topic, produce
from tests.streams.runtime._topology import INPUT, CountTopology, open_file_store
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.streams.runtime import App

CHANGELOG = "wc-counts-changelog"
PARTITIONS = 4


class _Lookups:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ends: list[set[TopicPartition]] = []
        self.begins: list[set[TopicPartition]] = []
        self.assigned: list[set[TopicPartition]] = []
        real_end, real_begin = Consumer.end_offsets, Consumer.beginning_offsets
        real_assign = Consumer.assign

        async def end_offsets(consumer: Consumer, tps: Iterable[TopicPartition]) -> Any:
            tps = list(tps)
            self._note(self.ends, tps)
            return await real_end(consumer, tps)

        async def beginning_offsets(consumer: Consumer, tps: Iterable[TopicPartition]) -> Any:
            tps = list(tps)
            self._note(self.begins, tps)
            return await real_begin(consumer, tps)

        def assign(consumer: Consumer, tps: Iterable[TopicPartition]) -> None:
            tps = list(tps)
            self._note(self.assigned, tps)
            real_assign(consumer, tps)

        monkeypatch.setattr(Consumer, "end_offsets", end_offsets)
        monkeypatch.setattr(Consumer, "beginning_offsets", beginning_offsets)
        monkeypatch.setattr(Consumer, "assign", assign)

    @staticmethod
    def _note(into: list[set[TopicPartition]], tps: list[TopicPartition]) -> None:
        changelog = {tp for tp in tps if tp.topic == CHANGELOG}
        if changelog:
            into.append(changelog)

    def clear(self) -> None:
        self.ends.clear()
        self.begins.clear()
        self.assigned.clear()


def _all() -> set[TopicPartition]:
    return {TopicPartition(CHANGELOG, p) for p in range(PARTITIONS)}


def _default_app(bootstrap: str, state_dir: Path) -> App:
    # The clients' own defaults (fetch_max_wait_ms 500): nothing tuned for speed.
    return App(
        "wc",
        bootstrap,
        state_dir=state_dir,
        topology=CountTopology("wc"),
        store_opener=open_file_store,
        commit_interval_ms=200,
    )


async def _start_all(app: App) -> float:
    started = time.monotonic()
    await app.start()
    deadline = started + 30
    while len(app.local_tasks()) < PARTITIONS and time.monotonic() < deadline:
        await app.wait(timeout=0.05)
    assert len(app.local_tasks()) == PARTITIONS
    return time.monotonic() - started


async def test_offsets_are_looked_up_once_for_all_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        await create_topic(broker.bootstrap_servers, INPUT, PARTITIONS)
        words = [b"apple", b"pear", b"fig", b"plum", b"kiwi", b"lime"]
        await produce(broker.bootstrap_servers, [(w, b"x") for w in words])
        first = count_app(broker.bootstrap_servers, tmp_path / "state")
        await first.run_async(timeout=30, stop_when_idle_ms=300)
        lookups = _Lookups(monkeypatch)

        # Restarted on its state: every store is at its changelog's end.
        again = _default_app(broker.bootstrap_servers, tmp_path / "state")
        try:
            await _start_all(again)
        finally:
            await again.close()
        assert lookups.ends == [_all()]
        assert lookups.begins == []
        assert lookups.assigned == []
        assert again.metrics.value("tidal_streams_records_restored_total", store="counts") == 0

        # Without state: one lookup of each kind, and the replay does not wait on
        # fetches held open at the changelogs' ends.
        shutil.rmtree(tmp_path / "state")
        lookups.clear()
        wiped = _default_app(broker.bootstrap_servers, tmp_path / "state")
        try:
            took = await _start_all(wiped)
        finally:
            await wiped.close()
        assert lookups.ends == [_all()]
        assert len(lookups.begins) == 1
        restored = wiped.metrics.value("tidal_streams_records_restored_total", store="counts")
        assert restored >= len(words)
        assert took < 2.0, f"starting took {took:.2f} s"
