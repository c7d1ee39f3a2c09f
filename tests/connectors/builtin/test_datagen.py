"""The datagen source: quickstarts with keys, determinism, rate, limits and resumption."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tidal.connectors.api import Schema, SourceRecord, Struct
from tidal.connectors.builtin import DatagenSourceConnector, DatagenSourceTask
from tidal.connectors.config import ConfigError


def started(source_context: Any, reader: Any = None, **props: str) -> DatagenSourceTask:
    context_cls, reader_cls = source_context
    config = {"kafka.topic": "mock", "rate": "0",
              **{k.replace("_", "."): v for k, v in props.items()}}  # fmt: skip
    task = DatagenSourceTask()
    task.initialize(context_cls(config, reader if reader is not None else reader_cls()))
    task.start(config)
    return task


def take(task: DatagenSourceTask, count: int) -> list[SourceRecord]:
    out: list[SourceRecord] = []
    while len(out) < count:
        out += task.poll()
    return out


@pytest.mark.parametrize(
    ("quickstart", "key_field", "key_schema", "fields"),
    [
        ("users", "userid", Schema.STRING_SCHEMA, ["registertime", "userid", "regionid", "gender"]),
        ("pageviews", "userid", Schema.STRING_SCHEMA, ["viewtime", "userid", "pageid"]),
        ("orders", "orderid", Schema.INT32_SCHEMA,
         ["ordertime", "orderid", "itemid", "orderunits", "address"]),
    ],
)  # fmt: skip
def test_quickstarts_have_keys_and_schemas(
    source_context: Any, quickstart: str, key_field: str, key_schema: Schema, fields: list[str]
) -> None:
    task = started(source_context, quickstart=quickstart, seed="7", batch_size="10")
    records = take(task, 10)
    task.stop()
    assert len(records) == 10
    for record in records:
        assert record.topic == "mock"
        assert isinstance(record.value, Struct)
        record.value.validate()
        assert [f.name for f in record.value.schema.fields] == fields
        assert record.key_schema == key_schema
        assert record.key == record.value.get(key_field)
    assert len({str(r.value) for r in records}) > 1


def test_same_seed_same_records_and_restart_continues(source_context: Any) -> None:
    _, reader_cls = source_context
    one = started(source_context, quickstart="orders", seed="42", batch_size="5")
    reference = take(one, 20)
    other = started(source_context, quickstart="orders", seed="42", batch_size="5")
    assert [r.value for r in take(other, 20)] == [r.value for r in reference]
    assert [r.value.get("orderid") for r in reference] == list(range(20))

    reader = reader_cls()
    first = started(source_context, reader, quickstart="orders", batch_size="5")  # no seed
    before = take(first, 10)
    reader.commit(before)
    first.stop()
    second = started(source_context, reader, quickstart="orders", batch_size="5")
    after = take(second, 5)
    assert [r.source_offset["seq"] for r in after] == [11, 12, 13, 14, 15]
    fresh = started(source_context, quickstart="orders", batch_size="15",
                    seed=str(before[0].source_offset["seed"]))  # fmt: skip
    assert [r.value for r in take(fresh, 15)[10:]] == [r.value for r in after]


def test_max_records_and_iterations_stop_the_stream(source_context: Any) -> None:
    task = started(source_context, max_records="7", batch_size="5")
    assert len(task.poll()) == 5
    assert len(task.poll()) == 2
    task.stop()  # a poll after the end waits for stop, then returns nothing
    assert task.poll() == []
    legacy = started(source_context, iterations="3")
    assert len(legacy.poll()) == 3


def test_rate_limits_records_per_second(source_context: Any) -> None:
    task = started(source_context, rate="50", batch_size="1000")
    begun = time.monotonic()
    records: list[SourceRecord] = []
    while time.monotonic() - begun < 0.4:
        records += task.poll()
    task.stop()
    assert 10 <= len(records) <= 25


def test_connector_numbers_its_tasks_and_checks_config() -> None:
    connector = DatagenSourceConnector()
    connector.start({"kafka.topic": "t", "quickstart": "pageviews"})
    assert [c["task.id"] for c in connector.task_configs(3)] == ["0", "1", "2"]
    with pytest.raises(ConfigError, match="quickstart"):
        connector.start({"kafka.topic": "t", "quickstart": "stocks"})
