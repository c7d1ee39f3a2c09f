"""The SQL sink: Kafka records into SQLite or PostgreSQL tables, exactly once.

::

    connector.class=SqlSink
    topics=orders
    connection.url=postgresql://app@db:5432/shop
    insert.mode=upsert
    pk.mode=record_key
    auto.create=true

Exactly once: every ``put`` is one database transaction holding the rows *and* the next
offset of each consumed partition, in ``offsets.table.name``
(``__tidal_connect_offsets(connector, topic, partition, next_offset)``). On ``open`` the task
reads those offsets and asks the runtime to resume from them (``context.offset``), and records
below them are skipped, so a worker killed between the database commit and the Kafka offset
commit leaves exactly one row per record. Offsets are those of the record as consumed
(``original_topic``/``original_kafka_partition``/``original_kafka_offset``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from tidal._version import __version__
from tidal.connectors.api import (
    ConnectError,
    OffsetAndMetadata,
    RetriableError,
    SinkConnector,
    SinkRecord,
    SinkTask,
    TopicPartition,
)
from tidal.connectors.config import ConfigDef, ConfigError, ConfigValue, Password

from ._checks import validate_with
from ._sql_config import sql_sink_config
from ._sql_dialect import SqlDialect, dialect_for
from ._sql_writer import SinkSettings, SqlWriter

__all__ = ["SqlSinkConnector", "SqlSinkTask", "connect_with_retries"]

_log = logging.getLogger(__name__)


def connect_with_retries(config: Mapping[str, Any]) -> tuple[SqlDialect, Any]:
    """The dialect and an open connection, after ``connection.attempts`` tries."""
    dialect, url = dialect_for(config["connection.url"])
    password = config["connection.password"]
    secret = password.value if isinstance(password, Password) else None
    attempts = config["connection.attempts"]
    for attempt in range(1, attempts + 1):
        try:
            return dialect, dialect.connect(url, config["connection.user"], secret)
        except ConnectError:
            raise
        except Exception as exc:
            if attempt == attempts:
                raise ConnectError(f"Could not connect to {dialect.name}: {exc}") from exc
            _log.warning("connecting to %s failed (%s); retrying", dialect.name, exc)
            time.sleep(config["connection.backoff.ms"] / 1000)
    raise AssertionError("unreachable")


class SqlSinkConnector(SinkConnector):
    """Writes topics to SQL tables (Confluent's ``JdbcSinkConnector`` configs)."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check and keep the configuration."""
        _settings(sql_sink_config().parse(props))
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        """:class:`SqlSinkTask`."""
        return SqlSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """``max_tasks`` identical tasks; the consumer group spreads the partitions."""
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """The ``connection.*``, ``insert.mode``, ``pk.*``, ``auto.*`` and retry settings."""
        return sql_sink_config()

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        """Each setting, then the combinations (e.g. ``delete.enabled`` without a key)."""
        return validate_with(sql_sink_config(), props, _settings)

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[TopicPartition, int | None]
    ) -> bool:
        """Apply a REST offsets change to the offsets table too (None deletes the entry)."""
        config = sql_sink_config().parse(connector_config)
        dialect, conn = connect_with_retries(config)
        try:
            store = _OffsetStore(dialect, config["offsets.table.name"], _name(connector_config))
            with dialect.transaction(conn):
                store.create(conn)
                store.alter(conn, offsets)
        finally:
            conn.close()
        return True


class SqlSinkTask(SinkTask):
    """Writes each ``put`` and its offsets in one database transaction."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: Any = None
        self._next: dict[TopicPartition, int] = {}

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Connect and create the offsets table when missing."""
        self._config = sql_sink_config().parse(props)
        self._retries_left = self._config["max.retries"]
        self._dialect, self._conn = connect_with_retries(self._config)
        self._writer = SqlWriter(self._dialect, _settings(self._config))
        self._store = _OffsetStore(self._dialect, self._config["offsets.table.name"], _name(props))
        try:
            with self._dialect.transaction(self._conn):
                self._store.create(self._conn)
        except BaseException:
            self._close()  # the runtime does not stop a task whose start failed
            raise

    def open(self, partitions: Collection[TopicPartition]) -> None:
        """Resume the partitions from the offsets committed with the rows."""
        stored = self._store.read(self._connection(), partitions)
        self._next.update(stored)
        if stored and self.context is not None:
            self.context.offset(stored)

    def close(self, partitions: Collection[TopicPartition]) -> None:
        """Forget the revoked partitions."""
        for tp in partitions:
            self._next.pop(TopicPartition(*tp), None)

    def put(self, records: list[SinkRecord]) -> None:
        """Write the records not yet in the database, and their offsets, in one transaction."""
        fresh = [r for r in records if _offset(r) >= self._next.get(_tp(r), 0)]
        if not fresh:
            return
        ends: dict[TopicPartition, int] = {}
        for record in fresh:
            ends[_tp(record)] = max(ends.get(_tp(record), 0), _offset(record) + 1)
        conn = self._connection()
        try:
            with self._dialect.transaction(conn):
                self._writer.write(conn, fresh)
                self._store.write(conn, ends)
        except ConnectError:
            self._writer.forget_tables()
            raise
        except Exception as exc:  # noqa: BLE001 (any driver error: rolled back, retried)
            self._failed(exc)
        self._retries_left = self._config["max.retries"]
        self._next.update(ends)

    def _failed(self, exc: Exception) -> NoReturn:
        self._writer.forget_tables()
        if self._dialect.name == "postgresql":
            self._close()  # the next put reconnects
        if self._retries_left <= 0:
            raise ConnectError(f"Writing to the database failed: {exc}") from exc
        self._retries_left -= 1
        _log.warning("writing failed (%s); %d retries left", exc, self._retries_left)
        if self.context is not None:
            self.context.timeout(self._config["retry.backoff.ms"])
        raise RetriableError(str(exc)) from exc

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> Mapping[TopicPartition, OffsetAndMetadata]:
        """Everything ``put`` returned from is committed already: commit up to it."""
        return current_offsets

    def stop(self) -> None:
        """Close the connection."""
        self._close()

    def _connection(self) -> Any:
        if self._conn is None:
            self._dialect, self._conn = connect_with_retries(self._config)
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 (a broken connection still has to go)
                _log.debug("closing the connection failed", exc_info=True)


class _OffsetStore:
    """The offsets table: one row per connector, topic and partition."""

    def __init__(self, dialect: SqlDialect, table: str, connector: str) -> None:
        self.dialect = dialect
        self.table = table
        self.connector = connector

    def create(self, conn: Any) -> None:
        q = self.dialect.quote
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.dialect.quote_table(self.table)} ("
            f"{q('connector')} TEXT NOT NULL, {q('topic')} TEXT NOT NULL, "
            f"{q('partition')} INTEGER NOT NULL, {q('next_offset')} BIGINT NOT NULL, "
            f"PRIMARY KEY ({q('connector')}, {q('topic')}, {q('partition')}))"
        )

    def read(self, conn: Any, partitions: Collection[TopicPartition]) -> dict[TopicPartition, int]:
        d = self.dialect
        columns = ", ".join(d.quote(c) for c in ("topic", "partition", "next_offset"))
        table, where = d.quote_table(self.table), d.where(["connector"])
        sql = f"SELECT {columns} FROM {table} WHERE {where}"  # noqa: S608 (identifiers)
        rows = conn.execute(sql, (self.connector,)).fetchall()
        wanted = {TopicPartition(*tp) for tp in partitions}
        stored = {TopicPartition(row[0], int(row[1])): int(row[2]) for row in rows}
        return {tp: offset for tp, offset in stored.items() if tp in wanted}

    def write(self, conn: Any, ends: Mapping[TopicPartition, int]) -> None:
        sql = self.dialect.upsert(self.table, ["connector", "topic", "partition"], ["next_offset"])
        cursor = conn.cursor()
        try:
            cursor.executemany(sql, [[self.connector, t, p, n] for (t, p), n in ends.items()])
        finally:
            cursor.close()

    def alter(self, conn: Any, offsets: Mapping[TopicPartition, int | None]) -> None:
        d = self.dialect
        table, where = d.quote_table(self.table), d.where(["connector", "topic", "partition"])
        delete = f"DELETE FROM {table} WHERE {where}"  # noqa: S608 (identifiers)
        for (topic, partition), offset in offsets.items():
            if offset is None:
                conn.execute(delete, (self.connector, topic, partition))
        self.write(conn, {TopicPartition(*tp): n for tp, n in offsets.items() if n is not None})


def _settings(config: Mapping[str, Any]) -> SinkSettings:
    settings = SinkSettings(
        insert_mode=config["insert.mode"],
        pk_mode=config["pk.mode"],
        pk_fields=tuple(config["pk.fields"]),
        fields_whitelist=frozenset(config["fields.whitelist"]),
        table_format=config["table.name.format"],
        auto_create=config["auto.create"],
        auto_evolve=config["auto.evolve"],
        delete_enabled=config["delete.enabled"],
        batch_size=config["batch.size"],
    )
    if settings.delete_enabled and settings.pk_mode != "record_key":
        raise ConfigError("delete.enabled", True, "needs pk.mode=record_key")
    if settings.insert_mode != "insert" and settings.pk_mode == "none":
        raise ConfigError("pk.mode", "none", f"insert.mode={settings.insert_mode} needs a key")
    return settings


def _name(props: Mapping[str, str]) -> str:
    return props.get("name") or "sql-sink"


def _tp(record: SinkRecord) -> TopicPartition:
    return TopicPartition(record.original_topic or record.topic, _partition(record))


def _partition(record: SinkRecord) -> int:
    p = record.original_kafka_partition
    return record.kafka_partition if p is None else p


def _offset(record: SinkRecord) -> int:
    o = record.original_kafka_offset
    return record.kafka_offset if o is None else o
