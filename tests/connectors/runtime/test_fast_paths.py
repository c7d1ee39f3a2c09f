"""The runtime's fast paths build the same records and bytes as the general ones."""

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.api import (
    Headers,
    Schema,
    SinkRecord,
    SourceRecord,
    TimestampType,
)
from tidal.connectors.api._records import empty_headers, make_sink_record, make_source_record
from tidal.connectors.builtin import FileStreamSinkTask
from tidal.connectors.builtin._file import _line
from tidal.connectors.converters import StringConverter


def test_make_source_record_is_the_constructed_record() -> None:
    fast = make_source_record(
        "t", 2, Schema.STRING_SCHEMA, "k", Schema.STRING_SCHEMA, "v", 7, None,
        {"filename": "a"}, {"position": 3},
    )  # fmt: skip
    slow = SourceRecord(
        topic="t", kafka_partition=2, key_schema=Schema.STRING_SCHEMA, key="k",
        value_schema=Schema.STRING_SCHEMA, value="v", timestamp=7,
        source_partition={"filename": "a"}, source_offset={"position": 3},
    )  # fmt: skip
    assert type(fast) is SourceRecord
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert fast.headers == Headers()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.value = "x"  # type: ignore[misc]


def test_make_sink_record_fills_the_original_fields() -> None:
    headers = Headers().add("h", "1")
    fast = make_sink_record(
        "t", 1, 42, None, None, Schema.OPTIONAL_STRING_SCHEMA, "v", 5,
        TimestampType.CREATE_TIME, headers,
    )  # fmt: skip
    slow = SinkRecord(
        topic="t", kafka_partition=1, kafka_offset=42, value_schema=Schema.OPTIONAL_STRING_SCHEMA,
        value="v", timestamp=5, timestamp_type=TimestampType.CREATE_TIME, headers=headers,
    )  # fmt: skip
    assert type(fast) is SinkRecord
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert (fast.original_topic, fast.original_kafka_partition, fast.original_kafka_offset) == (
        "t", 1, 42,
    )  # fmt: skip


def test_empty_headers_are_independent() -> None:
    first, second = empty_headers(), empty_headers()
    first.add("a", 1)
    assert len(first) == 1
    assert len(second) == 0
    assert second == Headers()


_COMMON_CHANGES: list[dict[str, Any]] = [
    {"topic": "u"},
    {"value": None, "timestamp": 9},
    {"headers": Headers().add("x", 1)},
]


@pytest.mark.parametrize(
    "changes",
    [*_COMMON_CHANGES, {"original_topic": None}, {"original_kafka_offset": 3, "kafka_offset": 8}],
)
def test_sink_new_record_matches_replace(changes: dict[str, Any]) -> None:
    record = SinkRecord(topic="t", kafka_partition=1, kafka_offset=4, value="v")
    made = record.new_record(**changes)
    assert made == dataclasses.replace(record, **{"headers": record.headers.duplicate(), **changes})
    assert made.headers is not record.headers


@pytest.mark.parametrize("changes", [*_COMMON_CHANGES, {"source_offset": {"position": 2}}])
def test_source_new_record_matches_replace(changes: dict[str, Any]) -> None:
    record = SourceRecord(topic="t", value="v", source_offset={"position": 1})
    made = record.new_record(**changes)
    assert type(made) is SourceRecord
    assert made == dataclasses.replace(record, **{"headers": record.headers.duplicate(), **changes})
    assert made.headers is not record.headers


def test_new_record_of_a_sink_record_without_originals_matches_replace() -> None:
    record = SinkRecord(topic="t", kafka_partition=None, value="v")  # type: ignore[arg-type]
    moved = record.new_record(kafka_partition=3)
    assert moved.original_kafka_partition == 3
    assert moved == dataclasses.replace(record, kafka_partition=3, headers=Headers())


def test_new_record_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError):
        SourceRecord(topic="t").new_record(nope=1)


class _Text(str):
    def __str__(self) -> str:
        return "other"


@pytest.mark.parametrize("value", ["héllo", "", _Text("mine"), None, 12, 1.5, True, [1, "a"]])
def test_string_converter_writes_what_java_to_string_gives(value: Any) -> None:
    from tidal.connectors._java import java_to_string  # noqa: PLC0415

    converter = StringConverter()
    expected = None if value is None else java_to_string(value).encode("utf-8")
    assert converter.from_connect_data("t", None, value) == expected


@pytest.mark.parametrize("value", [b"h\xc3\xa9", b"", bytearray(b"ab"), memoryview(b"cd"), None])
def test_string_converter_reads_bytes_like_values(value: Any) -> None:
    result = StringConverter().to_connect_data("t", value)
    assert result.schema == Schema.OPTIONAL_STRING_SCHEMA
    assert result.value == (None if value is None else bytes(value).decode("utf-8"))


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b\u00e9", ""],
        ["a", b"raw", 3, None, 1.5, "z"],
        [_Text("sub"), "x"],
        [],
    ],
)
async def test_file_sink_writes_one_line_per_value(tmp_path: Path, values: list[Any]) -> None:
    out = tmp_path / "out.txt"
    task = FileStreamSinkTask()
    task.start({"file": str(out)})
    records = [SinkRecord(topic="t", kafka_offset=i, value=v) for i, v in enumerate(values)]
    task.put(records)
    await task.stop()
    assert out.read_bytes() == b"".join(_line(v) for v in values)
