"""The SQL source against real SQLite and PostgreSQL databases, with Kafka JDBC's modes."""

from __future__ import annotations

import datetime
import decimal
import threading
from typing import Any

import pytest

from tidal.connectors.api import ConnectError, SourceRecord, Timestamp, Type
from tidal.connectors.builtin import SqlSourceConnector, SqlSourceTask
from tidal.connectors.config import ConfigError

T0 = datetime.datetime(2026, 1, 1, 10, 0, 0, tzinfo=datetime.UTC)


def ts(seconds: float) -> str:
    """A timestamp literal ``seconds`` after T0, as CURRENT_TIMESTAMP-style text."""
    moment = T0 + datetime.timedelta(seconds=seconds)
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")


def create_orders(database: Any) -> None:
    database.execute(
        'CREATE TABLE "orders" (id INTEGER PRIMARY KEY, item TEXT NOT NULL, qty INTEGER, '
        "price NUMERIC(10, 2), updated TIMESTAMP)"
    )


def add_orders(database: Any, *rows: tuple[int, str, float]) -> None:
    database.executemany(
        'INSERT INTO "orders" (id, item, qty, price, updated) VALUES (?, ?, ?, ?, ?)',
        [(i, f"item-{i}", i * 10, str(decimal.Decimal("1.25") * i), ts(t)) for i, _, t in rows],
    )


class Source:
    """A task plus the offsets the runtime would have committed for it."""

    def __init__(self, database: Any, source_context: Any, **props: str) -> None:
        context_cls, reader_cls = source_context
        self.props = {"connection.url": database.url, "topic.prefix": "db-",
                      "poll.interval.ms": "1", "table.whitelist": "orders",
                      **{k.replace("_", "."): v for k, v in props.items()}}  # fmt: skip
        self.reader = reader_cls()
        self.context_cls = context_cls
        self.task: SqlSourceTask | None = None

    def start(self) -> SqlSourceTask:
        connector = SqlSourceConnector()
        connector.start(self.props)
        (config,) = connector.task_configs(1)
        self.task = SqlSourceTask()
        self.task.initialize(self.context_cls(config, self.reader))
        self.task.start(config)
        return self.task

    def drain(self) -> list[SourceRecord]:
        """Poll until three polls in a row bring nothing; commit what was read."""
        assert self.task is not None
        out: list[SourceRecord] = []
        empty = 0
        for _ in range(200):
            batch = self.task.poll()
            out += batch
            empty = 0 if batch else empty + 1
            if empty == 3:
                break
        self.reader.commit(out)
        return out

    def stop(self) -> None:
        if self.task is not None:
            self.task.stop()


@pytest.fixture
def source(database: Any, source_context: Any) -> Any:
    made: list[Source] = []

    def make(**props: str) -> Source:
        made.append(Source(database, source_context, **props))
        return made[-1]

    yield make
    for item in made:
        item.stop()


def ids(records: list[SourceRecord]) -> list[int]:
    return [r.value.get("id") for r in records]


def test_incrementing_reads_new_rows_and_resumes(database: Any, source: Any) -> None:
    create_orders(database)
    add_orders(database, (1, "", 0), (2, "", 1), (3, "", 2))
    src = source(mode="incrementing", incrementing_column_name="id", batch_max_rows="2")
    src.start()
    first = src.drain()
    assert ids(first) == [1, 2, 3]
    record = first[0]
    assert record.topic == "db-orders"
    assert record.source_partition == {"table": "orders"}
    assert [r.source_offset for r in first] == [{"incrementing": i} for i in (1, 2, 3)]
    value = record.value
    assert (value.get("item"), value.get("qty")) == ("item-1", 10)
    assert value.schema.field("updated").schema.name == Timestamp.LOGICAL_NAME
    assert value.get("updated") == T0
    if database.kind == "postgresql":
        assert value.get("price") == decimal.Decimal("1.25")
        assert value.schema.field("qty").schema.type is Type.INT32
    add_orders(database, (4, "", 3))
    assert ids(src.drain()) == [4]
    src.stop()
    add_orders(database, (5, "", 4))
    restarted = source(mode="incrementing", incrementing_column_name="id")
    restarted.reader = src.reader
    restarted.start()
    assert ids(restarted.drain()) == [5]


def test_timestamp_incrementing_sees_updates_and_ties(database: Any, source: Any) -> None:
    create_orders(database)
    add_orders(database, (1, "", 0), (2, "", 0), (3, "", 5))
    src = source(mode="timestamp+incrementing", incrementing_column_name="id",
                 timestamp_column_name="updated", batch_max_rows="1")  # fmt: skip
    src.start()
    assert ids(src.drain()) == [1, 2, 3]
    last = src.reader.stored[(("table", "orders"),)]
    assert last == {"incrementing": 3, "timestamp": int((T0.timestamp() + 5) * 1000),
                    "timestamp_nanos": 0}  # fmt: skip
    database.execute('UPDATE "orders" SET qty = 99, updated = ? WHERE id = 1', ts(9))
    database.execute('INSERT INTO "orders" (id, item, updated) VALUES (7, ?, ?)', "x", ts(5))
    changed = src.drain()
    assert ids(changed) == [7, 1]
    assert changed[1].value.get("qty") == 99


def test_timestamp_delay_holds_back_recent_rows(database: Any, source: Any) -> None:
    create_orders(database)
    now = datetime.datetime.now(datetime.UTC)
    add_orders(database, (1, "", (now - T0).total_seconds() - 3600),
               (2, "", (now - T0).total_seconds() - 1))  # fmt: skip
    src = source(mode="timestamp", timestamp_column_name="updated",
                 timestamp_delay_interval_ms="600000")  # fmt: skip
    src.start()
    assert ids(src.drain()) == [1]


def test_bulk_reads_the_whole_table_every_time(database: Any, source: Any) -> None:
    create_orders(database)
    add_orders(database, (1, "", 0), (2, "", 0))
    src = source(mode="bulk")
    task = src.start()
    assert ids(task.poll()) == [1, 2]
    assert all(r.source_offset is None for r in src.drain())


def test_query_mode_with_its_own_where(database: Any, source: Any) -> None:
    create_orders(database)
    add_orders(database, (1, "", 0), (2, "", 0), (3, "", 0))
    src = source(mode="incrementing", incrementing_column_name="id", topic_prefix="big-orders",
                 query='SELECT id, qty FROM "orders" WHERE qty >= 20')  # fmt: skip
    src.start()
    records = src.drain()
    assert ids(records) == [2, 3]
    assert {r.topic for r in records} == {"big-orders"}
    assert [f.name for f in records[0].value.schema.fields] == ["id", "qty"]
    assert records[0].source_partition == {"query": "query"}


def test_connector_spreads_tables_and_checks_columns(database: Any) -> None:
    for name in ("a", "b", "c"):
        database.execute(f'CREATE TABLE "{name}" (id INTEGER)')
    connector = SqlSourceConnector()
    connector.start({"connection.url": database.url, "mode": "bulk", "topic.prefix": "t-",
                     "table.blacklist": "b"})  # fmt: skip
    configs = connector.task_configs(4)
    assert [c["tables"] for c in configs] == ['["a"]', '["c"]']
    with pytest.raises(ConfigError, match="incrementing"):
        connector.start({"connection.url": database.url, "mode": "incrementing",
                         "topic.prefix": "t-", "query": "SELECT 1"})  # fmt: skip


def test_incrementing_column_detected_when_not_named(database: Any, source: Any) -> None:
    key = "INTEGER PRIMARY KEY" if database.kind == "sqlite" else "SERIAL PRIMARY KEY"
    database.execute(f'CREATE TABLE "orders" (id {key}, item TEXT)')
    database.executemany('INSERT INTO "orders" (item) VALUES (?)', [("a",), ("b",)])
    database.execute('CREATE TABLE "plain" (item TEXT)')
    src = source(mode="incrementing")
    src.start()
    records = src.drain()
    assert ids(records) == [1, 2]
    assert records[-1].source_offset == {"incrementing": 2}
    with pytest.raises(ConnectError, match="no auto-increment column"):
        source(mode="incrementing", table_whitelist="plain").start()


def test_new_tables_reconfigure_the_tasks(database: Any) -> None:
    class Context:
        def __init__(self) -> None:
            self.requests = threading.Event()

        def request_task_reconfiguration(self) -> None:
            self.requests.set()

        def raise_error(self, error: BaseException) -> None:
            raise AssertionError(error)

    database.execute('CREATE TABLE "a" (id INTEGER)')
    connector = SqlSourceConnector()
    context = Context()
    connector.initialize(context)
    connector.start({"connection.url": database.url, "mode": "bulk", "topic.prefix": "t-",
                     "table.poll.interval.ms": "20"})  # fmt: skip
    try:
        assert [c["tables"] for c in connector.task_configs(2)] == ['["a"]']
        assert not context.requests.wait(0.2)
        database.execute('CREATE TABLE "b" (id INTEGER)')
        assert context.requests.wait(10)
        assert [c["tables"] for c in connector.task_configs(2)] == ['["a"]', '["b"]']
    finally:
        connector.stop()
