"""Plugin discovery: Kafka names, Python paths, short aliases, entry points."""

import importlib.metadata
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tidal.connectors.api import SinkConnector, SinkRecord, SinkTask
from tidal.connectors.config import ConfigDef
from tidal.connectors.converters import JsonConverter, StringConverter
from tidal.connectors.plugins import (
    ENTRY_POINT_GROUP,
    Plugins,
    PluginType,
    connector_plugins,
    converter_class,
    header_converter_class,
    import_class,
    predicate_class,
    transformation_class,
)
from tidal.connectors.transforms import InsertField, RecordIsTombstone


class AuditSinkTask(SinkTask):
    def version(self) -> str:
        return "2.0"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def put(self, records: list[SinkRecord]) -> None:
        pass

    def stop(self) -> None:
        pass


class AuditSinkConnector(SinkConnector):
    def version(self) -> str:
        return "2.0"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def task_class(self) -> type[SinkTask]:
        return AuditSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return ConfigDef()


def test_kafka_class_names_resolve_to_the_builtins() -> None:
    assert converter_class("org.apache.kafka.connect.json.JsonConverter") is JsonConverter
    assert converter_class("org.apache.kafka.connect.storage.StringConverter") is StringConverter
    assert converter_class("org.apache.kafka.connect.converters.ByteArrayConverter").__name__ == (
        "ByteArrayConverter"
    )
    assert header_converter_class("org.apache.kafka.connect.storage.SimpleHeaderConverter")
    assert (
        transformation_class("org.apache.kafka.connect.transforms.InsertField$Value")
        is InsertField.Value
    )
    assert (
        predicate_class("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone")
        is RecordIsTombstone
    )


def test_short_aliases_with_and_without_the_type_suffix() -> None:
    assert converter_class("JsonConverter") is JsonConverter
    assert converter_class("Json") is JsonConverter
    assert converter_class("String") is StringConverter
    assert converter_class("MsgpackConverter").__name__ == "MsgpackConverter"
    assert transformation_class("InsertField$Key") is InsertField.Key
    assert transformation_class("InsertField.Key") is InsertField.Key


def test_python_paths_including_nested_classes() -> None:
    assert converter_class("tidal.connectors.converters.JsonConverter") is JsonConverter
    assert converter_class("tidal.connectors.converters:JsonConverter") is JsonConverter
    assert (
        transformation_class("tidal.connectors.transforms.InsertField.Value") is InsertField.Value
    )
    with pytest.raises(LookupError, match="could not be found"):
        import_class("tidal.connectors.converters.Nope")
    with pytest.raises(LookupError, match="is not a converter"):
        converter_class("tidal.connectors.transforms.Filter")


def test_unknown_name_lists_what_is_available() -> None:
    with pytest.raises(LookupError, match=r"available plugins are: .*JsonConverter"):
        converter_class("Avro")


def test_connector_found_by_class_name_with_or_without_connector_suffix() -> None:
    plugins = Plugins([AuditSinkConnector], entry_points=False)
    for name in (
        "AuditSinkConnector",
        "AuditSink",
        f"{__name__}.AuditSinkConnector",
    ):
        assert plugins.plugin(name, PluginType.SOURCE, PluginType.SINK).cls is AuditSinkConnector
    assert plugins.connector_plugins() == [
        {"class": f"{__name__}.AuditSinkConnector", "type": "sink", "version": "2.0"}
    ]


def test_ambiguous_alias_is_refused() -> None:
    other = type("AuditSinkConnector", (AuditSinkConnector,), {"__module__": "elsewhere"})
    plugins = Plugins([AuditSinkConnector, other], entry_points=False)
    with pytest.raises(LookupError, match="ambiguous"):
        plugins.plugin("AuditSink", PluginType.SINK)
    assert plugins.plugin("elsewhere.AuditSinkConnector", PluginType.SINK).cls is other


def test_connector_plugins_shape_lists_every_kind_when_asked() -> None:
    everything = connector_plugins(connectors_only=False)
    assert all(set(entry) == {"class", "type", "version"} for entry in everything)
    kinds = {entry["type"] for entry in everything}
    assert {"converter", "header_converter", "transformation", "predicate"} <= kinds
    classes = {entry["class"] for entry in everything}
    assert "org.apache.kafka.connect.transforms.Cast$Value" in classes
    assert "org.apache.kafka.connect.json.JsonConverter" in classes


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """A throwaway distribution with a ``tidal.connectors`` entry point on sys.path."""
    package = tmp_path / "acme_connect"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from tidal.connectors.api import SourceConnector, SourceTask


            class AcmeTask(SourceTask):
                def version(self):
                    return "3.1"

                def start(self, props):
                    pass

                def poll(self):
                    return None

                def stop(self):
                    pass


            class AcmeSourceConnector(SourceConnector):
                def version(self):
                    return "3.1"

                def start(self, props):
                    pass

                def task_class(self):
                    return AcmeTask

                def task_configs(self, max_tasks):
                    return [{}]

                def stop(self):
                    pass

                def config(self):
                    from tidal.connectors.config import ConfigDef

                    return ConfigDef()
            """
        )
    )
    dist = tmp_path / "acme_connect-3.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-connect\nVersion: 3.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_connect:AcmeSourceConnector\n"
        "broken = acme_connect:DoesNotExist\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("acme_connect", None)


def test_entry_point_plugins_are_discovered(installed_plugin: Path) -> None:
    names = [e.name for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    assert "acme" in names
    plugins = Plugins()
    found = plugins.plugin("AcmeSource", PluginType.SOURCE)
    assert found.cls.__name__ == "AcmeSourceConnector"
    assert {"class": "acme_connect.AcmeSourceConnector", "type": "source", "version": "3.1"} in (
        plugins.connector_plugins()
    )


def test_plugin_config_lists_the_config_keys() -> None:
    keys = Plugins(entry_points=False).plugin_config("org.apache.kafka.connect.json.JsonConverter")
    by_name = {k["name"]: k for k in keys}
    assert by_name["schemas.enable"]["default_value"] == "true"
    assert by_name["decimal.format"]["default_value"] == "BASE64"
    assert set(by_name["schemas.enable"]) == {
        "name", "type", "required", "default_value", "importance", "documentation",
        "group", "width", "display_name", "dependents", "order",
    }  # fmt: skip
    mask = Plugins(entry_points=False).plugin_config("MaskField$Value")
    assert [k["name"] for k in mask] == ["fields", "replacement", "replace.null.with.default"]


def test_listed_by_the_public_path_that_re_exports_the_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "reexporting_connect"
    package.mkdir()
    (package / "_impl.py").write_text(
        textwrap.dedent(
            """
            from tidal.connectors.converters import StringConverter


            class ShownConverter(StringConverter):
                pass


            class HiddenConverter(StringConverter):
                pass
            """
        )
    )
    (package / "__init__.py").write_text("from reexporting_connect._impl import ShownConverter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from reexporting_connect import _impl  # noqa: PLC0415

    plugins = Plugins([_impl.ShownConverter, _impl.HiddenConverter], entry_points=False)
    listed = {info["class"] for info in plugins.connector_plugins(connectors_only=False)}
    assert "reexporting_connect.ShownConverter" in listed
    assert "reexporting_connect._impl.ShownConverter" not in listed
    # Not re-exported: listed where it is defined, the only path that imports it.
    assert "reexporting_connect._impl.HiddenConverter" in listed
    # Both paths of the re-exported class find the one listed plugin.
    for name in ("reexporting_connect.ShownConverter", "reexporting_connect._impl.ShownConverter"):
        desc = plugins.plugin(name, PluginType.CONVERTER)
        assert (desc.cls, desc.name) == (_impl.ShownConverter, "reexporting_connect.ShownConverter")
    assert "tidal.connectors.converters.MsgpackConverter" in listed
    for name in [n for n in sys.modules if n.startswith("reexporting_connect")]:
        del sys.modules[name]
