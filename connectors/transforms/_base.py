"""The transformation and predicate interfaces, and their ``$Key``/``$Value`` variants.

A single message transform (SMT) takes one record and returns a changed copy, the record
unchanged, or None to drop it. Transforms are plain synchronous code (no I/O); the runtime
calls them inline. Most of Kafka's SMTs come in two variants, working on the record key or
on its value: here ``InsertField.Key`` and ``InsertField.Value`` (Kafka's
``InsertField$Key`` and ``InsertField$Value``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from tidal.connectors.api import ConnectRecord, Schema
from tidal.connectors.config import ConfigDef

__all__ = ["KeyOrValueTransformation", "Predicate", "Transformation"]

R = TypeVar("R", bound=ConnectRecord)


class Transformation(ABC, Generic[R]):
    """Kafka's ``Transformation``: ``configure`` once, then ``apply`` per record."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read the transform's properties (``transforms.<alias>.`` prefix removed)."""
        return

    @abstractmethod
    def apply(self, record: R) -> R | None:
        """The transformed record, or None to drop it."""

    def config(self) -> ConfigDef:
        """The transform's config definition."""
        return ConfigDef()

    def close(self) -> None:
        """Release resources."""
        return


class Predicate(ABC, Generic[R]):
    """Kafka's ``Predicate``: decides whether a transform applies to a record."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read the predicate's properties (``predicates.<alias>.`` prefix removed)."""
        return

    @abstractmethod
    def test(self, record: R) -> bool:
        """True when the record matches."""

    def config(self) -> ConfigDef:
        """The predicate's config definition."""
        return ConfigDef()

    def close(self) -> None:
        """Release resources."""
        return


class KeyOrValueTransformation(Transformation[R]):
    """A transform with ``Key`` and ``Value`` variants; subclasses work on "the operand"."""

    #: True in the ``Key`` variant.
    is_key: ClassVar[bool] = False
    #: Kafka's class name without the ``$Key``/``$Value`` suffix.
    kafka_name: ClassVar[str] = ""

    def operating_schema(self, record: R) -> Schema | None:
        """The key or value schema."""
        return record.key_schema if self.is_key else record.value_schema

    def operating_value(self, record: R) -> Any:
        """The key or value."""
        return record.key if self.is_key else record.value

    def new_record(self, record: R, schema: Schema | None, value: Any) -> R:
        """The record with its key (or value) and schema replaced."""
        if self.is_key:
            return record.new_record(key_schema=schema, key=value)
        return record.new_record(value_schema=schema, value=value)


def key_and_value_variants(base: type[KeyOrValueTransformation[Any]]) -> None:
    """Attach ``base.Key`` and ``base.Value`` subclasses, named like Kafka's ``$Key``/``$Value``."""
    for suffix, is_key in (("Key", True), ("Value", False)):
        variant = type(suffix, (base,), {"is_key": is_key, "__module__": base.__module__})
        variant.__qualname__ = f"{base.__qualname__}.{suffix}"
        variant.__doc__ = (
            f"{base.__name__} on the record {suffix.lower()} "
            f"(Kafka's ``{base.kafka_name}${suffix}``)."
        )
        setattr(base, suffix, variant)
