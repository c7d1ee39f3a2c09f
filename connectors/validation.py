"""Validating a whole connector config, as ``PUT /connector-plugins/{plugin}/config/validate`` does.

:func:`validate_connector_config` follows Kafka's ``AbstractHerder.validateConnectorConfig``:
the configs every source or sink accepts, enriched with one group per transform and
predicate alias (:func:`enrich`, Kafka's ``ConnectorConfig.enrich``), the sink topic checks,
then the connector's own ``config()`` and ``validate()``. The answer is Kafka Connect's
``ConfigInfos`` body::

    validate_connector_config({
        "connector.class": "FileStreamSink", "topics": "orders",
        "transforms": "mask", "transforms.mask.type": "MaskField$Value",
    })["error_count"]   # 2: "name" and "transforms.mask.fields" are missing
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import SinkConnector
from tidal.connectors.config import (
    NO_DEFAULT,
    ConfigDef,
    ConfigError,
    ConfigInfos,
    ConfigParseError,
    ConfigType,
    ConfigValue,
    Importance,
    Width,
    config_infos,
    parse_type,
    sink_connector_config,
    source_connector_config,
    validate_sink_topics,
)
from tidal.connectors.plugins import Plugins, PluginType, default_plugins

__all__ = ["enrich", "validate_connector_config"]

_KINDS = (
    # (alias list config, group, kind as Kafka words it, plugin type)
    ("transforms", "Transforms", "Transformation", PluginType.TRANSFORMATION),
    ("predicates", "Predicates", "Predicate", PluginType.PREDICATE),
)


class _ClassRecommender:
    """Recommends every known plugin of one type (Kafka's ``ClassRecommender``)."""

    def __init__(self, plugins: Plugins, kind: PluginType) -> None:
        self.plugins = plugins
        self.kind = kind

    def valid_values(self, name: str, parsed: Mapping[str, Any]) -> list[Any]:
        names = {d.name for d in self.plugins.plugins(self.kind) if "." in d.name}
        current = parsed.get(name)
        if current is not None:
            # Kafka compares resolved classes; an alias of a known class is as good as its name.
            try:
                self.plugins.plugin(current, self.kind)
                names.add(current)
            except LookupError:
                pass
        return sorted(names)

    def visible(self, name: str, parsed: Mapping[str, Any]) -> bool:
        return True


class _AliasType:
    """The ``type`` of an alias names a plugin of the right kind, and ``negate`` needs a
    ``predicate`` (Kafka's ``validateProps``)."""

    def __init__(self, plugins: Plugins, kind: PluginType, prefix: str, props: Mapping[str, str]):
        self.plugins = plugins
        self.kind = kind
        self.prefix = prefix
        self.props = props

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            return
        try:
            self.plugins.plugin(value, self.kind)
        except LookupError:
            raise ConfigParseError(name, value, f"Class {value} could not be found.") from None
        negate, predicate = self.prefix + "negate", self.prefix + "predicate"
        if (
            self.kind is PluginType.TRANSFORMATION
            and negate in self.props
            and predicate not in self.props
        ):
            raise ConfigError(
                f"Config '{negate}' was provided but there is no config '{predicate}' "
                "defining a predicate to be negated."
            )

    def __str__(self) -> str:
        return f"a {self.kind.value} class"


def _transform_extras() -> ConfigDef:
    # Every transform implicitly accepts these two (Kafka's TransformationStage configs).
    return (
        ConfigDef()
        .define("predicate", ConfigType.STRING, None, None, Importance.MEDIUM,
                "The alias of a predicate used to determine whether to apply this transformation.")
        .define("negate", ConfigType.BOOLEAN, False, None, Importance.MEDIUM,
                "Whether the configured predicate should be negated.")
    )  # fmt: skip


def enrich(base: ConfigDef, props: Mapping[str, str], plugins: Plugins | None = None) -> ConfigDef:
    """``base`` plus the configs of every transform and predicate alias in ``props``."""
    plugins = plugins or default_plugins()
    enriched = ConfigDef(base)
    for alias_config, group_name, kind_name, kind in _KINDS:
        try:
            aliases = parse_type(alias_config, props.get(alias_config, ""), ConfigType.LIST)
        except ConfigError:
            continue
        for alias in dict.fromkeys(aliases):
            prefix, group = f"{alias_config}.{alias}.", f"{group_name}: {alias}"
            word = kind_name.lower()
            class_name = (props.get(prefix + "type") or "").strip()
            try:
                desc = plugins.plugin(class_name, kind) if class_name else None
            except LookupError:
                desc = None
            enriched.define(
                prefix + "type",
                ConfigType.CLASS,
                NO_DEFAULT,
                _AliasType(plugins, kind, prefix, props),
                Importance.HIGH,
                f"Class for the '{alias}' {word}.",
                group=group,
                order=0,
                width=Width.LONG,
                display_name=f"{kind_name} type for {alias}",
                recommender=_ClassRecommender(plugins, kind),
            )
            enriched.define(
                prefix + "plugin.version", ConfigType.STRING, desc.version if desc else None,
                None, Importance.HIGH, f"Version of the '{alias}' {word}.", group=group,
                order=1, width=Width.LONG, display_name=f"{kind_name} version for {alias}",
            )  # fmt: skip
            if desc is None:
                continue
            own = desc.cls().config()
            if kind is PluginType.TRANSFORMATION:
                own = _transform_extras().merge(_without(own, ("predicate", "negate")))
            enriched.embed(prefix, group, 2, own)
    return enriched


def _without(config: ConfigDef, names: tuple[str, ...]) -> ConfigDef:
    kept = ConfigDef()
    for key in config.config_keys.values():
        if key.name not in names:
            kept.define_key(key)
    return kept


def validate_connector_config(
    props: Mapping[str, str], plugins: Plugins | None = None
) -> ConfigInfos:
    """Kafka Connect's validate answer for a full connector config.

    Raises ConfigError when ``connector.class`` is missing and LookupError when it names no
    known connector (Kafka answers both with 400 Bad Request).
    """
    plugins = plugins or default_plugins()
    class_name = (props.get("connector.class") or "").strip()
    if not class_name:
        raise ConfigError(f"Connector config {dict(props)} contains no connector type")
    desc = plugins.plugin(class_name, PluginType.SOURCE, PluginType.SINK)
    connector = desc.cls()
    is_sink = isinstance(connector, SinkConnector)
    base = sink_connector_config() if is_sink else source_connector_config()
    enriched = enrich(base, props, plugins)
    values = {v.name: v for v in enriched.validate_values(props)}
    if is_sink:
        validate_sink_topics(props, values)
    own_def: ConfigDef = connector.config()
    own_values: list[ConfigValue] = connector.validate(props)
    merged = ConfigDef(enriched)
    for key in own_def.config_keys.values():
        if key.name not in merged.config_keys:
            merged.define_key(key)
    groups = list(dict.fromkeys([*enriched.groups, *own_def.groups]))
    return config_infos(class_name, merged, [*values.values(), *own_values], groups)
