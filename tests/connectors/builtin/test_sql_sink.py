"""The SQL sink against real SQLite and PostgreSQL databases, driven as the runtime drives it."""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest

from tidal.connectors.api import (
    ConnectError,
    DataError,
    OffsetAndMetadata,
    RetriableError,
    Schema,
    SchemaBuilder,
    SinkRecord,
    Struct,
    Timestamp,
    TopicPartition,
)
from tidal.connectors.builtin import SqlSinkConnector, SqlSinkTask
from tidal.connectors.config import ConfigError

USER = (
    SchemaBuilder.struct()
    .name("shop.User")
    .field("id", Schema.INT64_SCHEMA)
    .field("name", Schema.STRING_SCHEMA)
    .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
    .field("active", Schema.BOOLEAN_SCHEMA)
    .field("seen", SchemaBuilder.of(Timestamp.SCHEMA).optional().build())
    .build()
)
USER_V2 = (
    SchemaBuilder.struct()
    .name("shop.User")
    .field("id", Schema.INT64_SCHEMA)
    .field("name", Schema.STRING_SCHEMA)
    .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
    .field("active", Schema.BOOLEAN_SCHEMA)
    .field("seen", SchemaBuilder.of(Timestamp.SCHEMA).optional().build())
    .field("email", Schema.OPTIONAL_STRING_SCHEMA)
    .build()
)
SEEN = datetime.datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=datetime.UTC)


def user(uid: int, name: str, schema: Schema = USER, **extra: Any) -> Struct:
    value = Struct(schema).put("id", uid).put("name", name).put("score", uid * 1.5)
    value.put("active", uid % 2 == 0).put("seen", SEEN)
    for field, item in extra.items():
        value.put(field, item)
    return value


def record(offset: int, value: Any, *, key: Any = None, partition: int = 0) -> SinkRecord:
    return SinkRecord(
        topic="users", kafka_partition=partition, kafka_offset=offset,
        key_schema=Schema.INT64_SCHEMA if key is not None else None, key=key,
        value_schema=value.schema if isinstance(value, Struct) else None, value=value,
    )  # fmt: skip


def start(database: Any, sink_context: Any, **props: str) -> tuple[SqlSinkTask, Any]:
    config = {"name": "users-sink", "connection.url": database.url, "auto.create": "true",
              **{k.replace("_", "."): v for k, v in props.items()}}  # fmt: skip
    task = SqlSinkTask()
    context = sink_context(config)
    task.initialize(context)
    task.start(config)
    return task, context


def test_insert_creates_the_table_from_the_schema(database: Any, sink_context: Any) -> None:
    task, _ = start(database, sink_context)
    try:
        task.open([TopicPartition("users", 0)])
        task.put([record(0, user(1, "ada")), record(1, user(2, "bob"))])
    finally:
        task.stop()
    rows = database.rows('SELECT id, name, score, active FROM "users" ORDER BY id')
    assert [(r[0], r[1], r[2], bool(r[3])) for r in rows] == [
        (1, "ada", 1.5, False),
        (2, "bob", 3.0, True),
    ]
    seen = database.rows('SELECT seen FROM "users" WHERE id = 1')[0][0]
    if database.kind == "sqlite":
        assert seen == "2026-03-01 12:30:15.250"
    else:
        assert seen == SEEN.replace(tzinfo=None)


def test_upsert_by_key_then_tombstone_deletes(database: Any, sink_context: Any) -> None:
    task, _ = start(database, sink_context, insert_mode="upsert", pk_mode="record_key",
                    pk_fields="uid", delete_enabled="true")  # fmt: skip
    try:
        task.put([record(0, user(1, "ada"), key=1), record(1, user(2, "bob"), key=2)])
        task.put([record(2, user(1, "ada lovelace"), key=1), record(3, None, key=2)])
    finally:
        task.stop()
    assert database.rows('SELECT uid, name FROM "users" ORDER BY uid') == [(1, "ada lovelace")]


def test_update_mode_changes_existing_rows_only(database: Any, sink_context: Any) -> None:
    database.execute('CREATE TABLE "users" (id BIGINT PRIMARY KEY, name TEXT, score REAL, '
                     "active BOOLEAN, seen TIMESTAMP)")  # fmt: skip
    database.execute('INSERT INTO "users" (id, name) VALUES (1, ?)', "old")
    task, _ = start(database, sink_context, insert_mode="update", pk_mode="record_value",
                    pk_fields="id", auto_create="false")  # fmt: skip
    try:
        task.put([record(0, user(1, "new")), record(1, user(9, "nobody"))])
    finally:
        task.stop()
    assert database.rows('SELECT id, name FROM "users"') == [(1, "new")]


def test_auto_evolve_adds_optional_columns(database: Any, sink_context: Any) -> None:
    task, _ = start(database, sink_context, auto_evolve="true", pk_mode="kafka")
    try:
        task.put([record(0, user(1, "ada"))])
        task.put([record(1, user(2, "bob", USER_V2, email="bob@example.com"))])
    finally:
        task.stop()
    rows = database.rows(
        'SELECT "__connect_topic", "__connect_partition", "__connect_offset", id, email '
        'FROM "users" ORDER BY id'
    )
    assert rows == [("users", 0, 0, 1, None), ("users", 0, 1, 2, "bob@example.com")]


def test_missing_table_without_auto_create_fails(database: Any, sink_context: Any) -> None:
    task, _ = start(database, sink_context, auto_create="false")
    try:
        with pytest.raises(ConnectError, match=r"auto\.create"):
            task.put([record(0, user(1, "ada"))])
        with pytest.raises(DataError, match=r"schemas\.enable"):
            task.put([record(1, {"id": 1})])
    finally:
        task.stop()


def test_a_failed_batch_leaves_no_rows_and_is_retried(database: Any, sink_context: Any) -> None:
    task, context = start(database, sink_context, pk_mode="record_value", pk_fields="id",
                          max_retries="1", retry_backoff_ms="5")  # fmt: skip
    try:
        task.put([record(0, user(1, "ada"))])
        clash = [record(1, user(2, "bob")), record(2, user(1, "ada again"))]
        with pytest.raises(RetriableError):
            task.put(clash)
        assert context.timeouts == [5]
        with pytest.raises(ConnectError):
            task.put(clash)  # retries used up
        assert database.rows('SELECT id FROM "users"') == [(1,)]
        assert database.rows('SELECT next_offset FROM "__tidal_connect_offsets"') == [(1,)]
    finally:
        task.stop()


def test_exactly_once_across_a_crash(database: Any, sink_context: Any) -> None:
    """Rows and offsets commit together: a task that dies before Kafka's offset commit
    resumes from the database's offsets and writes every record exactly once."""
    tps = [TopicPartition("users", 0), TopicPartition("users", 1)]
    first, _ = start(database, sink_context)
    try:
        first.open(tps)
        first.put([record(i, user(i, f"u{i}"), partition=i % 2) for i in range(10)])
        # The worker dies here: pre_commit never runs, Kafka still has no committed offsets.
    finally:
        first.stop()
    second, context = start(database, sink_context)
    try:
        second.open(tps)
        assert context.rewinds == {tps[0]: 9, tps[1]: 10}
        # A runtime that redelivers from Kafka's (older) offsets anyway changes nothing.
        second.put([record(i, user(i, f"u{i}"), partition=i % 2) for i in range(14)])
        committed = second.pre_commit({tps[0]: OffsetAndMetadata(14)})
        assert committed == {tps[0]: OffsetAndMetadata(14)}
    finally:
        second.stop()
    assert database.rows('SELECT id FROM "users" ORDER BY id') == [(i,) for i in range(14)]
    offsets = database.rows(
        'SELECT connector, topic, "partition", next_offset FROM "__tidal_connect_offsets" '
        'ORDER BY "partition"'
    )
    assert offsets == [("users-sink", "users", 0, 13), ("users-sink", "users", 1, 14)]


def test_alter_offsets_rewrites_the_offsets_table(database: Any, sink_context: Any) -> None:
    config = {"name": "users-sink", "connection.url": database.url}
    connector = SqlSinkConnector()
    assert connector.alter_offsets(config, {TopicPartition("users", 0): 42}) is True
    task, context = start(database, sink_context)
    try:
        task.open([TopicPartition("users", 0)])
        assert context.rewinds == {TopicPartition("users", 0): 42}
    finally:
        task.stop()
    connector.alter_offsets(config, {TopicPartition("users", 0): None})
    assert database.rows('SELECT * FROM "__tidal_connect_offsets"') == []


def test_connector_rejects_contradicting_settings() -> None:
    connector = SqlSinkConnector()
    with pytest.raises(ConfigError, match=r"delete\.enabled"):
        connector.start({"connection.url": "sqlite::memory:", "delete.enabled": "true"})
    with pytest.raises(ConfigError, match=r"pk\.mode"):
        connector.start({"connection.url": "sqlite::memory:", "insert.mode": "upsert"})
    connector.start({"connection.url": "sqlite::memory:", "topics": "a"})
    assert len(connector.task_configs(3)) == 3


def test_postgres_without_psycopg_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, sink_context: Any
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    task = SqlSinkTask()
    task.initialize(sink_context({}))
    with pytest.raises(ConnectError, match=r"pip install 'tidal\[postgres\]'"):
        task.start({"connection.url": "postgresql://127.0.0.1:1/db", "name": "x"})
