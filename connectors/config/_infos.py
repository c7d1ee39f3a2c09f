"""The validate answer: Kafka Connect's ``ConfigInfos``, ``ConfigKeyInfo`` and ``ConfigValueInfo``.

The body of ``PUT /connector-plugins/{plugin}/config/validate``; field names, order and
value printing follow Kafka's REST entities (checked against Kafka's own answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypedDict

from ._types import ConfigType, convert_to_string

if TYPE_CHECKING:
    from ._configdef import ConfigDef, ConfigKey, ConfigValue

__all__ = [
    "ConfigInfo",
    "ConfigInfos",
    "ConfigKeyInfo",
    "ConfigValueInfo",
    "config_infos",
    "config_key_info",
    "config_value_info",
]


class ConfigKeyInfo(TypedDict):
    """The ``definition`` half of one entry of the validate answer."""

    name: str
    type: str
    required: bool
    default_value: str | None
    importance: str | None
    documentation: str | None
    group: str | None
    width: str | None
    display_name: str | None
    dependents: list[str]
    order: int


class ConfigValueInfo(TypedDict):
    """The ``value`` half of one entry of the validate answer."""

    name: str
    value: str | None
    recommended_values: list[str]
    errors: list[str]
    visible: bool


class ConfigInfo(TypedDict):
    """One entry of ``configs`` in the validate answer."""

    definition: ConfigKeyInfo | None
    value: ConfigValueInfo | None


class ConfigInfos(TypedDict):
    """The body of ``PUT /connector-plugins/{plugin}/config/validate`` (Kafka's ``ConfigInfos``)."""

    name: str
    error_count: int
    groups: list[str]
    configs: list[ConfigInfo]


def config_key_info(key: ConfigKey) -> ConfigKeyInfo:
    """The ``definition`` of one config in the validate answer."""
    return {
        "name": key.name,
        "type": key.type.value,
        "required": not key.has_default,
        "default_value": convert_to_string(key.default_value, key.type)
        if key.has_default
        else None,
        "importance": key.importance.value,
        "documentation": key.documentation,
        "group": key.group,
        "width": key.width.value,
        "display_name": key.display_name,
        "dependents": list(key.dependents),
        "order": key.order_in_group,
    }


def config_value_info(value: ConfigValue, type: ConfigType | None) -> ConfigValueInfo:
    """The ``value`` of one config in the validate answer (secrets print ``[hidden]``)."""
    item_type = ConfigType.STRING if type is ConfigType.LIST else type
    return {
        "name": value.name,
        "value": convert_to_string(value.value, type),
        "recommended_values": [
            str(convert_to_string(v, item_type)) for v in value.recommended_values
        ],
        "errors": list(value.errors),
        "visible": value.visible,
    }


def config_infos(
    name: str,
    config_def: ConfigDef,
    values: Iterable[ConfigValue],
    groups: Sequence[str] | None = None,
) -> ConfigInfos:
    """Kafka's ``AbstractHerder.generateResult``: definitions and values as one answer.

    Values without a definition come first (with ``definition`` null); ``error_count`` is
    the number of error messages.
    """
    keys = config_def.config_keys
    by_name: dict[str, ConfigValue] = {}
    configs: list[ConfigInfo] = []
    errors = 0
    for value in values:
        by_name[value.name] = value
        if value.name not in keys:
            configs.append({"definition": None, "value": config_value_info(value, None)})
            errors += len(value.errors)
    for key in keys.values():
        info: ConfigValueInfo | None = None
        if key.name in by_name:
            info = config_value_info(by_name[key.name], key.type)
            errors += len(by_name[key.name].errors)
        configs.append({"definition": config_key_info(key), "value": info})
    return {
        "name": name,
        "error_count": errors,
        "groups": list(groups if groups is not None else config_def.groups),
        "configs": configs,
    }
