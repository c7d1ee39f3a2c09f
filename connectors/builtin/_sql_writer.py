"""Rows from sink records: primary key modes, table creation and evolution, batched statements.

Follows Confluent's JDBC sink (``FieldsMetadata``, ``DbStructure``, ``BufferedRecords``):

* ``pk.mode=none``: no key columns; ``kafka``: ``__connect_topic``, ``__connect_partition`` and
  ``__connect_offset`` (renamed by ``pk.fields``); ``record_key``: the key itself (one
  ``pk.fields`` name, default ``__connect_key``) or the named fields of a struct key;
  ``record_value``: the named fields of the value (default all of them).
* A record's value must be a :class:`~tidal.connectors.api.Struct` with a schema; a tombstone
  deletes the row when ``delete.enabled`` is set and is skipped otherwise.
* SQL text holds only identifiers quoted by the dialect and placeholders (hence the
  ``noqa: S608``); every value is bound as a parameter.
* Records are written in order: consecutive records that share a statement go out as one
  ``executemany`` (at most ``batch.size`` rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tidal.connectors.api import ConnectError, DataError, Schema, SinkRecord, Struct, Type

from ._sql_dialect import SqlDialect

__all__ = ["SinkSettings", "SqlWriter"]

_KAFKA_PK = ("__connect_topic", "__connect_partition", "__connect_offset")
_KAFKA_SCHEMAS = (Schema.STRING_SCHEMA, Schema.INT32_SCHEMA, Schema.INT64_SCHEMA)


@dataclass(frozen=True, slots=True)
class SinkSettings:
    """The parsed settings the writer needs."""

    insert_mode: str
    pk_mode: str
    pk_fields: tuple[str, ...]
    fields_whitelist: frozenset[str]
    table_format: str
    auto_create: bool
    auto_evolve: bool
    delete_enabled: bool
    batch_size: int


@dataclass(frozen=True, slots=True)
class _Columns:
    keys: tuple[tuple[str, Schema], ...]
    values: tuple[tuple[str, Schema], ...]


class SqlWriter:
    """Writes records as rows inside the caller's transaction."""

    def __init__(self, dialect: SqlDialect, settings: SinkSettings) -> None:
        self.dialect = dialect
        self.settings = settings
        self._tables: dict[str, set[str]] = {}

    def forget_tables(self) -> None:
        """Drop cached table layouts (after a rollback they may be wrong)."""
        self._tables.clear()

    def write(self, conn: Any, records: Sequence[SinkRecord]) -> None:
        """Write ``records`` in order; the caller commits."""
        pending_sql: str | None = None
        rows: list[list[Any]] = []
        for record in records:
            statement = self._statement(conn, record)
            if statement is None:
                continue
            sql, row = statement
            if sql != pending_sql or len(rows) >= self.settings.batch_size:
                self._execute(conn, pending_sql, rows)
                pending_sql, rows = sql, []
            rows.append(row)
        self._execute(conn, pending_sql, rows)

    @staticmethod
    def _execute(conn: Any, sql: str | None, rows: list[list[Any]]) -> None:
        if sql is None or not rows:
            return
        cursor = conn.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def table_name(self, record: SinkRecord) -> str:
        """``table.name.format`` with ``${topic}`` replaced."""
        return self.settings.table_format.replace("${topic}", record.topic)

    def _statement(self, conn: Any, record: SinkRecord) -> tuple[str, list[Any]] | None:
        table = self.table_name(record)
        d = self.dialect
        if record.value is None:
            if not self.settings.delete_enabled:
                return None
            key_columns = self._key_columns(record, None)
            where = d.where([k for k, _ in key_columns])
            sql = f"DELETE FROM {d.quote_table(table)} WHERE {where}"  # noqa: S608
            return sql, self._key_values(record, key_columns, None)
        if not isinstance(record.value, Struct) or record.value_schema is None:
            raise DataError(
                f"The SQL sink needs a Struct value with a schema (topic {record.topic}, offset "
                f"{record.kafka_offset}); use JsonConverter with value.converter.schemas.enable"
                "=true, or a source that produces schemas"
            )
        columns = self._columns(record, record.value)
        self._ensure_table(conn, table, columns)
        key_names = [k for k, _ in columns.keys]
        value_names = [v for v, _ in columns.values]
        values = [d.to_db(s, _field(record.value, n)) for n, s in columns.values]
        keys = self._key_values(record, columns.keys, record.value)
        mode = self.settings.insert_mode
        if mode == "insert":
            return d.insert(table, key_names + value_names), keys + values
        if not key_names:
            raise ConnectError(f"insert.mode={mode} needs a primary key: set pk.mode")
        if mode == "upsert":
            return d.upsert(table, key_names, value_names), keys + values
        if not value_names:
            return None  # nothing to update
        sets = ", ".join(f"{d.quote(c)} = {d.placeholder}" for c in value_names)
        sql = f"UPDATE {d.quote_table(table)} SET {sets} WHERE {d.where(key_names)}"  # noqa: S608
        return sql, values + keys

    def _columns(self, record: SinkRecord, value: Struct) -> _Columns:
        keys = self._key_columns(record, value)
        taken = {k for k, _ in keys}
        allowed = self.settings.fields_whitelist
        fields = tuple(
            (f.name, f.schema)
            for f in value.schema.fields
            if f.name not in taken and (not allowed or f.name in allowed)
        )
        return _Columns(keys, fields)

    def _key_columns(
        self, record: SinkRecord, value: Struct | None
    ) -> tuple[tuple[str, Schema], ...]:
        mode, names = self.settings.pk_mode, self.settings.pk_fields
        if mode == "none":
            if value is None:
                raise ConnectError("delete.enabled needs pk.mode=record_key")
            return ()
        if mode == "kafka":
            chosen = names or _KAFKA_PK
            if len(chosen) != 3:
                raise ConnectError("pk.mode=kafka takes exactly three pk.fields names")
            return tuple(zip(chosen, _KAFKA_SCHEMAS, strict=True))
        if mode == "record_key":
            schema = record.key_schema
            if schema is None or record.key is None:
                raise DataError(f"pk.mode=record_key needs a key with a schema ({record.topic})")
            if schema.type is not Type.STRUCT:
                if len(names) > 1:
                    raise ConnectError("A primitive key takes at most one pk.fields name")
                return ((names[0] if names else "__connect_key", schema),)
            return _pick(schema, names, "key")
        if value is None:
            raise ConnectError("delete.enabled needs pk.mode=record_key")
        return _pick(value.schema, names, "value")

    def _key_values(
        self, record: SinkRecord, keys: Sequence[tuple[str, Schema]], value: Struct | None
    ) -> list[Any]:
        mode = self.settings.pk_mode
        if mode == "kafka":
            raw: list[Any] = [record.topic, record.kafka_partition, record.kafka_offset]
        elif mode == "record_key":
            if isinstance(record.key, Struct):
                raw = [_field(record.key, name) for name, _ in keys]
            else:
                raw = [record.key]
        else:
            assert value is not None
            raw = [_field(value, name) for name, _ in keys]
        return [self.dialect.to_db(s, v) for (_, s), v in zip(keys, raw, strict=True)]

    def _ensure_table(self, conn: Any, table: str, columns: _Columns) -> None:
        known = self._tables.get(table)
        wanted = [*columns.keys, *columns.values]
        if known is not None and all(name in known for name, _ in wanted):
            return
        found = self.dialect.table_columns(conn, table)
        if found is None:
            if not self.settings.auto_create:
                raise ConnectError(f"Table {table} is missing and auto.create is disabled")
            self._create(conn, table, columns)
            found = self.dialect.table_columns(conn, table) or {}
        missing = [(n, s) for n, s in wanted if n not in found]
        if missing:
            if not self.settings.auto_evolve:
                names = ", ".join(n for n, _ in missing)
                raise ConnectError(f"Table {table} lacks {names} and auto.evolve is disabled")
            for name, schema in missing:
                if not schema.is_optional:
                    raise ConnectError(
                        f"Cannot add required column {name} to {table}: only optional "
                        "fields can be added"
                    )
                conn.execute(
                    f"ALTER TABLE {self.dialect.quote_table(table)} "
                    f"ADD COLUMN {self.dialect.quote(name)} {self._type(name, schema)}"
                )
        self._tables[table] = set(found) | {n for n, _ in missing}

    def _create(self, conn: Any, table: str, columns: _Columns) -> None:
        d = self.dialect
        parts = [
            f"{d.quote(name)} {self._type(name, schema)}"
            + ("" if schema.is_optional and (name, schema) not in columns.keys else " NOT NULL")
            for name, schema in [*columns.keys, *columns.values]
        ]
        if columns.keys:
            parts.append("PRIMARY KEY (" + ", ".join(d.quote(k) for k, _ in columns.keys) + ")")
        conn.execute(f"CREATE TABLE {d.quote_table(table)} (" + ", ".join(parts) + ")")

    def _type(self, name: str, schema: Schema) -> str:
        if not schema.type.is_primitive:
            raise ConnectError(
                f"Field {name} is a {schema.type.name}: the SQL sink writes primitive fields only"
            )
        return self.dialect.column_type(schema)


def _pick(schema: Schema, names: Sequence[str], what: str) -> tuple[tuple[str, Schema], ...]:
    if schema.type is not Type.STRUCT:
        raise DataError(f"pk.mode=record_{what} needs a struct {what}")
    if not names:
        return tuple((f.name, f.schema) for f in schema.fields)
    picked = []
    for name in names:
        field = schema.field(name)
        if field is None:
            raise ConnectError(f"pk.fields names {name}, which the record {what} does not have")
        picked.append((name, field.schema))
    return tuple(picked)


def _field(struct: Struct, name: str) -> Any:
    value = struct.get(name)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value
