"""Bad input: deserialization handlers and dead letters; a failing user function
stops the app, commits nothing of its interval, and a restart resumes there."""

from __future__ import annotations

import json
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
from tidal.streams import DeserializationError, ProcessingError, TopologyError
from tidal.streams.runtime import App, ConfigurationError

TP = TopicPartition(INPUT, 0)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, INPUT, 1)
        yield b.bootstrap_servers


def stored_counts(state_dir: Path) -> dict[bytes, int]:
    """The committed contents of task 0_0's store, read from its file."""
    body = json.loads((state_dir / "wc" / "0_0" / "counts.json").read_text())
    return {bytes.fromhex(k): int(bytes.fromhex(v)) for k, v in body["data"].items()}


async def test_processing_error_stops_commits_nothing_and_restart_resumes(
    broker: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    await produce(broker, [(b"a", b"x"), (b"b", b"x")])
    await count_app(broker, state).run_async(timeout=30, stop_when_idle_ms=300)
    assert (await committed(broker, "wc"))[TP].offset == 2
    # Offsets 2..5: two good records, one the user function chokes on, one more.
    await produce(broker, [(b"a", b"x"), (b"b", b"x"), (b"c", b"boom"), (b"a", b"x")])
    failing = count_app(broker, state, commit_interval_ms=60_000)
    with pytest.raises(ProcessingError) as raised:
        await failing.run_async(timeout=30, stop_when_idle_ms=300)
    assert (raised.value.topic, raised.value.partition, raised.value.offset) == (INPUT, 0, 4)
    assert "words-0@4" in str(raised.value)
    assert failing.state == "failed"
    # Nothing of the failed interval was committed: offsets nor state.
    assert (await committed(broker, "wc"))[TP].offset == 2
    assert stored_counts(state) == {b"a": 1, b"b": 1}
    # Restarted with the bug fixed, it reads from offset 2 again.
    fixed = count_app(broker, state, fail_on=None)
    await fixed.run_async(timeout=30, stop_when_idle_ms=300)
    assert (await committed(broker, "wc"))[TP].offset == 6
    assert stored_counts(state) == {b"a": 3, b"b": 2, b"c": 1}
    out = await read_all(broker, OUTPUT, expected=6)
    assert latest_counts(out) == {b"a": 3, b"b": 2, b"c": 1}


async def test_deserialization_error_fails_by_default(broker: str, tmp_path: Path) -> None:
    await produce(broker, [(b"a", b"x"), (b"b", b"bad"), (b"c", b"x")])
    app = count_app(broker, tmp_path / "state")
    with pytest.raises(DeserializationError) as raised:
        await app.run_async(timeout=30, stop_when_idle_ms=300)
    assert raised.value.offset == 1
    assert "cannot deserialize record at words-0@1" in str(raised.value)
    assert await committed(broker, "wc") == {}


async def test_log_and_continue_sends_to_the_dead_letter_topic(
    broker: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await produce(broker, [(b"a", b"x"), (b"b", b"bad"), (b"a", b"x")])
    app = count_app(
        broker,
        tmp_path / "state",
        deserialization_exception_handler="log_and_continue",
        dead_letter_topic="wc-dlq",
    )
    await app.run_async(timeout=30, stop_when_idle_ms=300)
    assert latest_counts(await read_all(broker, OUTPUT, expected=2)) == {b"a": 2}
    assert (await committed(broker, "wc"))[TP].offset == 3
    [dead] = await read_all(broker, "wc-dlq", expected=1)
    assert (dead.key, dead.value) == (b"b", b"bad")
    headers = dict(dead.headers)
    assert headers["tidal.error.topic"] == b"words"
    assert headers["tidal.error.partition"] == b"0"
    assert headers["tidal.error.offset"] == b"1"
    assert headers["tidal.error.class"] == b"ValueError"
    assert app.metrics.value("tidal_streams_skipped_records_total", reason="deserialization") == 1
    assert "words-0@1" in caplog.text


async def test_missing_source_topic_on_a_cluster_is_named(broker: str, tmp_path: Path) -> None:
    async with EmbeddedBroker(data_dir=tmp_path / "other", config=BROKER_CONFIG) as other:
        app = count_app(other.bootstrap_servers, tmp_path / "state")
        with pytest.raises(TopologyError, match=r"source topic.*'words' do not exist"):
            await app.run_async(timeout=30)
        assert app.state == "failed"


def test_settings_are_checked_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="'exactly_once' is not one of"):
        count_app(None, tmp_path, processing_guarantee="exactly_once")
    with pytest.raises(ConfigurationError, match="deserialization_exception_handler"):
        count_app(None, tmp_path, deserialization_exception_handler="ignore")
    with pytest.raises(ConfigurationError, match="commit_interval_ms"):
        count_app(None, tmp_path, commit_interval_ms=0)
    with pytest.raises(ConfigurationError, match="application_id"):
        count_app(None, tmp_path, app_id="no spaces")
    with pytest.raises(ConfigurationError, match="group_id belong to the runtime"):
        App("wc", consumer_config={"group.id": "other"})


async def test_internal_topic_with_the_wrong_partition_count(broker: str, tmp_path: Path) -> None:
    await create_topic(broker, "wc-counts-changelog", 3)  # the input has 1 partition
    app = count_app(broker, tmp_path / "state")
    with pytest.raises(TopologyError, match=r"'wc-counts-changelog' has 3 partitions.* needs 1"):
        await app.run_async(timeout=30)
