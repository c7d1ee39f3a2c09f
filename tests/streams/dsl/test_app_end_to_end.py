"""A DSL topology with a repartition topic, run by an App on the embedded broker."""

from __future__ import annotations

from pathlib import Path

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    FAST_CLIENT,
    FAST_CONSUMER,
    create_topic,
    produce,
    read_all,
)
from tidal.log.broker import EmbeddedBroker
from tidal.streams import App
from tidal.streams.testing import TopologyTestDriver

LINES = [b"the quick fox", b"the lazy dog", b"the end", b"quick quick"]
EXPECTED = {"the": 3, "quick": 3, "fox": 1, "lazy": 1, "dog": 1, "end": 1}


def word_count_app(bootstrap: str | None, state_dir: Path) -> App:
    app = App(
        "dsl-wc",
        bootstrap,
        state_dir=state_dir,
        commit_interval_ms=200,
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


async def test_word_count_runs_on_the_broker_as_in_the_driver(tmp_path: Path) -> None:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        await create_topic(bootstrap, "lines", 3)
        await create_topic(bootstrap, "word-counts", 3)
        await produce(bootstrap, [(str(i).encode(), line) for i, line in enumerate(LINES)], "lines")
        app = word_count_app(bootstrap, tmp_path / "state")
        await app.run_async(timeout=60, stop_when_idle_ms=500)
        out = await read_all(bootstrap, "word-counts", expected=10)
        assert len(out) == 10
        latest: dict[str, int] = {}
        for record in sorted(out, key=lambda r: (r.partition, r.offset)):
            assert record.key is not None
            assert record.value is not None
            latest[record.key.decode()] = int.from_bytes(record.value, "big")
        assert latest == EXPECTED
        changelog = await read_all(bootstrap, "dsl-wc-counts-changelog", expected=6)
        assert {r.key for r in changelog} == {w.encode() for w in EXPECTED}

    with TopologyTestDriver(word_count_app(None, tmp_path / "unused")) as driver:
        driver.create_input_topic("lines", value_serde="str").pipe_value_list(
            [line.decode() for line in LINES]
        )
        out_topic = driver.create_output_topic("word-counts", "str", "long")
        assert out_topic.read_key_values_to_map() == EXPECTED
