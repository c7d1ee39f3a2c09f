"""A DSL topology (two sub-topologies through a repartition topic, RocksDB
state) run by App on the embedded broker, and queried locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    FAST_CLIENT,
    FAST_CONSUMER,
    produce,
    read_all,
)
from tidal.log.client.consumer import ConsumerRecord
from tidal.streams import App, StreamsError
from tidal.streams.serdes import LongSerde, StringSerde

LINES = [b"the cat", b"the dog the end", b"a cat"]


def word_count(state_dir: Path) -> App:
    app = App(
        "wc",
        state_dir=state_dir,
        commit_interval_ms=200,
        broker_config={**BROKER_CONFIG, "num.partitions": "2"},
        client_config=FAST_CLIENT,
        consumer_config=FAST_CONSUMER,
    )
    (
        app.stream("lines", value_serde="str")
        .flat_map_values(str.split)
        .group_by(lambda key, word: word, key_serde="str")
        .count(store_name="counts")
        .to_stream()
        .to("word-counts", key_serde="str", value_serde="long")
    )
    return app


def decoded(records: list[ConsumerRecord]) -> dict[str, int]:
    """The last count per word."""
    keys, values = StringSerde(), LongSerde()
    out: dict[str, int] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        out[keys.deserialize(r.key)] = values.deserialize(r.value)
    return out


async def test_word_count_with_rocksdb_state_and_local_queries(tmp_path: Path) -> None:
    app = word_count(tmp_path / "state")
    assert "Sub-topology: 1" in app.describe()
    async with app:
        await produce(app.bootstrap_servers, [(None, line) for line in LINES], topic="lines")
        await app.wait(timeout=60, stop_when_idle_ms=500)
        out = await read_all(app.bootstrap_servers, "word-counts", expected=8)
        expected = {"the": 3, "cat": 2, "dog": 1, "end": 1, "a": 1}
        assert decoded(out) == expected
        counts = app.store("counts")
        assert counts.get("the") == 3
        assert counts.get("zebra") is None
        assert dict(counts.items()) == expected
        with pytest.raises(KeyError, match="no store 'nope'"):
            app.store("nope")
    assert app.state == "stopped"
    # One RocksDB directory per task of the counting sub-topology.
    stores = sorted(p.relative_to(tmp_path) for p in tmp_path.glob("state/wc/1_*/counts"))
    assert [str(p) for p in stores] == ["state/wc/1_0/counts", "state/wc/1_1/counts"]


def test_store_needs_a_running_app(tmp_path: Path) -> None:
    app = word_count(tmp_path / "state")
    with pytest.raises(StreamsError, match="not running"):
        app.store("counts")


async def test_restart_on_the_embedded_broker_keeps_log_offsets_and_rocksdb_state(
    tmp_path: Path,
) -> None:
    first = word_count(tmp_path / "state")
    async with first:
        await produce(first.bootstrap_servers, [(None, b"the cat")], topic="lines")
        await first.wait(timeout=60, stop_when_idle_ms=500)
    second = word_count(tmp_path / "state")
    async with second:
        await produce(second.bootstrap_servers, [(None, b"the end")], topic="lines")
        await second.wait(timeout=60, stop_when_idle_ms=500)
        assert dict(second.store("counts").items()) == {"the": 2, "cat": 1, "end": 1}
        out = await read_all(second.bootstrap_servers, "word-counts", expected=4)
    # Nothing was read twice, and the RocksDB stores needed no replay.
    assert len(out) == 4
    assert second.metrics.value("tidal_streams_records_restored_total", store="counts") == 0
