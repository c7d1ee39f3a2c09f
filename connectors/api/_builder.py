"""SchemaBuilder: the fluent way to make a named, optional, defaulted or compound Schema.

Mirrors Kafka's ``SchemaBuilder``: each property may be set once, ``build()`` returns the
immutable :class:`~tidal.connectors.api.Schema`::

    SchemaBuilder.struct().name("com.example.User").field("id", Schema.INT64_SCHEMA).build()
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, TypeVar

from ._errors import SchemaBuilderError
from ._schema import Field, Schema, Type, validate_value

__all__ = ["SchemaBuilder"]

_T = TypeVar("_T")


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
