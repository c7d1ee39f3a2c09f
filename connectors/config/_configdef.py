"""ConfigDef: typed config definitions, parsing, and the ``/config/validate`` answer.

::

    CONFIG = (
        ConfigDef()
        .define("file", ConfigType.STRING, None, importance=Importance.HIGH,
                documentation="Source filename.")
        .define("batch.size", ConfigType.INT, 2000, Range.at_least(1), Importance.LOW,
                "The maximum number of records read per poll")
    )
    CONFIG.parse({"file": "/tmp/in.txt"})    # {'file': '/tmp/in.txt', 'batch.size': 2000}
    CONFIG.validate({"batch.size": "0"})     # Kafka Connect's ConfigInfos dict, error_count 1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._infos import ConfigInfos, config_infos
from ._types import (
    NO_DEFAULT,
    ConfigError,
    ConfigParseError,
    ConfigType,
    Importance,
    Width,
    parse_type,
)
from ._validators import Recommender, Validator

__all__ = ["ConfigDef", "ConfigKey", "ConfigValue"]


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One defined config (Kafka's ``ConfigDef.ConfigKey``)."""

    name: str
    type: ConfigType
    default_value: Any
    validator: Validator | None
    importance: Importance
    documentation: str
    group: str | None = None
    order_in_group: int = -1
    width: Width = Width.NONE
    display_name: str = ""
    dependents: tuple[str, ...] = ()
    recommender: Recommender | None = None
    internal: bool = False

    @property
    def has_default(self) -> bool:
        """False for required configs."""
        return self.default_value is not NO_DEFAULT


@dataclass(slots=True)
class ConfigValue:
    """The outcome of validating one config (Kafka's ``ConfigValue``)."""

    name: str
    value: Any = None
    recommended_values: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible: bool = True

    def add_error(self, message: str) -> None:
        """Record one problem with this config."""
        self.errors.append(message)


class ConfigDef:
    """A set of config definitions (Kafka's ``ConfigDef``); ``define`` calls chain."""

    NO_DEFAULT_VALUE: ClassVar[Any] = NO_DEFAULT

    def __init__(self, base: ConfigDef | None = None) -> None:
        self._keys: dict[str, ConfigKey] = dict(base._keys) if base else {}
        self._groups: list[str] = list(base._groups) if base else []

    def define(
        self,
        name: str,
        type: ConfigType,
        default: Any = NO_DEFAULT,
        validator: Validator | None = None,
        importance: Importance = Importance.MEDIUM,
        documentation: str = "",
        *,
        group: str | None = None,
        order: int = -1,
        width: Width = Width.NONE,
        display_name: str | None = None,
        dependents: Sequence[str] = (),
        recommender: Recommender | None = None,
        internal: bool = False,
    ) -> ConfigDef:
        """Add a config; ``default=NO_DEFAULT`` makes it required. Returns ``self``."""
        parsed = default if default is NO_DEFAULT else parse_type(name, default, type)
        if parsed is not NO_DEFAULT and validator is not None:
            validator.ensure_valid(name, parsed)
        key = ConfigKey(
            name,
            type,
            parsed,
            validator,
            importance,
            documentation,
            group,
            order,
            width,
            display_name if display_name is not None else name,
            tuple(dependents),
            recommender,
            internal,
        )
        return self.define_key(key)

    def define_internal(self, name: str, type: ConfigType, default: Any = NO_DEFAULT) -> ConfigDef:
        """Add a config that is left out of documentation (Kafka's ``defineInternal``)."""
        return self.define(name, type, default, importance=Importance.LOW, internal=True)

    def merge(self, other: ConfigDef) -> ConfigDef:
        """A new ConfigDef with the keys of both; ``other`` may not redefine a key."""
        merged = ConfigDef(self)
        for key in other._keys.values():
            if key.name in merged._keys:
                raise ConfigError(f"Configuration {key.name} is defined twice.")
            merged._keys[key.name] = key
            if key.group is not None and key.group not in merged._groups:
                merged._groups.append(key.group)
        return merged

    def define_key(self, key: ConfigKey) -> ConfigDef:
        """Add an already built key (Kafka's ``define(ConfigKey)``)."""
        if key.name in self._keys:
            raise ConfigError(f"Configuration {key.name} is defined twice.")
        if key.group is not None and key.group not in self._groups:
            self._groups.append(key.group)
        self._keys[key.name] = key
        return self

    def sorted_keys(self) -> list[ConfigKey]:
        """Keys by group, order in group, required first, importance, name (``sortedConfigs``)."""
        rank = {group: i for i, group in enumerate(self._groups)}
        importance = {Importance.HIGH: 0, Importance.MEDIUM: 1, Importance.LOW: 2}

        def sort_key(key: ConfigKey) -> tuple[int, int, int, int, str]:
            group = -1 if key.group is None else rank[key.group]
            return (
                group,
                key.order_in_group,
                key.has_default,
                importance[key.importance],
                key.name,
            )

        return sorted(self._keys.values(), key=sort_key)

    def embed(self, prefix: str, group: str, starting_order: int, child: ConfigDef) -> ConfigDef:
        """Add ``child``'s keys under ``prefix`` in ``group`` (Kafka's ``ConfigDef.embed``).

        Validators and recommenders of the embedded keys still see the unprefixed names.
        """
        for order, key in enumerate(child.sorted_keys(), start=starting_order):
            self.define_key(
                ConfigKey(
                    prefix + key.name,
                    key.type,
                    key.default_value,
                    _Unprefixed(prefix, key.validator) if key.validator else None,
                    key.importance,
                    key.documentation,
                    group if key.group is None else f"{group}: {key.group}",
                    order,
                    key.width,
                    key.display_name,
                    tuple(prefix + d for d in key.dependents),
                    key.recommender,
                    key.internal,
                )
            )
        return self

    @property
    def config_keys(self) -> Mapping[str, ConfigKey]:
        """The definitions by name, in definition order."""
        return self._keys

    def names(self) -> set[str]:
        """The defined config names."""
        return set(self._keys)

    @property
    def groups(self) -> list[str]:
        """The groups in the order they first appeared."""
        return list(self._groups)

    def parse(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values of every defined config; raises ConfigError on the first problem."""
        return {key.name: _parse_value(key, props) for key in self._keys.values()}

    def validate_values(self, props: Mapping[str, Any]) -> list[ConfigValue]:
        """One ConfigValue per defined config, with every problem found (``validateAll``)."""
        return list(self._validate_all(props).values())

    def _validate_all(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        values = {name: ConfigValue(name) for name in self._keys}
        for key in self._keys.values():
            for dependent in key.dependents:
                if dependent not in self._keys and dependent not in values:
                    undefined = ConfigValue(dependent, visible=False)
                    undefined.add_error(
                        f"{dependent} is referred in the dependents, but not defined."
                    )
                    values[dependent] = undefined
        parsed: dict[str, Any] = {}
        for key in self._keys.values():
            try:
                parsed[key.name] = _parse_value(key, props, check=False)
                if key.validator is not None:
                    # A value of the right type that the validator rejects is still shown.
                    key.validator.ensure_valid(key.name, parsed[key.name])
            except ConfigParseError as exc:
                parsed.pop(key.name, None)
                values[key.name].add_error(str(exc))
            except ConfigError as exc:
                values[key.name].add_error(str(exc))
        for key in self._keys.values():
            value = values[key.name]
            value.value = parsed.get(key.name)
            if key.recommender is not None:
                try:
                    recommended = key.recommender.valid_values(key.name, parsed)
                    current = parsed.get(key.name)
                    if current is not None and recommended and current not in recommended:
                        value.add_error(f"Invalid value for configuration {key.name}")
                    value.recommended_values = list(recommended)
                    value.visible = key.recommender.visible(key.name, parsed)
                except ConfigError as exc:
                    value.add_error(str(exc))
        return values

    def validate(self, props: Mapping[str, Any], *, name: str = "") -> ConfigInfos:
        """Validate ``props`` and answer in Kafka Connect's ``ConfigInfos`` shape.

        ``name`` is the ``name`` field of the answer (Connect puts the connector class there).
        """
        return config_infos(name, self, self.validate_values(props))

    def __repr__(self) -> str:
        return f"ConfigDef({list(self._keys)})"


class _Unprefixed:
    """An embedded key's validator, called with the name it was defined under."""

    __slots__ = ("prefix", "validator")

    def __init__(self, prefix: str, validator: Validator) -> None:
        self.prefix = prefix
        self.validator = validator

    def ensure_valid(self, name: str, value: Any) -> None:
        self.validator.ensure_valid(name.removeprefix(self.prefix), value)

    def __str__(self) -> str:
        return str(self.validator)


def _parse_value(key: ConfigKey, props: Mapping[str, Any], *, check: bool = True) -> Any:
    if key.name in props:
        value = parse_type(key.name, props[key.name], key.type)
    elif key.has_default:
        value = key.default_value
    else:
        raise ConfigError(
            f'Missing required configuration "{key.name}" which has no default value.'
        )
    if check and key.validator is not None:
        key.validator.ensure_valid(key.name, value)
    return value
