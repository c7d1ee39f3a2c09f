"""Kafka Connect's schema model: types, schemas, fields, and value validation.

A :class:`Schema` is immutable and compares by value, exactly like Kafka's ``ConnectSchema``;
:class:`SchemaBuilder` is the only way to make one with a name, fields or a default::

    schema = (
        SchemaBuilder.struct()
        .name("com.example.User")
        .field("id", Schema.INT64_SCHEMA)
        .field("email", Schema.OPTIONAL_STRING_SCHEMA)
        .build()
    )

Python values per type: ``int`` for INT8..INT64 (range checked), ``float`` for FLOAT32/64,
``bool``, ``str``, ``bytes`` (``bytearray``/``memoryview`` accepted), ``list`` for ARRAY, ``dict``
for MAP and :class:`~tidal.connectors.api.Struct` for STRUCT. Logical types (see ``_logical``)
use ``decimal.Decimal``, ``datetime.date``, ``datetime.time`` and ``datetime.datetime``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ._errors import DataError

__all__ = ["Field", "Schema", "Type", "validate_value"]


class Type(enum.Enum):
    """The schema types of Kafka Connect; the value is Kafka's lower-case type name."""

    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    @property
    def is_primitive(self) -> bool:
        """True for every type except ARRAY, MAP and STRUCT."""
        return self not in (Type.ARRAY, Type.MAP, Type.STRUCT)


_INT_RANGES = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a STRUCT schema: its name, position and schema."""

    name: str
    index: int
    schema: Schema


class Schema:
    """An immutable Kafka Connect schema (Kafka's ``ConnectSchema``).

    Build named, optional, defaulted or compound schemas with :class:`SchemaBuilder`; the
    class constants (``Schema.INT32_SCHEMA``, ``Schema.OPTIONAL_STRING_SCHEMA``, ...) cover the
    plain primitives.
    """

    INT8_SCHEMA: ClassVar[Schema]
    INT16_SCHEMA: ClassVar[Schema]
    INT32_SCHEMA: ClassVar[Schema]
    INT64_SCHEMA: ClassVar[Schema]
    FLOAT32_SCHEMA: ClassVar[Schema]
    FLOAT64_SCHEMA: ClassVar[Schema]
    BOOLEAN_SCHEMA: ClassVar[Schema]
    STRING_SCHEMA: ClassVar[Schema]
    BYTES_SCHEMA: ClassVar[Schema]
    OPTIONAL_INT8_SCHEMA: ClassVar[Schema]
    OPTIONAL_INT16_SCHEMA: ClassVar[Schema]
    OPTIONAL_INT32_SCHEMA: ClassVar[Schema]
    OPTIONAL_INT64_SCHEMA: ClassVar[Schema]
    OPTIONAL_FLOAT32_SCHEMA: ClassVar[Schema]
    OPTIONAL_FLOAT64_SCHEMA: ClassVar[Schema]
    OPTIONAL_BOOLEAN_SCHEMA: ClassVar[Schema]
    OPTIONAL_STRING_SCHEMA: ClassVar[Schema]
    OPTIONAL_BYTES_SCHEMA: ClassVar[Schema]

    __slots__ = (
        "_by_name",
        "_fields",
        "_hash",
        "default_value",
        "doc",
        "is_optional",
        "key_schema",
        "name",
        "parameters",
        "type",
        "value_schema",
        "version",
    )

    def __init__(
        self,
        type: Type,
        *,
        optional: bool = False,
        default_value: Any = None,
        name: str | None = None,
        version: int | None = None,
        doc: str | None = None,
        parameters: Mapping[str, str] | None = None,
        fields: Sequence[Field] | None = None,
        key_schema: Schema | None = None,
        value_schema: Schema | None = None,
    ) -> None:
        self.type = type
        self.is_optional = optional
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = dict(parameters) if parameters is not None else None
        if type is Type.STRUCT:
            self._fields: tuple[Field, ...] | None = tuple(fields or ())
            self._by_name = {f.name: f for f in self._fields}
        elif fields:
            raise DataError(f"cannot give fields to a schema of type {type.name}")
        else:
            self._fields = None
            self._by_name = {}
        self.key_schema = key_schema
        self.value_schema = value_schema
        self._hash: int | None = None
        self.default_value = None
        if default_value is not None:
            validate_value(self, default_value, "default value")
        self.default_value = default_value

    @property
    def fields(self) -> tuple[Field, ...]:
        """The fields of a STRUCT schema, in order; DataError for other types."""
        if self._fields is None:
            raise DataError("Cannot list fields on non-struct type")
        return self._fields

    def field(self, name: str) -> Field | None:
        """The field called ``name``, or None; DataError when the schema is not a STRUCT."""
        if self._fields is None:
            raise DataError("Cannot list fields on non-struct type")
        return self._by_name.get(name)

    def validate_value(self, value: Any) -> None:
        """Raise DataError unless ``value`` is a valid value of this schema."""
        validate_value(self, value)

    def _key(self) -> tuple[Any, ...]:
        params = tuple(sorted(self.parameters.items())) if self.parameters is not None else None
        return (
            self.type,
            self.is_optional,
            _hashable(self.default_value),
            self.name,
            self.version,
            self.doc,
            params,
            self._fields,
            self.key_schema,
            self.value_schema,
        )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Schema):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __repr__(self) -> str:
        label = f"{self.name}:" if self.name else ""
        optional = ",optional" if self.is_optional else ""
        return f"Schema{{{label}{self.type.name}{optional}}}"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def validate_value(schema: Schema, value: Any, what: str = "value") -> None:
    """Raise DataError unless ``value`` fits ``schema`` (``ConnectSchema.validateValue``)."""
    if value is None:
        if not schema.is_optional:
            raise DataError(f"Invalid {what}: null used for required field: {schema!r}")
        return
    if schema.name is not None:
        from ._logical import LOGICAL_TYPES  # noqa: PLC0415 (import cycle)

        logical = LOGICAL_TYPES.get(schema.name)
        if logical is not None:
            # datetime.datetime is a subclass of datetime.date: a Date takes the date alone.
            if not isinstance(value, logical.python_type) or (
                logical.python_type is datetime.date and isinstance(value, datetime.datetime)
            ):
                raise DataError(
                    f"Invalid Java object for schema with type {schema.type.name}: "
                    f"{type(value).__name__} for {what}; {schema.name} expects "
                    f"{logical.python_type.__name__}"
                )
            return
    kind = schema.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DataError(f"Invalid {what} for schema with type {kind.name}: {value!r}")
    elif kind in (Type.FLOAT32, Type.FLOAT64):
        if not isinstance(value, float):
            raise DataError(f"Invalid {what} for schema with type {kind.name}: {value!r}")
    elif kind is Type.BOOLEAN:
        _expect(value, bool, kind, what)
    elif kind is Type.STRING:
        _expect(value, str, kind, what)
    elif kind is Type.BYTES:
        _expect(value, (bytes, bytearray, memoryview), kind, what)
    elif kind is Type.ARRAY:
        _expect(value, (list, tuple), kind, what)
        assert schema.value_schema is not None
        for item in value:
            validate_value(schema.value_schema, item, what)
    elif kind is Type.MAP:
        _expect(value, dict, kind, what)
        assert schema.key_schema is not None
        assert schema.value_schema is not None
        for key, item in value.items():
            validate_value(schema.key_schema, key, what)
            validate_value(schema.value_schema, item, what)
    else:
        from ._struct import Struct  # noqa: PLC0415 (import cycle)

        _expect(value, Struct, kind, what)
        if value.schema != schema:
            raise DataError("Struct schemas do not match.")
        value.validate()


def _expect(value: Any, types: type | tuple[type, ...], kind: Type, what: str) -> None:
    if not isinstance(value, types):
        raise DataError(
            f"Invalid Java object for schema with type {kind.name}: "
            f"{type(value).__name__} for {what}"
        )


for _type in Type:
    if _type.is_primitive:
        setattr(Schema, f"{_type.name}_SCHEMA", Schema(_type))
        setattr(Schema, f"OPTIONAL_{_type.name}_SCHEMA", Schema(_type, optional=True))
del _type
