"""Struct values and the (schema, value) pair that converters return."""

from __future__ import annotations

from typing import Any, NamedTuple

from tidal.connectors._java import java_to_string

from ._errors import DataError
from ._schema import Field, Schema, Type, validate_value

__all__ = ["SchemaAndValue", "Struct"]


class SchemaAndValue(NamedTuple):
    """A value with its schema; ``SchemaAndValue.NULL`` is ``(None, None)``."""

    schema: Schema | None
    value: Any


SchemaAndValue.NULL = SchemaAndValue(None, None)  # type: ignore[attr-defined]


class Struct:
    """A value of a STRUCT schema (Kafka's ``Struct``).

    Fields are set with :meth:`put` (which checks the value against the field's schema and
    returns the struct, so calls chain) and read with :meth:`get` (which falls back to the
    field's default)::

        user = Struct(schema).put("id", 42).put("email", None)
        user.get("id")  # 42
    """

    __slots__ = ("_values", "schema")

    def __init__(self, schema: Schema) -> None:
        if schema.type is not Type.STRUCT:
            raise DataError("Not a struct schema: " + repr(schema))
        self.schema = schema
        self._values: list[Any] = [None] * len(schema.fields)

    def _lookup(self, field: str | Field) -> Field:
        if isinstance(field, Field):
            fields = self.schema.fields
            known = fields[field.index] if field.index < len(fields) else None
            if known is not field and known != field:
                raise DataError(f"Field {field.name} is not part of this schema")
            return field
        found = self.schema.field(field)
        if found is None:
            raise DataError(f"{field} is not a valid field name")
        return found

    def put(self, field: str | Field, value: Any) -> Struct:
        """Set a field after checking ``value`` against its schema; returns ``self``."""
        found = self._lookup(field)
        validate_value(found.schema, value, f'field "{found.name}"')
        self._values[found.index] = value
        return self

    def get(self, field: str | Field) -> Any:
        """The field's value, or the field schema's default when it was never set."""
        found = self._lookup(field)
        value = self._values[found.index]
        return found.schema.default_value if value is None else value

    def get_without_default(self, field: str | Field) -> Any:
        """The field's value as set, ignoring the schema default."""
        return self._values[self._lookup(field).index]

    @classmethod
    def from_values(cls, schema: Schema, values: list[Any]) -> Struct:
        """A struct holding ``values`` in field order, trusted to fit (converters use this
        for data they built from the schema themselves); ``validate()`` still checks."""
        struct = cls.__new__(cls)
        struct.schema = schema
        struct._values = values
        return struct

    @property
    def values(self) -> list[Any]:
        """The values as set, in field order (not copied: do not modify)."""
        return self._values

    def validate(self) -> None:
        """Raise DataError when a required field without a default is missing."""
        for field in self.schema.fields:
            value = self._values[field.index]
            if (
                value is None
                and field.schema.default_value is None
                and not field.schema.is_optional
            ):
                raise DataError(
                    f'Invalid value: null used for required field: "{field.name}", '
                    f"schema type: {field.schema.type.name}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (nested structs converted too)."""
        out: dict[str, Any] = {}
        for field in self.schema.fields:
            value = self.get(field)
            out[field.name] = value.to_dict() if isinstance(value, Struct) else value
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return self.schema == other.schema and self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ",".join(f"{f.name}={self._values[f.index]!r}" for f in self.schema.fields)
        return f"Struct{{{inner}}}"

    def __str__(self) -> str:
        """Kafka's ``Struct.toString``: ``Struct{name=value,...}`` without unset fields."""
        inner = ",".join(
            f"{f.name}={java_to_string(self._values[f.index])}"
            for f in self.schema.fields
            if self._values[f.index] is not None
        )
        return f"Struct{{{inner}}}"
