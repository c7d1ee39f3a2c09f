"""Config definitions of the SQL source and sink, by Confluent's JDBC connector names."""

from __future__ import annotations

from tidal.connectors.config import (
    ConfigDef,
    ConfigType,
    Importance,
    NonEmptyString,
    Range,
    ValidString,
)

__all__ = [
    "OFFSETS_TABLE",
    "SOURCE_MODES",
    "connection_config",
    "sql_sink_config",
    "sql_source_config",
]

#: Where the SQL sink keeps the consumed offsets, next to the rows, for exactly-once delivery.
OFFSETS_TABLE = "__tidal_connect_offsets"
SOURCE_MODES = ("bulk", "incrementing", "timestamp", "timestamp+incrementing")
_CONNECTION = "Connection"


def connection_config(config: ConfigDef) -> ConfigDef:
    """Add the ``connection.*`` settings both connectors share."""
    return (
        config
        .define("connection.url", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Database URL: sqlite:<path> or "
                "postgresql://host[:port]/database (a jdbc: prefix is accepted).",
                group=_CONNECTION, order=1)
        .define("connection.user", ConfigType.STRING, None, None, Importance.HIGH,
                "Database user (PostgreSQL).", group=_CONNECTION, order=2)
        .define("connection.password", ConfigType.PASSWORD, None, None, Importance.HIGH,
                "Database password (PostgreSQL).", group=_CONNECTION, order=3)
        .define("connection.attempts", ConfigType.INT, 3, Range.at_least(1), Importance.LOW,
                "How many times to try to connect before failing.",
                group=_CONNECTION, order=4)
        .define("connection.backoff.ms", ConfigType.LONG, 10000, Range.at_least(0),
                Importance.LOW, "Wait between connection attempts, in milliseconds.",
                group=_CONNECTION, order=5)
    )  # fmt: skip


def sql_source_config() -> ConfigDef:
    """The SQL source's settings (Confluent's ``JdbcSourceConnectorConfig`` names)."""
    return connection_config(ConfigDef()) \
        .define("mode", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE,
                ValidString.in_(*SOURCE_MODES), Importance.HIGH,
                "How to find new rows: bulk (the whole table on every poll), incrementing "
                "(a strictly increasing column), timestamp (a modification time column), "
                "timestamp+incrementing (both: changes, with the id as tie-breaker).") \
        .define("incrementing.column.name", ConfigType.STRING, "", None, Importance.MEDIUM,
                "The strictly increasing, non-null column of the incrementing modes; empty "
                "means the table's auto-increment column (SQLite INTEGER PRIMARY KEY, "
                "PostgreSQL identity or serial).") \
        .define("timestamp.column.name", ConfigType.LIST, "", None, Importance.MEDIUM,
                "The timestamp column(s) of the timestamp modes; several are combined with "
                "COALESCE.") \
        .define("timestamp.delay.interval.ms", ConfigType.LONG, 0, Range.at_least(0),
                Importance.HIGH, "Only read rows whose timestamp is at least this much older "
                "than the database clock, so transactions still in flight with earlier "
                "timestamps can land first.") \
        .define("table.whitelist", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Tables to copy (default: every table).") \
        .define("table.include.list", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Newer name of table.whitelist.") \
        .define("table.blacklist", ConfigType.LIST, "", None, Importance.LOW,
                "Tables to leave out.") \
        .define("query", ConfigType.STRING, "", None, Importance.MEDIUM,
                "A custom SELECT instead of whole tables; it runs as a subquery under the "
                "connector's own WHERE, so it may have a WHERE of its own.") \
        .define("topic.prefix", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, None,
                Importance.HIGH, "Prefix of the topic names (the table name is appended), or "
                "the whole topic name with query.") \
        .define("table.poll.interval.ms", ConfigType.LONG, 60000, Range.at_least(1),
                Importance.LOW, "How often to look for new or dropped tables (when the "
                "tables are not listed), in milliseconds; a change reconfigures the tasks.") \
        .define("poll.interval.ms", ConfigType.INT, 5000, Range.at_least(1), Importance.HIGH,
                "How often each table is polled for new data, in milliseconds.") \
        .define("batch.max.rows", ConfigType.INT, 100, Range.at_least(1), Importance.LOW,
                "Most rows returned by one poll.")  # fmt: skip


def sql_sink_config() -> ConfigDef:
    """The SQL sink's settings (Confluent's ``JdbcSinkConfig`` names)."""
    return connection_config(ConfigDef()) \
        .define("insert.mode", ConfigType.STRING, "insert", ValidString.in_("insert", "upsert",
                "update"), Importance.HIGH, "insert: plain INSERT; upsert: INSERT .. ON "
                "CONFLICT (pk) DO UPDATE; update: UPDATE by primary key.") \
        .define("pk.mode", ConfigType.STRING, "none", ValidString.in_("none", "kafka", "record_key",
                "record_value"), Importance.HIGH, "Where the primary key comes from: none, kafka "
                "(__connect_topic, __connect_partition, __connect_offset), record_key (the key: "
                "a primitive or a struct) or record_value (fields of the value).") \
        .define("pk.fields", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Primary key column names; their meaning depends on pk.mode.") \
        .define("fields.whitelist", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Value fields to write (default: all).") \
        .define("table.name.format", ConfigType.STRING, "${topic}", NonEmptyString(),
                Importance.MEDIUM, "Destination table; ${topic} is replaced by the record's "
                "topic.") \
        .define("auto.create", ConfigType.BOOLEAN, False, None, Importance.MEDIUM,
                "CREATE TABLE from the record schema when the table is missing.") \
        .define("auto.evolve", ConfigType.BOOLEAN, False, None, Importance.MEDIUM,
                "ALTER TABLE ADD COLUMN for optional fields the table lacks.") \
        .define("delete.enabled", ConfigType.BOOLEAN, False, None, Importance.MEDIUM,
                "Delete the row of a tombstone (null value); needs pk.mode=record_key.") \
        .define("batch.size", ConfigType.INT, 3000, Range.at_least(1), Importance.MEDIUM,
                "Most rows sent in one statement batch.") \
        .define("max.retries", ConfigType.INT, 10, Range.at_least(0), Importance.MEDIUM,
                "How many times a batch is retried after a database error.") \
        .define("retry.backoff.ms", ConfigType.INT, 3000, Range.at_least(0), Importance.MEDIUM,
                "Wait before retrying a failed batch, in milliseconds.") \
        .define("offsets.table.name", ConfigType.STRING, OFFSETS_TABLE, NonEmptyString(),
                Importance.LOW, "Table that holds the consumed offsets, written in the same "
                "transaction as the rows (exactly-once delivery).")  # fmt: skip
