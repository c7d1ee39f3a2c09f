"""The SQL source: rows of SQLite or PostgreSQL tables into topics, by Kafka JDBC's modes.

::

    connector.class=SqlSource
    connection.url=sqlite:/var/lib/app.db
    mode=timestamp+incrementing
    incrementing.column.name=id
    timestamp.column.name=updated_at
    table.whitelist=orders,customers
    topic.prefix=db-

Each table goes to ``topic.prefix`` + its name (a ``query`` to ``topic.prefix`` itself); the
value is a Struct named after the table, with one optional field per column, typed from the
column types (see :mod:`tidal.connectors.builtin._sql_query`). The source partition is
``{"table": name}`` (``{"query": "query"}``); a restarted task resumes after the committed
offset. Tables are spread over at most ``tasks.max`` tasks; each is polled every
``poll.interval.ms`` (at once again while it has more rows than ``batch.max.rows``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from tidal._version import __version__
from tidal.connectors.api import (
    ConnectError,
    ExactlyOnceSupport,
    SourceConnector,
    SourceRecord,
    SourceTask,
)
from tidal.connectors.config import ConfigDef, ConfigError, ConfigValue

from ._checks import validate_with
from ._sql_config import sql_source_config
from ._sql_query import QuerySpec, TableQuerier
from ._sql_sink import connect_with_retries

__all__ = ["SqlSourceConnector", "SqlSourceTask"]

_log = logging.getLogger(__name__)
_TABLES = "tables"  # the task config holding its tables, a JSON list
_MAX_IDLE_S = 1.0


class SqlSourceConnector(SourceConnector):
    """Copies tables or a query's rows to topics (Confluent's ``JdbcSourceConnector`` configs)."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check the configuration; watch for new tables unless the tables are listed."""
        self._config = _checked(sql_source_config().parse(props))
        self.props = dict(props)
        self._stopping = threading.Event()
        self._known: list[str] | None = None
        self._monitor: threading.Thread | None = None
        listed = self._config["table.include.list"] or self._config["table.whitelist"]
        if not listed and not self._config["query"] and self.context is not None:
            self._monitor = threading.Thread(
                target=self._watch_tables, name="sql-source-tables", daemon=True
            )
            self._monitor.start()

    def _watch_tables(self) -> None:
        interval = self._config["table.poll.interval.ms"] / 1000
        while not self._stopping.wait(interval):
            try:
                tables = self._tables()
            except Exception as exc:  # noqa: BLE001 (an outage: look again next time)
                _log.warning("listing tables failed: %s", exc)
                continue
            if self._known is not None and tables != self._known:
                _log.info("tables changed to %s; reconfiguring the tasks", tables)
                self._known = tables
                self.context.request_task_reconfiguration()

    def task_class(self) -> type[SourceTask]:
        """:class:`SqlSourceTask`."""
        return SqlSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """One task for a query; otherwise the tables dealt round-robin over the tasks."""
        if self._config["query"]:
            return [dict(self.props)]
        tables = self._known = self._tables()
        groups = [tables[i::max_tasks] for i in range(min(max_tasks, len(tables)))]
        return [{**self.props, _TABLES: json.dumps(group)} for group in groups]

    def _tables(self) -> list[str]:
        wanted = list(self._config["table.include.list"] or self._config["table.whitelist"])
        if not wanted:
            dialect, conn = connect_with_retries(self._config)
            try:
                wanted = dialect.list_tables(conn)
            finally:
                conn.close()
        excluded = set(self._config["table.blacklist"])
        return [t for t in wanted if t not in excluded]

    def stop(self) -> None:
        """Stop watching the tables."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(10)

    def config(self) -> ConfigDef:
        """The ``connection.*``, ``mode``, column, table and polling settings."""
        return sql_source_config()

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        """Each setting, then the columns the ``mode`` needs."""
        return validate_with(sql_source_config(), props, _checked)

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport:
        """Supported by the incrementing and timestamp modes, which resume from an offset;
        bulk rereads whole tables on every poll."""
        if props.get("mode", "").strip() == "bulk":
            return ExactlyOnceSupport.UNSUPPORTED
        return ExactlyOnceSupport.SUPPORTED


class SqlSourceTask(SourceTask):
    """Polls its tables in turn, each no more often than ``poll.interval.ms``."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: Any = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._queriers: list[TableQuerier] = []

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Connect and restore each table's offset."""
        self._config = config = _checked(sql_source_config().parse(props))
        self._dialect, self._conn = connect_with_retries(config)
        tables: list[str | None] = (
            [None] if config["query"] else json.loads(props.get(_TABLES) or "[]")
        )
        try:
            for table in tables:
                self._queriers.append(self._querier(table))
        except BaseException:
            self._close()  # the runtime does not stop a task whose start failed
            raise

    def _querier(self, table: str | None) -> TableQuerier:
        config = self._config
        spec = QuerySpec(
            mode=config["mode"],
            table=table,
            query=config["query"] or None,
            topic=config["topic.prefix"] + (table or ""),
            incrementing_column=self._incrementing_column(table),
            timestamp_columns=tuple(config["timestamp.column.name"]),
            delay_ms=config["timestamp.delay.interval.ms"],
            batch_max_rows=config["batch.max.rows"],
        )
        querier = TableQuerier(self._dialect, spec, None)
        if self.context is not None:
            querier.restore(self.context.offset_storage_reader.offset(querier.partition))
        return querier

    def _incrementing_column(self, table: str | None) -> str:
        name: str = self._config["incrementing.column.name"]
        if name or "incrementing" not in self._config["mode"] or table is None:
            return name
        found = self._dialect.auto_increment_column(self._conn, table)
        if found is None:
            raise ConnectError(
                f"Table {table} has no auto-increment column: set incrementing.column.name"
            )
        return found

    def poll(self) -> list[SourceRecord]:
        """The next due table's new rows; waits (at most a second) when none is due."""
        if not self._queriers:
            self._stopping.wait(_MAX_IDLE_S)
            return []
        querier = min(self._queriers, key=lambda q: q.next_due)
        wait = querier.next_due - time.monotonic()
        if wait > 0:
            self._stopping.wait(min(wait, _MAX_IDLE_S))
            return []
        with self._lock:
            if self._stopping.is_set():
                return []
            try:
                records = querier.poll(self._connection())
            except Exception as exc:  # noqa: BLE001 (a database outage: retry next interval)
                _log.warning("polling %s failed (%s); retrying", querier.partition, exc)
                self._close()
                records = []
        full = len(records) >= self._config["batch.max.rows"] or querier.has_buffered
        interval = 0 if full else self._config["poll.interval.ms"] / 1000
        querier.next_due = time.monotonic() + interval
        return records

    def stop(self) -> None:
        """Stop polling and close the connection."""
        self._stopping.set()
        with self._lock:
            self._close()

    def _connection(self) -> Any:
        if self._conn is None:
            self._dialect, self._conn = connect_with_retries(self._config)
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _checked(config: dict[str, Any]) -> dict[str, Any]:
    mode = config["mode"]
    if "incrementing" in mode and not config["incrementing.column.name"] and config["query"]:
        raise ConfigError(
            "incrementing.column.name", "", f"mode={mode} with a query needs the column name"
        )
    if "timestamp" in mode and not config["timestamp.column.name"]:
        raise ConfigError("timestamp.column.name", "", f"mode={mode} needs the column name")
    return config
