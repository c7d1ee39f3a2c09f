"""Finding connectors, converters, transforms and predicates by name.

A plugin can be named the way Kafka Connect users name them:

* by Kafka's Java class name, for the built-ins
  (``org.apache.kafka.connect.json.JsonConverter``,
  ``org.apache.kafka.connect.transforms.InsertField$Value``);
* by a Python path, ``package.module.ClassName`` (or ``package.module:ClassName``; nested
  classes such as ``tidal.connectors.transforms.InsertField.Value`` too);
* by a short alias: the class name, or the class name without its type suffix
  (``FileStreamSource`` for ``FileStreamSourceConnector``, ``Json`` for ``JsonConverter``);
  an alias two plugins share is refused as ambiguous, as in Kafka.

Third-party packages make plugins discoverable through the entry-point group
``tidal.connectors``::

    [project.entry-points."tidal.connectors"]
    my-source = "my_package.source:MySourceConnector"

:func:`connector_plugins` gives the body of ``GET /connector-plugins``.
"""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypedDict

from tidal.connectors.api import SinkConnector, SourceConnector
from tidal.connectors.config import ConfigKeyInfo, config_key_info
from tidal.connectors.converters import (
    BooleanConverter,
    ByteArrayConverter,
    Converter,
    DoubleConverter,
    FloatConverter,
    HeaderConverter,
    IntegerConverter,
    JsonConverter,
    LongConverter,
    MsgpackConverter,
    ShortConverter,
    SimpleHeaderConverter,
    StringConverter,
)
from tidal.connectors.transforms import (
    KAFKA_PREDICATES,
    KAFKA_TRANSFORMS,
    Predicate,
    Transformation,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ConnectorPluginInfo",
    "PluginDesc",
    "PluginType",
    "Plugins",
    "connector_class",
    "connector_plugins",
    "converter_class",
    "default_plugins",
    "header_converter_class",
    "predicate_class",
    "transformation_class",
]

ENTRY_POINT_GROUP = "tidal.connectors"
_NUMBER_CONVERTERS = (
    ShortConverter,
    IntegerConverter,
    LongConverter,
    FloatConverter,
    DoubleConverter,
    BooleanConverter,
)
_log = logging.getLogger(__name__)


class PluginType(enum.Enum):
    """Kind of plugin; the value is Kafka's name for it in ``GET /connector-plugins``."""

    SOURCE = "source"
    SINK = "sink"
    CONVERTER = "converter"
    HEADER_CONVERTER = "header_converter"
    TRANSFORMATION = "transformation"
    PREDICATE = "predicate"

    @property
    def suffix(self) -> str:
        """What a pruned alias drops from the class name."""
        return {
            PluginType.SOURCE: "Connector",
            PluginType.SINK: "Connector",
            PluginType.CONVERTER: "Converter",
            PluginType.HEADER_CONVERTER: "HeaderConverter",
            PluginType.TRANSFORMATION: "Transformation",
            PluginType.PREDICATE: "Predicate",
        }[self]


# One entry of ``GET /connector-plugins`` (Kafka's ``PluginInfo``); "class" is a keyword,
# hence the functional form.
ConnectorPluginInfo = TypedDict("ConnectorPluginInfo", {"class": str, "type": str, "version": str})


@dataclass(frozen=True, slots=True)
class PluginDesc:
    """A discovered plugin: the name it is listed under, its class, kind and version."""

    name: str
    cls: type
    type: PluginType
    version: str

    def info(self) -> ConnectorPluginInfo:
        """The ``GET /connector-plugins`` entry."""
        return {"class": self.name, "type": self.type.value, "version": self.version}


def _tidal_version() -> str:
    try:
        return importlib.metadata.version("tidal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _types_of(cls: type) -> list[PluginType]:
    kinds = []
    if issubclass(cls, SourceConnector):
        kinds.append(PluginType.SOURCE)
    if issubclass(cls, SinkConnector):
        kinds.append(PluginType.SINK)
    if issubclass(cls, Converter):
        kinds.append(PluginType.CONVERTER)
    if issubclass(cls, HeaderConverter):
        kinds.append(PluginType.HEADER_CONVERTER)
    if issubclass(cls, Transformation):
        kinds.append(PluginType.TRANSFORMATION)
    if issubclass(cls, Predicate):
        kinds.append(PluginType.PREDICATE)
    return kinds


def _defining_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _python_name(cls: type) -> str:
    """The path users configure: the nearest package that re-exports ``cls`` from a
    private module (``tidal.connectors.builtin.DatagenSourceConnector`` rather than
    ``tidal.connectors.builtin._datagen.DatagenSourceConnector``), else where it is defined."""
    parts = cls.__module__.split(".")
    while len(parts) > 1 and parts[-1].startswith("_"):
        parts.pop()
        package = sys.modules.get(".".join(parts))
        owner: Any = package
        for attr in cls.__qualname__.split("."):
            owner = getattr(owner, attr, None)
        if owner is cls:
            return f"{'.'.join(parts)}.{cls.__qualname__}"
    return _defining_name(cls)


def _version_of(cls: type, kind: PluginType) -> str:
    if kind in (PluginType.SOURCE, PluginType.SINK):
        try:
            return str(cls().version())
        except Exception:  # noqa: BLE001 (a broken plugin must not break discovery)
            _log.warning("could not get the version of %s", _python_name(cls), exc_info=True)
            return "undefined"
    version = getattr(cls, "version", None)
    return version if isinstance(version, str) else _tidal_version()


def import_class(path: str) -> type:
    """The class at ``package.module.Class`` / ``package.module:Class`` (nested allowed)."""
    module_name, _, attrs = path.partition(":")
    if not attrs:
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                module = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            return _walk(module, parts[cut:], path)
        raise LookupError(f"Class {path} could not be found.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"Class {path} could not be found: {exc}") from exc
    return _walk(module, attrs.split("."), path)


def _walk(owner: Any, attrs: list[str], path: str) -> type:
    for attr in attrs:
        owner = getattr(owner, attr, None)
        if owner is None:
            raise LookupError(f"Class {path} could not be found.")
    if not isinstance(owner, type):
        raise LookupError(f"{path} is not a class.")
    return owner


class Plugins:
    """The plugins of one worker: built-ins, entry points, and whatever is imported by path."""

    def __init__(self, extra: Iterable[type] = (), *, entry_points: bool = True) -> None:
        self._by_name: dict[PluginType, dict[str, PluginDesc]] = {t: {} for t in PluginType}
        self._aliases: dict[PluginType, dict[str, set[str]]] = {t: {} for t in PluginType}
        kafka_builtins: dict[str, type] = {
            "org.apache.kafka.connect.json.JsonConverter": JsonConverter,
            "org.apache.kafka.connect.storage.StringConverter": StringConverter,
            "org.apache.kafka.connect.converters.ByteArrayConverter": ByteArrayConverter,
            "org.apache.kafka.connect.storage.SimpleHeaderConverter": SimpleHeaderConverter,
            **{f"org.apache.kafka.connect.converters.{c.__name__}": c for c in _NUMBER_CONVERTERS},
            **KAFKA_TRANSFORMS,
            **KAFKA_PREDICATES,
        }
        for name, cls in kafka_builtins.items():
            self.add(cls, name=name)
        self.add(MsgpackConverter)
        if entry_points:
            for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                try:
                    loaded = entry.load()
                except Exception:  # noqa: BLE001 (one broken package must not hide the rest)
                    _log.warning("could not load connector plugin %s", entry.value, exc_info=True)
                    continue
                self.add(loaded)
        for cls in extra:
            self.add(cls)

    def add(self, cls: type, *, name: str | None = None) -> None:
        """Register a plugin class (under ``name``, default its public Python path; the
        path of the module defining it finds it too)."""
        kinds = _types_of(cls)
        if not kinds:
            raise TypeError(
                f"{_python_name(cls)} is not a connector, converter, transform or predicate"
            )
        listed = name or _python_name(cls)
        for kind in kinds:
            desc = PluginDesc(listed, cls, kind, _version_of(cls, kind))
            self._by_name[kind][listed] = desc
            self._by_name[kind].setdefault(_python_name(cls), desc)
            self._by_name[kind].setdefault(_defining_name(cls), desc)  # a private module's path
            for alias in self._aliases_of(cls, listed, kind):
                self._aliases[kind].setdefault(alias, set()).add(listed)

    @staticmethod
    def _aliases_of(plugin_cls: type, listed: str, kind: PluginType) -> set[str]:
        simple = listed.rsplit(".", 1)[-1]  # Kafka's "InsertField$Value" stays whole
        names = {simple, plugin_cls.__qualname__}
        pruned = {
            n[: -len(kind.suffix)] for n in names if n.endswith(kind.suffix) and n != kind.suffix
        }
        return names | pruned

    def plugin(self, name: str, *kinds: PluginType) -> PluginDesc:
        """The plugin called ``name`` among ``kinds``; LookupError naming the candidates."""
        name = name.strip()
        for kind in kinds:
            found = self._by_name[kind].get(name)
            if found is not None:
                return found
        for kind in kinds:
            targets = self._aliases[kind].get(name)
            if targets is not None and len(targets) == 1:
                return self._by_name[kind][next(iter(targets))]
            if targets:
                raise LookupError(
                    f"Alias {name} is ambiguous: it names {', '.join(sorted(targets))}"
                )
        if "." in name or ":" in name:
            cls = import_class(name)
            for kind in kinds:
                if kind in _types_of(cls):
                    return PluginDesc(name, cls, kind, _version_of(cls, kind))
            raise LookupError(f"{name} is not a {' or '.join(k.value for k in kinds)} plugin")
        available = sorted({d.name for k in kinds for d in self._by_name[k].values()})
        raise LookupError(
            f"Failed to find any class that implements {kinds[0].value} and which name matches "
            f"{name}, available plugins are: {', '.join(available)}"
        )

    def plugins(self, *kinds: PluginType) -> list[PluginDesc]:
        """Every plugin of ``kinds``, once each, sorted by listed name."""
        unique = {(d.cls, d.type): d for k in kinds for d in self._by_name[k].values()}
        return sorted(unique.values(), key=lambda d: (d.name, d.type.value))

    def plugin_config(self, name: str) -> list[ConfigKeyInfo]:
        """The body of ``GET /connector-plugins/{name}/config``: the plugin's config keys."""
        desc = self.plugin(name, *PluginType)
        return [config_key_info(key) for key in desc.cls().config().config_keys.values()]

    def connector_plugins(self, *, connectors_only: bool = True) -> list[ConnectorPluginInfo]:
        """The body of ``GET /connector-plugins[?connectorsOnly=false]``."""
        kinds = [PluginType.SOURCE, PluginType.SINK]
        if not connectors_only:
            kinds += [k for k in PluginType if k not in kinds]
        return [desc.info() for desc in self.plugins(*kinds)]


@cache
def default_plugins() -> Plugins:
    """The process-wide registry (built-ins plus installed entry points)."""
    return Plugins()


def connector_class(name: str) -> type:
    """A source or sink connector class by name or alias."""
    return default_plugins().plugin(name, PluginType.SOURCE, PluginType.SINK).cls


def converter_class(name: str) -> type[Converter]:
    """A converter class by name or alias."""
    cls: type[Converter] = default_plugins().plugin(name, PluginType.CONVERTER).cls
    return cls


def header_converter_class(name: str) -> type[HeaderConverter]:
    """A header converter class by name or alias."""
    cls: type[HeaderConverter] = default_plugins().plugin(name, PluginType.HEADER_CONVERTER).cls
    return cls


def transformation_class(name: str) -> type:
    """A transform class by name or alias."""
    return default_plugins().plugin(name, PluginType.TRANSFORMATION).cls


def predicate_class(name: str) -> type:
    """A predicate class by name or alias."""
    return default_plugins().plugin(name, PluginType.PREDICATE).cls


def connector_plugins(*, connectors_only: bool = True) -> list[ConnectorPluginInfo]:
    """``GET /connector-plugins`` from the process-wide registry."""
    return default_plugins().connector_plugins(connectors_only=connectors_only)
