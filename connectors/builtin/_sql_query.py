"""One table (or custom query) of the SQL source: its query, its offset, its rows as Structs.

The WHERE clauses are Kafka JDBC's (``TimestampIncrementingCriteria``):

======================  ========================================================================
mode                    rows read after offset (i, t); ``now`` is the database clock
======================  ========================================================================
bulk                    all of them, on every poll
incrementing            ``inc > i ORDER BY inc`` (first i is -1)
timestamp               ``t < ts < now - delay ORDER BY ts``
timestamp+incrementing  ``ts < now - delay AND ((ts = t AND inc > i) OR ts > t) ORDER BY ts, inc``
======================  ========================================================================

Offsets are Kafka JDBC's: ``{"incrementing": i}``, ``{"timestamp": epoch ms,
"timestamp_nanos": fraction of the second in ns}``, or all three. A custom ``query`` becomes a
subquery, so it may have its own WHERE. Timestamp-only mode can skip rows that share the
timestamp of the last row read before a restart; timestamp+incrementing cannot.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tidal.connectors.api import (
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    SourceRecord,
    Struct,
    Time,
    Timestamp,
)

from ._sql_dialect import SqlDialect

__all__ = ["QuerySpec", "TableQuerier"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# PostgreSQL type OIDs and the Connect schema of each.
_PG_TYPES: dict[int, Schema] = {
    16: Schema.OPTIONAL_BOOLEAN_SCHEMA, 17: Schema.OPTIONAL_BYTES_SCHEMA,
    20: Schema.OPTIONAL_INT64_SCHEMA, 21: Schema.OPTIONAL_INT16_SCHEMA,
    23: Schema.OPTIONAL_INT32_SCHEMA, 700: Schema.OPTIONAL_FLOAT32_SCHEMA,
    701: Schema.OPTIONAL_FLOAT64_SCHEMA,
    1082: SchemaBuilder.of(Date.SCHEMA).optional().build(),
    1083: SchemaBuilder.of(Time.SCHEMA).optional().build(),
    1114: SchemaBuilder.of(Timestamp.SCHEMA).optional().build(),
    1184: SchemaBuilder.of(Timestamp.SCHEMA).optional().build(),
}  # fmt: skip
_PG_NUMERIC = 1700


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """What one querier reads and how."""

    mode: str
    table: str | None
    query: str | None
    topic: str
    incrementing_column: str
    timestamp_columns: tuple[str, ...]
    delay_ms: int
    batch_max_rows: int


class TableQuerier:
    """Reads one table or query; remembers the offset of the last row handed out."""

    def __init__(self, dialect: SqlDialect, spec: QuerySpec, offset: Mapping[str, Any] | None):
        self.dialect = dialect
        self.spec = spec
        self.next_due = 0.0
        self.partition: dict[str, Any] = (
            {"table": spec.table} if spec.table is not None else {"query": "query"}
        )
        self._incrementing = -1
        self._timestamp = _EPOCH
        self.restore(offset)
        self._buffer: collections.deque[SourceRecord] = collections.deque()
        self._schemas: dict[tuple[Any, ...], Schema] = {}
        self._declared: dict[str, str] | None = None

    def restore(self, offset: Mapping[str, Any] | None) -> None:
        """Continue after a committed offset (None: from the start)."""
        offset = offset or {}
        self._incrementing = int(offset.get("incrementing", -1))
        self._timestamp = _from_offset(offset)

    @property
    def has_buffered(self) -> bool:
        """Rows already read and not yet handed out."""
        return bool(self._buffer)

    def poll(self, conn: Any) -> list[SourceRecord]:
        """Up to ``batch.max.rows`` new records (may be empty)."""
        if not self._buffer:
            self._read(conn)
        count = min(self.spec.batch_max_rows, len(self._buffer))
        return [self._buffer.popleft() for _ in range(count)]

    def _read(self, conn: Any) -> None:
        sql, params = self._sql(conn)
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            names = [column.name if hasattr(column, "name") else column[0]
                     for column in cursor.description]  # fmt: skip
            columns = list(cursor.description)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if self.dialect.name == "sqlite" and self.spec.table and self._declared is None:
            self._declared = self.dialect.table_columns(conn, self.spec.table) or {}
        for row in rows:
            self._buffer.append(self._record(names, columns, row))

    def _sql(self, conn: Any) -> tuple[str, list[Any]]:
        d, spec = self.dialect, self.spec
        source = d.quote_table(spec.table) if spec.table is not None else f"({spec.query}) AS q"
        base = f"SELECT * FROM {source}"  # noqa: S608 (a quoted table or the user's query)
        if spec.mode == "bulk":
            return base, []
        inc = d.quote(spec.incrementing_column) if spec.incrementing_column else ""
        if spec.mode == "incrementing":
            where = f"{inc} > {d.placeholder} ORDER BY {inc} ASC LIMIT {d.placeholder}"
            return f"{base} WHERE {where}", [self._incrementing, spec.batch_max_rows]
        columns = [d.quote(c) for c in spec.timestamp_columns]
        ts = d.timestamp_expr(
            columns[0] if len(columns) == 1 else f"COALESCE({', '.join(columns)})"
        )
        now = d.current_time(conn) - datetime.timedelta(milliseconds=spec.delay_ms)
        last, upper, p = d.timestamp_param(self._timestamp), d.timestamp_param(now), d.placeholder
        if spec.mode == "timestamp":
            where = f"{ts} > {p} AND {ts} < {p} ORDER BY {ts} ASC"
            return f"{base} WHERE {where}", [last, upper]
        where = (
            f"{ts} < {p} AND (({ts} = {p} AND {inc} > {p}) OR {ts} > {p}) "
            f"ORDER BY {ts}, {inc} ASC LIMIT {p}"
        )
        return f"{base} WHERE {where}", [upper, last, self._incrementing, last,
                                         spec.batch_max_rows]  # fmt: skip

    def _record(self, names: list[str], columns: list[Any], row: Sequence[Any]) -> SourceRecord:
        fields = [self._field_schema(n, c, v) for n, c, v in zip(names, columns, row, strict=True)]
        key = tuple(fields)
        schema = self._schemas.get(key)
        if schema is None:
            builder = SchemaBuilder.struct().name(self.spec.table or self.spec.topic)
            for name, field in zip(names, fields, strict=True):
                builder.field(name, field)
            schema = self._schemas[key] = builder.build()
        value = Struct(schema)
        for name, field, raw in zip(names, fields, row, strict=True):
            value.put(name, _convert(field, raw))
        return SourceRecord(
            topic=self.spec.topic, value_schema=schema, value=value,
            source_partition=self.partition, source_offset=self._advance(value),
        )  # fmt: skip

    def _advance(self, value: Struct) -> dict[str, Any] | None:
        mode, offset = self.spec.mode, {}
        if mode == "bulk":
            return None
        if "incrementing" in mode:
            self._incrementing = int(value.get(self.spec.incrementing_column))
            offset["incrementing"] = self._incrementing
        if "timestamp" in mode:
            moment = next(
                (value.get(c) for c in self.spec.timestamp_columns if value.get(c) is not None),
                None,
            )
            if not isinstance(moment, datetime.datetime):
                raise DataError(f"Timestamp column of {self.partition} is not a timestamp")
            self._timestamp = moment
            delta = moment - _EPOCH
            offset["timestamp"] = delta // datetime.timedelta(milliseconds=1)
            offset["timestamp_nanos"] = moment.microsecond * 1000
        return offset

    def _field_schema(self, name: str, column: Any, value: Any) -> Schema:
        type_code = getattr(column, "type_code", None)
        if isinstance(type_code, int):  # psycopg
            if type_code == _PG_NUMERIC:
                scale = getattr(column, "scale", None)
                if scale is not None:
                    return Decimal.builder(scale).optional().build()
                return Schema.OPTIONAL_FLOAT64_SCHEMA
            return _PG_TYPES.get(type_code, Schema.OPTIONAL_STRING_SCHEMA)
        declared = (self._declared or {}).get(name, "")
        return _sqlite_schema(declared, value)


def _sqlite_schema(declared: str, value: Any) -> Schema:
    """SQLite's affinity rules on the declared type; a query's columns by their values."""
    for marker, schema in (
        ("TIMESTAMP", Timestamp.SCHEMA), ("DATETIME", Timestamp.SCHEMA), ("DATE", Date.SCHEMA),
        ("TIME", Time.SCHEMA), ("BOOL", Schema.BOOLEAN_SCHEMA), ("INT", Schema.INT64_SCHEMA),
        ("CHAR", Schema.STRING_SCHEMA), ("CLOB", Schema.STRING_SCHEMA),
        ("TEXT", Schema.STRING_SCHEMA), ("BLOB", Schema.BYTES_SCHEMA),
        ("REAL", Schema.FLOAT64_SCHEMA), ("FLOA", Schema.FLOAT64_SCHEMA),
        ("DOUB", Schema.FLOAT64_SCHEMA), ("NUM", Schema.FLOAT64_SCHEMA),
        ("DEC", Schema.FLOAT64_SCHEMA),
    ):  # fmt: skip
        if marker in declared:
            return SchemaBuilder.of(schema).optional().build()
    if isinstance(value, int):
        return Schema.OPTIONAL_INT64_SCHEMA
    if isinstance(value, float):
        return Schema.OPTIONAL_FLOAT64_SCHEMA
    if isinstance(value, bytes):
        return Schema.OPTIONAL_BYTES_SCHEMA
    return Schema.OPTIONAL_STRING_SCHEMA


def _convert(schema: Schema, raw: Any) -> Any:
    if raw is None:
        return None
    if schema.name == Timestamp.LOGICAL_NAME:
        moment = (
            raw if isinstance(raw, datetime.datetime) else datetime.datetime.fromisoformat(str(raw))
        )
        return (
            moment.astimezone(datetime.UTC)
            if moment.tzinfo
            else moment.replace(tzinfo=datetime.UTC)
        )
    if schema.name == Date.LOGICAL_NAME:
        return raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))
    if schema.name == Time.LOGICAL_NAME:
        return raw if isinstance(raw, datetime.time) else datetime.time.fromisoformat(str(raw))
    if schema.name == Decimal.LOGICAL_NAME:
        return decimal.Decimal(raw).quantize(decimal.Decimal(1).scaleb(-Decimal.scale(schema)))
    converters: dict[str, Any] = {
        "int8": int, "int16": int, "int32": int, "int64": int, "float32": float,
        "float64": float, "boolean": bool, "bytes": bytes,
    }  # fmt: skip
    if schema.type.value in converters:
        return converters[schema.type.value](raw)
    if isinstance(raw, dict | list):
        return json.dumps(raw)
    return str(raw)


def _from_offset(offset: Mapping[str, Any]) -> datetime.datetime:
    millis = offset.get("timestamp")
    if millis is None:
        return _EPOCH
    seconds, _ = divmod(int(millis), 1000)
    micros = int(offset.get("timestamp_nanos", int(millis) % 1000 * 1_000_000)) // 1000
    return _EPOCH + datetime.timedelta(seconds=seconds, microseconds=micros)
