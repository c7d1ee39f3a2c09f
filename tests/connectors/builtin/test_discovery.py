"""The built-in connectors are found by plugin discovery, by class name and short alias."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tidal.connectors import builtin
from tidal.connectors.api import ExactlyOnceSupport
from tidal.connectors.plugins import Plugins, PluginType

CONNECTORS = [
    ("DatagenSource", builtin.DatagenSourceConnector, PluginType.SOURCE),
    ("SpoolDirCsvSource", builtin.SpoolDirCsvSourceConnector, PluginType.SOURCE),
    ("SpoolDirJsonSource", builtin.SpoolDirJsonSourceConnector, PluginType.SOURCE),
    ("SqlSource", builtin.SqlSourceConnector, PluginType.SOURCE),
    ("SqlSink", builtin.SqlSinkConnector, PluginType.SINK),
    ("HttpSink", builtin.HttpSinkConnector, PluginType.SINK),
]


@pytest.mark.parametrize(("alias", "cls", "kind"), CONNECTORS)
def test_found_by_alias_class_name_and_listed(alias: str, cls: type, kind: PluginType) -> None:
    plugins = Plugins()
    assert plugins.plugin(alias, PluginType.SOURCE, PluginType.SINK).cls is cls
    assert plugins.plugin(alias + "Connector", PluginType.SOURCE, PluginType.SINK).cls is cls
    listed = {(info["class"], info["type"]) for info in plugins.connector_plugins()}
    # Listed by the path users configure, from the package re-exporting it ...
    public = f"tidal.connectors.builtin.{cls.__qualname__}"
    assert (public, kind.value) in listed
    assert not any("._" in name for name, _ in listed)
    assert plugins.plugin(public, PluginType.SOURCE, PluginType.SINK).cls is cls
    # ... while the private module's path (``..._datagen.DatagenSourceConnector``) still works.
    private = plugins.plugin(f"{cls.__module__}.{cls.__qualname__}", kind)
    assert (private.cls, private.name) == (cls, public)


@pytest.mark.parametrize(("alias", "cls", "kind"), CONNECTORS)
def test_every_config_is_documented(alias: str, cls: type, kind: PluginType) -> None:
    keys = cls().config().config_keys.values()
    assert all(key.documentation for key in keys)


DOCS = Path(__file__).resolve().parents[3] / "docs" / "connectors.md"


@pytest.mark.parametrize(("alias", "cls", "kind"), CONNECTORS)
def test_docs_have_every_config_in_a_table(alias: str, cls: type, kind: PluginType) -> None:
    text = DOCS.read_text()
    assert f"`{alias}`" in text
    for key in cls().config().config_keys.values():
        assert f"| `{key.name}` |" in text, key.name


def test_sources_declare_exactly_once_support() -> None:
    supported = ExactlyOnceSupport.SUPPORTED
    assert builtin.DatagenSourceConnector().exactly_once_support({}) is supported
    assert builtin.SpoolDirCsvSourceConnector().exactly_once_support({}) is supported
    sql = builtin.SqlSourceConnector()
    assert sql.exactly_once_support({"mode": "incrementing"}) is supported
    assert sql.exactly_once_support({"mode": "bulk"}) is ExactlyOnceSupport.UNSUPPORTED


@pytest.mark.parametrize(
    ("connector", "props", "field", "message"),
    [
        (builtin.SqlSinkConnector(), {"connection.url": "sqlite:x.db", "delete.enabled": "true"},
         "delete.enabled", "needs pk.mode=record_key"),
        (builtin.SqlSourceConnector(), {"connection.url": "sqlite:x.db", "topic.prefix": "t-",
                                        "mode": "timestamp"},
         "timestamp.column.name", "mode=timestamp needs the column name"),
        (builtin.HttpSinkConnector(), {"http.api.url": "http://h/x", "headers": "nocolon"},
         "headers", "is not Name:Value"),
        (builtin.SpoolDirCsvSourceConnector(), {"input.path": "/nonexistent", "topic": "t",
                                                "input.file.pattern": ".*", "error.path": "/e",
                                                "cleanup.policy": "DELETE"},
         "input.path", "not a folder"),
    ],
)  # fmt: skip
def test_validate_names_the_field_of_a_bad_combination(
    connector: Any, props: dict[str, str], field: str, message: str
) -> None:
    errors = {v.name: v.errors for v in connector.validate(props) if v.errors}
    assert list(errors) == [field]
    assert message in errors[field][0]
