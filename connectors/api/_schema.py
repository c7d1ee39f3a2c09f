"""Kafka Connect's schema model: types, schemas, fields and the fluent builder.

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

import builtins
import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ._errors import DataError, SchemaBuilderError

__all__ = ["Field", "Schema", "SchemaBuilder", "Type"]

_T = TypeVar("_T")


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
        elif fields:
            raise DataError(f"cannot give fields to a schema of type {type.name}")
        else:
            self._fields = None
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
        for field in self.fields:
            if field.name == name:
                return field
        return None

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


class SchemaBuilder:
    """Fluent builder of :class:`Schema` objects (Kafka's ``SchemaBuilder``).

    Each property may be set once; ``build()`` returns the immutable schema.
    """

    __slots__ = (
        "_default",
        "_doc",
        "_fields",
        "_key",
        "_name",
        "_optional",
        "_params",
        "_type",
        "_value",
        "_version",
    )

    def __init__(self, type: Type) -> None:
        self._type = type
        self._optional: builtins.bool | None = None
        self._default: Any = None
        self._name: str | None = None
        self._version: int | None = None
        self._doc: str | None = None
        self._params: dict[str, str] | None = None
        self._fields: dict[str, Field] | None = {} if type is Type.STRUCT else None
        self._key: Schema | None = None
        self._value: Schema | None = None

    # --- constructors by type, named as in Kafka ---
    @staticmethod
    def int8() -> SchemaBuilder:
        """A builder of an INT8 schema."""
        return SchemaBuilder(Type.INT8)

    @staticmethod
    def int16() -> SchemaBuilder:
        """A builder of an INT16 schema."""
        return SchemaBuilder(Type.INT16)

    @staticmethod
    def int32() -> SchemaBuilder:
        """A builder of an INT32 schema."""
        return SchemaBuilder(Type.INT32)

    @staticmethod
    def int64() -> SchemaBuilder:
        """A builder of an INT64 schema."""
        return SchemaBuilder(Type.INT64)

    @staticmethod
    def float32() -> SchemaBuilder:
        """A builder of a FLOAT32 schema."""
        return SchemaBuilder(Type.FLOAT32)

    @staticmethod
    def float64() -> SchemaBuilder:
        """A builder of a FLOAT64 schema."""
        return SchemaBuilder(Type.FLOAT64)

    @staticmethod
    def bool() -> SchemaBuilder:
        """A builder of a BOOLEAN schema."""
        return SchemaBuilder(Type.BOOLEAN)

    @staticmethod
    def string() -> SchemaBuilder:
        """A builder of a STRING schema."""
        return SchemaBuilder(Type.STRING)

    @staticmethod
    def bytes() -> SchemaBuilder:
        """A builder of a BYTES schema."""
        return SchemaBuilder(Type.BYTES)

    @staticmethod
    def struct() -> SchemaBuilder:
        """A builder of a STRUCT schema; add fields with :meth:`field`."""
        return SchemaBuilder(Type.STRUCT)

    @staticmethod
    def array(value_schema: Schema) -> SchemaBuilder:
        """A builder of an ARRAY schema whose items have ``value_schema``."""
        builder = SchemaBuilder(Type.ARRAY)
        builder._value = value_schema
        return builder

    @staticmethod
    def map(key_schema: Schema, value_schema: Schema) -> SchemaBuilder:
        """A builder of a MAP schema."""
        builder = SchemaBuilder(Type.MAP)
        builder._key = key_schema
        builder._value = value_schema
        return builder

    @staticmethod
    def of(schema: Schema) -> SchemaBuilder:
        """A builder pre-filled with every property of ``schema`` (to derive a variant)."""
        builder = SchemaBuilder(schema.type)
        builder._optional = True if schema.is_optional else None
        builder._default = schema.default_value
        builder._name = schema.name
        builder._version = schema.version
        builder._doc = schema.doc
        builder._params = dict(schema.parameters) if schema.parameters is not None else None
        if schema.type is Type.STRUCT:
            builder._fields = {f.name: f for f in schema.fields}
        builder._key = schema.key_schema
        builder._value = schema.value_schema
        return builder

    # --- properties ---
    @property
    def type(self) -> Type:
        """The type this builder makes."""
        return self._type

    def optional(self) -> SchemaBuilder:
        """Allow null values."""
        self._optional = _once(self._optional, True, "optional")
        return self

    def required(self) -> SchemaBuilder:
        """Forbid null values (the default)."""
        self._optional = _once(self._optional, False, "optional")
        return self

    def default_value(self, value: Any) -> SchemaBuilder:
        """Set the default value, checked against the schema built so far."""
        if self._default is not None:
            raise SchemaBuilderError("Invalid SchemaBuilder call: default has already been set.")
        validate_value(self._build(with_default=False), value, "default value")
        self._default = value
        return self

    def name(self, name: str) -> SchemaBuilder:
        """Set the schema's fully qualified name."""
        self._name = _once(self._name, name, "name")
        return self

    def version(self, version: int) -> SchemaBuilder:
        """Set the schema version."""
        self._version = _once(self._version, version, "version")
        return self

    def doc(self, doc: str) -> SchemaBuilder:
        """Set the documentation string."""
        self._doc = _once(self._doc, doc, "doc")
        return self

    def parameter(self, key: str, value: str) -> SchemaBuilder:
        """Add one string parameter (logical types keep e.g. the decimal ``scale`` here)."""
        if self._params is None:
            self._params = {}
        self._params[key] = value
        return self

    def parameters(self, params: Mapping[str, str]) -> SchemaBuilder:
        """Add several string parameters."""
        for key, value in params.items():
            self.parameter(key, value)
        return self

    def field(self, name: str, schema: Schema | SchemaBuilder) -> SchemaBuilder:
        """Append a field to a STRUCT schema."""
        if self._fields is None:
            raise SchemaBuilderError("Cannot create fields on type " + self._type.name)
        if not name:
            raise SchemaBuilderError("fieldName cannot be null.")
        if name in self._fields:
            raise SchemaBuilderError(
                "Cannot create field because of field name duplication " + name
            )
        built = schema.build() if isinstance(schema, SchemaBuilder) else schema
        self._fields[name] = Field(name, len(self._fields), built)
        return self

    def build(self) -> Schema:
        """The immutable schema."""
        return self._build(with_default=True)

    def _build(self, *, with_default: builtins.bool) -> Schema:
        return Schema(
            self._type,
            optional=bool(self._optional),
            default_value=self._default if with_default else None,
            name=self._name,
            version=self._version,
            doc=self._doc,
            parameters=self._params,
            fields=list(self._fields.values()) if self._fields is not None else None,
            key_schema=self._key,
            value_schema=self._value,
        )


def _once(current: _T | None, new: _T, what: str) -> _T:
    if current is not None and current != new:
        raise SchemaBuilderError(f"Invalid SchemaBuilder call: {what} has already been set.")
    return new


for _type in Type:
    if _type.is_primitive:
        setattr(Schema, f"{_type.name}_SCHEMA", Schema(_type))
        setattr(Schema, f"OPTIONAL_{_type.name}_SCHEMA", Schema(_type, optional=True))
del _type
