"""Validating a connector configuration the way Kafka's ``AbstractHerder`` does.

The answer is Kafka Connect's ``ConfigInfos`` (``PUT /connector-plugins/{plugin}/config/
validate``): the common source or sink definitions first, then the connector's own, each
with its value and errors. Beyond the definitions it checks ``topics``/``topics.regex`` for
sinks, that the transforms and predicates can be built, and that the converters exist.
Creating a connector with errors fails with :func:`invalid_config_message`, Kafka's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import Connector, SinkConnector
from tidal.connectors.config import (
    ConfigDef,
    ConfigError,
    ConfigInfos,
    ConfigValue,
    config_infos,
    sink_connector_config,
    source_connector_config,
    validate_sink_topics,
)

from ._exceptions import BadRequestError
from ._plugins import WorkerPlugins
from ._worker_config import WorkerConfig

__all__ = ["invalid_config_message", "validate_connector_config"]


def validate_connector_config(
    plugins: WorkerPlugins, worker: WorkerConfig, props: Mapping[str, str]
) -> ConfigInfos:
    """Every problem with ``props``; BadRequestError when it names no connector class."""
    class_name = (props.get("connector.class") or "").strip()
    if not class_name:
        raise BadRequestError(f"Connector config {dict(props)} contains no connector type")
    try:
        connector_cls = plugins.connector_class(class_name)
        listed = plugins.connector_class_name(class_name)
    except LookupError as exc:
        raise BadRequestError(str(exc)) from None
    connector: Connector = connector_cls()
    is_sink = isinstance(connector, SinkConnector)
    base = sink_connector_config() if is_sink else source_connector_config()
    values = {v.name: v for v in base.validate_values(props)}
    if is_sink:
        validate_sink_topics(props, values)
    _check_plugins(plugins, worker, props, values)
    own_def: ConfigDef = connector.config()
    try:
        own_values = connector.validate(props)
    except ConfigError as exc:
        own_values = [ConfigValue("connector.class", class_name, errors=[str(exc)])]
    merged = base.merge(_without(own_def, base))
    for value in own_values:
        if value.name in values:
            values[value.name].errors.extend(
                e for e in value.errors if e not in values[value.name].errors
            )
        else:
            values[value.name] = value
    return config_infos(listed, merged, list(values.values()))


def _without(own: ConfigDef, base: ConfigDef) -> ConfigDef:
    """``own`` minus the keys ``base`` already defines (a connector may redefine ``topics``)."""
    trimmed = ConfigDef()
    for key in own.config_keys.values():
        if key.name not in base.config_keys:
            trimmed.define(
                key.name, key.type, key.default_value, key.validator, key.importance,
                key.documentation, group=key.group, order=key.order_in_group, width=key.width,
                display_name=key.display_name, dependents=key.dependents,
                recommender=key.recommender, internal=key.internal,
            )  # fmt: skip
    return trimmed


def _check_plugins(
    plugins: WorkerPlugins,
    worker: WorkerConfig,
    props: Mapping[str, str],
    values: dict[str, ConfigValue],
) -> None:
    try:
        plugins.converters(worker, props).close()
    except ConfigError as exc:
        name = exc.config_name or "value.converter"
        _add(values, name.split(".converter")[0] + ".converter", str(exc))
    try:
        plugins.transforms(props).close()
    except ConfigError as exc:
        target = "predicates" if (exc.config_name or "").startswith("predicates") else "transforms"
        _add(values, target, str(exc))


def _add(values: dict[str, ConfigValue], name: str, message: str) -> None:
    if name not in values:
        values[name] = ConfigValue(name)
    values[name].add_error(message)


def invalid_config_message(infos: ConfigInfos) -> str:
    """Kafka's 400 message for a create or update with errors."""
    messages: list[str] = []
    for entry in infos["configs"]:
        value: Any = entry["value"]
        if value is not None:
            messages.extend(value["errors"])
    return (
        f"Connector configuration is invalid and contains the following "
        f"{infos['error_count']} error(s):\n"
        + "".join(m + "\n" for m in messages)
        + "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )
