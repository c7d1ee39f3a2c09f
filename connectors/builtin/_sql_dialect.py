"""SQL dialects of the SQL source and sink: SQLite (stdlib ``sqlite3``) and PostgreSQL (psycopg 3).

A dialect knows how to connect from a ``connection.url``, how to quote identifiers, which
placeholder its driver takes, how Connect schemas map to column types, how to upsert, and how
to look up a table's columns. Values are always bound as parameters; only identifiers, quoted
by :meth:`SqlDialect.quote`, are ever put into SQL text.

URLs, with or without Kafka JDBC's ``jdbc:`` prefix::

    sqlite:/var/lib/app.db        sqlite:///var/lib/app.db      sqlite::memory:
    postgresql://user@host:5432/db?sslmode=disable
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from tidal.connectors.api import ConnectError, Date, Decimal, Schema, Time, Timestamp, Type
from tidal.connectors.config import ConfigError

__all__ = ["PostgresDialect", "SqlDialect", "SqliteDialect", "dialect_for"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class SqlDialect:
    """What differs between databases; one instance per connector task."""

    name = "generic"
    placeholder = "?"

    def connect(self, url: str, user: str | None, password: str | None) -> Any:
        """An open DB-API connection (autocommit; transactions are explicit)."""
        raise NotImplementedError

    @staticmethod
    def quote(identifier: str) -> str:
        """``identifier`` as a quoted SQL identifier (embedded quotes doubled)."""
        return '"' + identifier.replace('"', '""') + '"'

    def quote_table(self, table: str) -> str:
        """A possibly schema-qualified table name, each part quoted."""
        return ".".join(self.quote(part) for part in table.split("."))

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        """Run the block in one transaction: commit on success, roll back on any error."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def column_type(self, schema: Schema) -> str:
        """The column type that holds values of ``schema``."""
        raise NotImplementedError

    def table_columns(self, conn: Any, table: str) -> dict[str, str] | None:
        """Column name → declared type of ``table``, or None when it does not exist."""
        raise NotImplementedError

    def list_tables(self, conn: Any) -> list[str]:
        """The user tables of the database."""
        raise NotImplementedError

    def auto_increment_column(self, conn: Any, table: str) -> str | None:
        """The column the database numbers by itself, if ``table`` has one."""
        raise NotImplementedError

    def upsert(self, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        """``INSERT .. ON CONFLICT (keys) DO UPDATE`` (both databases share the syntax)."""
        names = [*keys, *columns]
        sql = self.insert(table, names)
        conflict = ", ".join(self.quote(k) for k in keys)
        if not columns:
            return f"{sql} ON CONFLICT ({conflict}) DO NOTHING"
        sets = ", ".join(f"{self.quote(c)} = excluded.{self.quote(c)}" for c in columns)
        return f"{sql} ON CONFLICT ({conflict}) DO UPDATE SET {sets}"

    def insert(self, table: str, columns: Sequence[str]) -> str:
        """A parameterised INSERT of ``columns``."""
        cols = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join([self.placeholder] * len(columns))
        return f"INSERT INTO {self.quote_table(table)} ({cols}) VALUES ({marks})"  # noqa: S608

    def where(self, keys: Sequence[str]) -> str:
        """``k1 = ? AND k2 = ?``."""
        return " AND ".join(f"{self.quote(k)} = {self.placeholder}" for k in keys)

    def to_db(self, schema: Schema, value: Any) -> Any:
        """A Connect value as the driver binds it."""
        return value

    def timestamp_expr(self, column_sql: str) -> str:
        """An expression over a timestamp column comparable with :meth:`timestamp_param`."""
        return column_sql

    def timestamp_param(self, moment: datetime.datetime) -> Any:
        """A bound value comparable with :meth:`timestamp_expr`."""
        return moment

    def current_time(self, conn: Any) -> datetime.datetime:
        """The database's clock, as an aware UTC datetime."""
        raise NotImplementedError


class SqliteDialect(SqlDialect):
    """SQLite through ``sqlite3``; timestamps are ISO-8601 text, compared at ms precision."""

    name = "sqlite"

    def connect(self, url: str, user: str | None, password: str | None) -> Any:
        """Open the file (created if missing); the runtime may call from several threads."""
        path = url.removeprefix("sqlite:")
        if path.startswith("//"):
            path = path[2:]
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def column_type(self, schema: Schema) -> str:
        """SQLite's affinity names; logical types by their SQL names."""
        by_name = {Decimal.LOGICAL_NAME: "NUMERIC", Date.LOGICAL_NAME: "DATE",
                   Time.LOGICAL_NAME: "TIME", Timestamp.LOGICAL_NAME: "TIMESTAMP"}  # fmt: skip
        if schema.name in by_name:
            return by_name[schema.name]
        return {
            Type.FLOAT32: "REAL", Type.FLOAT64: "REAL", Type.STRING: "TEXT", Type.BYTES: "BLOB",
            Type.BOOLEAN: "BOOLEAN",
        }.get(schema.type, "INTEGER")  # fmt: skip

    def table_columns(self, conn: Any, table: str) -> dict[str, str] | None:
        """From ``PRAGMA table_info``."""
        rows = conn.execute(f"PRAGMA table_info({self.quote_table(table)})").fetchall()
        return {row[1]: str(row[2]).upper() for row in rows} or None

    def list_tables(self, conn: Any) -> list[str]:
        """From ``sqlite_master``."""
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        return [row[0] for row in rows]

    def auto_increment_column(self, conn: Any, table: str) -> str | None:
        """An ``INTEGER PRIMARY KEY`` (SQLite's alias of the rowid)."""
        rows = conn.execute(f"PRAGMA table_info({self.quote_table(table)})").fetchall()
        keys = [row for row in rows if row[5]]
        if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER":
            return str(keys[0][1])
        return None

    def to_db(self, schema: Schema, value: Any) -> Any:
        """Dates and times as ISO text (sqlite3's own adapters are deprecated)."""
        if isinstance(value, datetime.datetime):
            utc = value.astimezone(datetime.UTC) if value.tzinfo else value
            return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, bool):
            return int(value)
        return value

    def timestamp_expr(self, column_sql: str) -> str:
        """Epoch milliseconds of ISO text, computed by SQLite itself (exact integers)."""
        return f"CAST(ROUND((julianday({column_sql}) - 2440587.5) * 86400000) AS INTEGER)"

    def timestamp_param(self, moment: datetime.datetime) -> Any:
        """Epoch milliseconds (naive datetimes are UTC)."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
        return (aware - _EPOCH) // datetime.timedelta(milliseconds=1)

    def current_time(self, conn: Any) -> datetime.datetime:
        """The process clock (SQLite runs in process)."""
        return datetime.datetime.now(datetime.UTC)


class PostgresDialect(SqlDialect):
    """PostgreSQL through psycopg 3; the session time zone is UTC."""

    name = "postgresql"
    placeholder = "%s"

    def connect(self, url: str, user: str | None, password: str | None) -> Any:
        """Connect with psycopg (``pip install 'tidal[postgres]'``)."""
        try:
            import psycopg  # noqa: PLC0415 (optional dependency)
        except ImportError:
            raise ConnectError(
                "The PostgreSQL dialect needs psycopg: pip install 'tidal[postgres]'"
            ) from None
        conn = psycopg.connect(url, autocommit=True, user=user, password=password)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        """psycopg's own transaction block."""
        with conn.transaction():
            yield

    def column_type(self, schema: Schema) -> str:
        """PostgreSQL's names for each Connect type."""
        if schema.name == Decimal.LOGICAL_NAME:
            return f"NUMERIC(1000, {Decimal.scale(schema)})"
        by_name = {Date.LOGICAL_NAME: "DATE", Time.LOGICAL_NAME: "TIME",
                   Timestamp.LOGICAL_NAME: "TIMESTAMP"}  # fmt: skip
        if schema.name in by_name:
            return by_name[schema.name]
        return {
            Type.INT8: "SMALLINT", Type.INT16: "SMALLINT", Type.INT32: "INTEGER",
            Type.INT64: "BIGINT", Type.FLOAT32: "REAL", Type.FLOAT64: "DOUBLE PRECISION",
            Type.BOOLEAN: "BOOLEAN", Type.BYTES: "BYTEA",
        }.get(schema.type, "TEXT")  # fmt: skip

    def table_columns(self, conn: Any, table: str) -> dict[str, str] | None:
        """From ``information_schema.columns`` (current schema unless qualified)."""
        schema, _, name = table.rpartition(".")
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s AND table_schema = COALESCE(NULLIF(%s, ''), current_schema()) "
            "ORDER BY ordinal_position",
            (name, schema),
        ).fetchall()
        return {row[0]: str(row[1]).upper() for row in rows} or None

    def list_tables(self, conn: Any) -> list[str]:
        """Base tables of the current schema."""
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = current_schema() ORDER BY table_name"
        ).fetchall()
        return [row[0] for row in rows]

    def auto_increment_column(self, conn: Any, table: str) -> str | None:
        """An identity column, or one whose default draws from a sequence (``serial``)."""
        schema, _, name = table.rpartition(".")
        row = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = COALESCE(NULLIF(%s, ''), current_schema()) "
            "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%') "
            "ORDER BY ordinal_position LIMIT 1",
            (name, schema),
        ).fetchone()
        return str(row[0]) if row else None

    def to_db(self, schema: Schema, value: Any) -> Any:
        """Naive datetimes are UTC; everything else binds as it is."""
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value

    def current_time(self, conn: Any) -> datetime.datetime:
        """``clock_timestamp()``, not the transaction's start."""
        moment: datetime.datetime = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        return moment.astimezone(datetime.UTC)


def dialect_for(url: str) -> tuple[SqlDialect, str]:
    """The dialect of a ``connection.url`` and the URL its driver takes."""
    bare = url.strip().removeprefix("jdbc:")
    if bare.startswith("sqlite:"):
        return SqliteDialect(), bare
    if bare.startswith(("postgresql:", "postgres:")):
        return PostgresDialect(), bare
    raise ConfigError(
        "connection.url", url, "expected sqlite:<path> or postgresql://host[:port]/database"
    )
