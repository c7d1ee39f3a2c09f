"""Config value types and Kafka's rules for parsing and printing them.

Every connector property arrives as a string. :func:`parse_type` turns it into the typed
value Kafka would: strings are trimmed, booleans are ``true``/``false`` in any case, lists
split on commas with the whitespace around them, passwords are wrapped in :class:`Password`
so they never show up in logs or reprs.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final

from tidal.connectors._java import java_double

_pytype = type

__all__ = [
    "NO_DEFAULT",
    "ConfigError",
    "ConfigParseError",
    "ConfigType",
    "Importance",
    "Password",
    "Width",
    "convert_to_string",
    "parse_type",
]


class ConfigError(ValueError):
    """A configuration is invalid (Kafka's ``ConfigException``).

    Built as ``ConfigError(name, value, message)`` it reads like Kafka's:
    ``Invalid value 0 for configuration tasks.max: Value must be at least 1``.
    """

    def __init__(self, name: str, value: Any = None, message: str | None = None) -> None:
        self.config_name: str | None = None
        self.config_value = value
        self.reason = message
        if value is None and message is None:
            text = name  # a plain message
        else:
            self.config_name = name
            text = f"Invalid value {_display(value)} for configuration {name}"
            if message:
                text += ": " + message
        super().__init__(text)

    def with_prefix(self, prefix: str) -> ConfigError:
        """The same error about ``prefix + name`` (e.g. ``transforms.mask.fields``)."""
        if self.config_name is None:
            return ConfigError(f"{prefix.rstrip('.')}: {self}")
        return ConfigError(prefix + self.config_name, self.config_value, self.reason)


class ConfigParseError(ConfigError):
    """A value that cannot be read as its type at all (e.g. a class that does not exist).

    Validation then shows no value for the config, as Kafka does when parsing fails.
    """


def _display(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class ConfigType(enum.Enum):
    """Kafka's ``ConfigDef.Type``."""

    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    LIST = "LIST"
    CLASS = "CLASS"
    PASSWORD = "PASSWORD"  # noqa: S105 (a type name, not a secret)


class Importance(enum.Enum):
    """Kafka's ``ConfigDef.Importance``."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Width(enum.Enum):
    """Kafka's ``ConfigDef.Width``: a hint for the width of a UI input box."""

    NONE = "NONE"
    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    LONG = "LONG"


class _NoDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final[Any] = _NoDefault()
"""Marks a config as required (Kafka's ``ConfigDef.NO_DEFAULT_VALUE``)."""


class Password:
    """A secret config value: ``str()`` and ``repr()`` print ``[hidden]``; read ``.value``."""

    HIDDEN = "[hidden]"
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.HIDDEN

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Password) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


_COMMA = re.compile(r"\s*,\s*")
_RANGES = {
    ConfigType.SHORT: (-(2**15), 2**15 - 1),
    ConfigType.INT: (-(2**31), 2**31 - 1),
    ConfigType.LONG: (-(2**63), 2**63 - 1),
}
_INT_PATTERN = re.compile(r"[+-]?\d+")
_JAVA_NAMES = {ConfigType.SHORT: "SHORT", ConfigType.INT: "INT", ConfigType.LONG: "LONG"}


def parse_type(name: str, value: Any, type: ConfigType) -> Any:
    """``value`` (usually a string) as a ``type`` value, by Kafka's ``ConfigDef.parseType``."""
    if value is None:
        return None
    trimmed = value.strip() if isinstance(value, str) else value
    if type is ConfigType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if trimmed.lower() == "true":
                return True
            if trimmed.lower() == "false":
                return False
            raise ConfigError(name, value, "Expected value to be either true or false")
        raise ConfigError(name, value, "Expected value to be either true or false")
    if type is ConfigType.PASSWORD:
        if isinstance(value, Password):
            return value
        if isinstance(value, str):
            return Password(trimmed)
        raise ConfigError(
            name, value, "Expected value to be a string, but it was a " + _kind(value)
        )
    if type in (ConfigType.STRING, ConfigType.CLASS):
        if isinstance(value, str):
            return trimmed
        if type is ConfigType.CLASS and isinstance(value, _pytype):
            return value
        raise ConfigError(
            name, value, "Expected value to be a string, but it was a " + _kind(value)
        )
    if type in _RANGES:
        low, high = _RANGES[type]
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _INT_PATTERN.fullmatch(trimmed):
            number = int(trimmed)
        else:
            raise ConfigError(name, value, f"Not a number of type {_JAVA_NAMES[type]}")
        if not low <= number <= high:
            raise ConfigError(name, value, f"Not a number of type {_JAVA_NAMES[type]}")
        return number
    if type is ConfigType.DOUBLE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(trimmed)
        except (TypeError, ValueError):
            raise ConfigError(name, value, "Not a number of type DOUBLE") from None
    # LIST
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [] if not trimmed else _COMMA.split(trimmed)
    raise ConfigError(name, value, "Expected a comma separated list.")


def _kind(value: Any) -> str:
    return _pytype(value).__name__


def convert_to_string(value: Any, type: ConfigType | None) -> str | None:
    """A parsed value printed the way Kafka's ``ConfigDef.convertToString`` prints it."""
    if value is None:
        return None
    if type is ConfigType.LIST and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if type is ConfigType.CLASS and isinstance(value, _pytype):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    return str(value)
