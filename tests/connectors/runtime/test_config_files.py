"""Worker and connector files: Java properties, JSON connector files, worker settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tidal.connectors.config import ConfigError
from tidal.connectors.runtime import (
    ConfigFileError,
    WorkerConfig,
    load_config_file,
    parse_properties,
)


def test_java_properties_syntax() -> None:
    text = (
        "# comment\n! also a comment\n\n"
        "a=1\nb : 2\nc 3\n  indented = yes  \n"
        "long = first \\\n    second\n"
        "escaped\\=key = v\\tw\nunicode=\\u00e9t\\u00e9\nempty=\nsep = = v\n"
    )
    assert parse_properties(text) == {
        "a": "1", "b": "2", "c": "3", "indented": "yes  ", "long": "first second",
        "escaped=key": "v\tw", "unicode": "été", "empty": "", "sep": "= v",
    }  # fmt: skip


def test_a_malformed_escape_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.properties"
    path.write_text("ok=1\nkey=\\u12\n")
    with pytest.raises(ConfigFileError, match=r"bad.properties, line 2, key 'key'"):
        load_config_file(path)


def test_json_connector_files(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"name": "s", "config": {"tasks.max": 2, "x": True}}))
    assert load_config_file(body) == {"tasks.max": "2", "x": "true", "name": "s"}
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"name": "s", "topic": "t"}))
    assert load_config_file(flat) == {"name": "s", "topic": "t"}
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"name": "s", "topics": ["a"]}))
    with pytest.raises(ConfigFileError, match=r"nested\.json: key 'topics'"):
        load_config_file(nested)


def test_exactly_once_sources_are_a_distributed_setting() -> None:
    assert WorkerConfig({"exactly.once.source.support": "enabled"}).exactly_once_source
    assert not WorkerConfig({"exactly.once.source.support": "preparing"}).exactly_once_source


def test_worker_defaults_are_kafka_connects() -> None:
    config = WorkerConfig({})
    assert config.bootstrap_servers == "localhost:9092"
    assert config.group_id == "connect-cluster"
    assert config.listeners == ["http://localhost:8083"]
    assert config.offset_flush_interval_ms == 60000
    assert config.get("config.storage.topic") == "connect-configs"
    assert config.get("offset.storage.topic") == "connect-offsets"
    assert config.get("status.storage.topic") == "connect-status"
    assert config.replication_factor("offset") == 3
    assert config.converter_settings("value") == ("org.apache.kafka.connect.json.JsonConverter", {})


def test_client_settings_are_typed_and_unknown_ones_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = WorkerConfig({
        "bootstrap.servers": "a:1,b:2",
        "consumer.max.poll.records": "7",
        "consumer.enable.auto.commit": "TRUE",
        "consumer.no.such.setting": "x",
        "producer.linger.ms": "3",
    })  # fmt: skip
    consumer = config.client_settings("consumer", {"auto.offset.reset": "earliest"})
    assert consumer == {
        "bootstrap_servers": "a:1,b:2", "max_poll_records": 7, "enable_auto_commit": True,
        "auto_offset_reset": "earliest",
    }  # fmt: skip
    assert "no.such.setting" in caplog.text
    assert config.client_settings("producer")["linger_ms"] == 3
    with pytest.raises(ConfigError, match=r"max\.poll\.records"):
        WorkerConfig({"consumer.max.poll.records": "many"}).client_settings("consumer")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"offset.flush.interval.ms": "x"}, "offset.flush.interval.ms"),
        ({"exactly.once.source.support": "sometimes"}, "exactly.once.source.support"),
        ({"listeners": "https://h:1"}, "only http:// listeners"),
    ],
)
def test_bad_worker_settings(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WorkerConfig(props)
