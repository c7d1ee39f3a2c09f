"""Validators and recommenders for config keys, with Kafka's names and error messages.

A validator is any object with ``ensure_valid(name, value)`` that raises
:class:`~tidal.connectors.config.ConfigError`; the ones here mirror ``ConfigDef.Range``,
``ValidString``, ``ValidList``, ``NonEmptyString`` and ``CaseInsensitiveValidString``::

    ConfigDef().define("tasks.max", ConfigType.INT, 1, Range.at_least(1), Importance.HIGH, "...")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ._types import ConfigError

__all__ = [
    "CaseInsensitiveValidString",
    "CompositeValidator",
    "LambdaValidator",
    "NonEmptyString",
    "Range",
    "Recommender",
    "ValidList",
    "ValidString",
    "Validator",
]


class Validator(Protocol):
    """Checks one parsed config value."""

    def ensure_valid(self, name: str, value: Any) -> None:
        """Raise ConfigError when ``value`` is not acceptable for config ``name``."""


class Recommender(Protocol):
    """Suggests values and decides visibility from the other parsed values (Kafka's)."""

    def valid_values(self, name: str, parsed: Mapping[str, Any]) -> list[Any]:
        """The values that make sense for ``name`` given the other configs ([] = any)."""

    def visible(self, name: str, parsed: Mapping[str, Any]) -> bool:
        """Whether ``name`` applies given the other configs."""


def _java(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


class Range:
    """A number between ``min`` and ``max`` (either may be None for unbounded)."""

    __slots__ = ("max", "min")

    def __init__(self, min: float | None, max: float | None) -> None:
        self.min = min
        self.max = max

    @classmethod
    def at_least(cls, min: float) -> Range:
        """At least ``min``."""
        return cls(min, None)

    @classmethod
    def between(cls, min: float, max: float) -> Range:
        """From ``min`` to ``max``, inclusive."""
        return cls(min, max)

    def ensure_valid(self, name: str, value: Any) -> None:
        """Check the bounds; None passes only without bounds (Kafka's rule)."""
        if value is None:
            raise ConfigError(name, "null", "Value must be non-null")
        if self.min is not None and value < self.min:
            raise ConfigError(name, value, "Value must be at least " + _java(self.min))
        if self.max is not None and value > self.max:
            raise ConfigError(name, value, "Value must be no more than " + _java(self.max))

    def __str__(self) -> str:
        if self.min is None:
            return f"[...,{_java(self.max)}]"
        if self.max is None:
            return f"[{_java(self.min)},...]"
        return f"[{_java(self.min)},...,{_java(self.max)}]"


class ValidString:
    """One of a fixed set of strings (case sensitive)."""

    __slots__ = ("valid",)

    def __init__(self, valid: Sequence[str]) -> None:
        self.valid = list(valid)

    @classmethod
    def in_(cls, *valid: str) -> ValidString:
        """One of ``valid`` (Kafka's ``ValidString.in``)."""
        return cls(valid)

    def ensure_valid(self, name: str, value: Any) -> None:
        """Reject anything not in the set."""
        if value not in self.valid:
            raise ConfigError(name, value, "String must be one of: " + ", ".join(self.valid))

    def __str__(self) -> str:
        return "[" + ", ".join(self.valid) + "]"


class CaseInsensitiveValidString:
    """One of a fixed set of strings, ignoring case."""

    __slots__ = ("valid",)

    def __init__(self, valid: Sequence[str]) -> None:
        self.valid = [v.upper() for v in valid]

    @classmethod
    def in_(cls, *valid: str) -> CaseInsensitiveValidString:
        """One of ``valid`` in any case."""
        return cls(valid)

    def ensure_valid(self, name: str, value: Any) -> None:
        """Reject anything not in the set, case-insensitively."""
        if not isinstance(value, str) or value.upper() not in self.valid:
            raise ConfigError(
                name, value, "String must be one of (case insensitive): " + ", ".join(self.valid)
            )

    def __str__(self) -> str:
        return "(case insensitive) [" + ", ".join(self.valid) + "]"


class ValidList:
    """A list whose every item is one of a fixed set (optionally allowing an empty list)."""

    __slots__ = ("allow_empty", "valid")

    def __init__(self, valid: Sequence[str], *, allow_empty: bool = True) -> None:
        self.valid = ValidString(valid)
        self.allow_empty = allow_empty

    @classmethod
    def in_(cls, *valid: str, allow_empty: bool = True) -> ValidList:
        """Every item one of ``valid``."""
        return cls(valid, allow_empty=allow_empty)

    def ensure_valid(self, name: str, value: Any) -> None:
        """Check each item."""
        items = list(value or [])
        if not items and not self.allow_empty:
            raise ConfigError(name, value, "Empty list is not allowed")
        for item in items:
            self.valid.ensure_valid(name, item)

    def __str__(self) -> str:
        return str(self.valid)


class NonEmptyString:
    """A string that is not empty."""

    __slots__ = ()

    def ensure_valid(self, name: str, value: Any) -> None:
        """Reject ''; None passes (a missing required config is reported on its own)."""
        if isinstance(value, str) and not value:
            raise ConfigError(name, value, "String must be non-empty")

    def __str__(self) -> str:
        return "non-empty string"


class LambdaValidator:
    """A validator from a function that returns an error message or None."""

    __slots__ = ("check", "description")

    def __init__(self, check: Callable[[str, Any], str | None], description: str = "") -> None:
        self.check = check
        self.description = description

    def ensure_valid(self, name: str, value: Any) -> None:
        """Raise with the message the function returned, if any."""
        message = self.check(name, value)
        if message is not None:
            raise ConfigError(name, value, message)

    def __str__(self) -> str:
        return self.description


class CompositeValidator:
    """Several validators, checked in order."""

    __slots__ = ("validators",)

    def __init__(self, validators: Iterable[Validator]) -> None:
        self.validators = list(validators)

    @classmethod
    def of(cls, *validators: Validator) -> CompositeValidator:
        """All of ``validators``."""
        return cls(validators)

    def ensure_valid(self, name: str, value: Any) -> None:
        """Run every validator."""
        for validator in self.validators:
            validator.ensure_valid(name, value)

    def __str__(self) -> str:
        return ", ".join(str(v) for v in self.validators)
