"""validate_connector_config: the answer of PUT /connector-plugins/{plugin}/config/validate."""

from collections.abc import Mapping

import pytest

from tidal.connectors.api import SinkConnector, SinkRecord, SinkTask, SourceConnector, SourceTask
from tidal.connectors.config import ConfigDef, ConfigError, ConfigType, ConfigValue, Importance
from tidal.connectors.plugins import Plugins
from tidal.connectors.validation import validate_connector_config


class _Task(SinkTask):
    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def put(self, records: list[SinkRecord]) -> None:
        pass

    def stop(self) -> None:
        pass


class WarehouseSinkConnector(SinkConnector):
    def version(self) -> str:
        return "1.2"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def task_class(self) -> type[SinkTask]:
        return _Task

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return []

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return ConfigDef().define(
            "warehouse.url", ConfigType.STRING, importance=Importance.HIGH,
            documentation="Where to write.", group="Warehouse", order=1,
        )  # fmt: skip

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        values = super().validate(props)
        url = props.get("warehouse.url", "")
        if url and not url.startswith("wh://"):
            values[0].add_error("warehouse.url must start with wh://")
        return values


class CountingSourceConnector(SourceConnector):
    def version(self) -> str:
        return "0.1"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def task_class(self) -> type[SourceTask]:
        return SourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return []

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return ConfigDef()


PLUGINS = Plugins([WarehouseSinkConnector, CountingSourceConnector], entry_points=False)


def _errors(answer: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    return {
        c["value"]["name"]: c["value"]["errors"] for c in answer["configs"] if c["value"]["errors"]
    }


def test_valid_sink_config_has_no_errors() -> None:
    answer = validate_connector_config(
        {
            "name": "wh",
            "connector.class": "WarehouseSink",
            "topics": "orders",
            "warehouse.url": "wh://db",
            "transforms": "mask",
            "transforms.mask.type": "MaskField$Value",
            "transforms.mask.fields": "card",
        },
        PLUGINS,
    )
    assert answer["name"] == "WarehouseSink"
    assert answer["error_count"] == 0
    assert answer["groups"] == [
        "Common", "Transforms", "Predicates", "Error Handling", "Transforms: mask", "Warehouse",
    ]  # fmt: skip
    names = [c["definition"]["name"] for c in answer["configs"] if c["definition"]]
    assert names[-1] == "warehouse.url"
    assert "transforms.mask.fields" in names


def test_every_problem_is_reported_with_its_config_named() -> None:
    answer = validate_connector_config(
        {
            "connector.class": "WarehouseSinkConnector",
            "topics": "orders,dlq",
            "topics.regex": "o.*",
            "errors.deadletterqueue.topic.name": "dlq",
            "warehouse.url": "http://db",
            "tasks.max": "0",
        },
        PLUGINS,
    )
    errors = _errors(answer)
    assert errors["name"] == ['Missing required configuration "name" which has no default value.']
    assert errors["tasks.max"] == [
        "Invalid value 0 for configuration tasks.max: Value must be at least 1"
    ]
    assert errors["topics"][0].endswith(
        "topics and topics.regex are mutually exclusive options, but both are set."
    )
    assert "The DLQ topic 'dlq' may not be included" in errors["topics"][1]
    assert errors["warehouse.url"] == ["warehouse.url must start with wh://"]
    assert answer["error_count"] == sum(len(e) for e in errors.values())


def test_sink_needs_topics_or_regex() -> None:
    errors = _errors(
        validate_connector_config(
            {"name": "wh", "connector.class": "WarehouseSink", "warehouse.url": "wh://x"}, PLUGINS
        )
    )
    assert errors["topics"] == [
        "Invalid value  for configuration topics: Must configure one of topics or topics.regex"
    ]


def test_source_config_gets_the_source_definitions() -> None:
    answer = validate_connector_config({"name": "c", "connector.class": "CountingSource"}, PLUGINS)
    names = {c["definition"]["name"] for c in answer["configs"] if c["definition"]}
    assert {"exactly.once.support", "transaction.boundary", "offsets.storage.topic"} <= names
    assert "topics" not in names
    assert answer["error_count"] == 0


def test_missing_or_unknown_connector_class() -> None:
    with pytest.raises(ConfigError, match="contains no connector type"):
        validate_connector_config({"name": "x"}, PLUGINS)
    with pytest.raises(LookupError, match="Failed to find any class"):
        validate_connector_config({"name": "x", "connector.class": "Nope"}, PLUGINS)
