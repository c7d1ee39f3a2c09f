"""Compiled tasks driven directly, the way the runtime drives them."""

from __future__ import annotations

from typing import Any

import pytest

from tidal.streams import DeserializationError, ProcessingError, TaskId, TopologyError
from tidal.streams._contract import Headers, PartitionStore, StreamTask
from tidal.streams.dsl import TopologyBuilder
from tidal.streams.state import InMemoryPartitionStore


class FakeContext:
    """A TaskContext that records what the task sends."""

    def __init__(self, task_id: TaskId, store_names: list[str] = ()) -> None:  # type: ignore[assignment]
        self._task_id = task_id
        self.sent: list[tuple[str, bytes | None, bytes | None, int, Headers]] = []
        self.stores = {name: InMemoryPartitionStore(name) for name in store_names}
        self.now = 0

    @property
    def application_id(self) -> str:
        return "app"

    @property
    def task_id(self) -> TaskId:
        return self._task_id

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        self.sent.append((topic, key, value, timestamp, headers))

    def store(self, name: str) -> PartitionStore:
        return self.stores[name]

    def wall_clock_ms(self) -> int:
        return self.now


def task_of(builder: TopologyBuilder, partition: int = 3) -> tuple[StreamTask, FakeContext]:
    (sub,) = builder.compile().subtopologies
    ctx = FakeContext(TaskId(sub.id, partition), [s.name for s in sub.stores])
    return sub.create_task(partition, ctx), ctx


def test_task_runs_bytes_in_bytes_out() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", key_serde="str", value_serde="long").map_values(lambda v: v + 1).to(
        "out", value_serde="long"
    )
    task, ctx = task_of(builder)
    assert task.task_id == TaskId(0, 3)
    assert task.stream_time == -1
    task.process("in", 3, 10, b"k", (41).to_bytes(8, "big"), 500, (("h", b"v"),))
    assert ctx.sent == [("out", b"k", (42).to_bytes(8, "big"), 500, (("h", b"v"),))]
    assert task.stream_time == 500
    task.process("in", 3, 11, b"k", (1).to_bytes(8, "big"), 400, ())
    assert task.stream_time == 500
    with pytest.raises(TopologyError, match="does not read"):
        task.process("other", 3, 0, None, None, 0, ())


def test_user_errors_carry_the_record_coordinates() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", value_serde="long").map_values(lambda v: 1 // v).to("out")
    task, _ = task_of(builder)
    with pytest.raises(ProcessingError) as info:
        task.process("in", 3, 77, None, (0).to_bytes(8, "big"), 1, ())
    error = info.value
    assert (error.topic, error.partition, error.offset) == ("in", 3, 77)
    assert isinstance(error.cause, ZeroDivisionError)
    assert "in-3@77" in str(error)


def test_serde_failures_at_the_source_are_deserialization_errors() -> None:
    seen: list[Any] = []
    builder = TopologyBuilder("app")
    builder.stream("in", key_serde="str", value_serde="json").foreach(lambda k, v: seen.append(v))
    task, _ = task_of(builder)
    with pytest.raises(DeserializationError) as info:
        task.process("in", 3, 5, b"k", b"{not json", 1, ())
    assert (info.value.topic, info.value.partition, info.value.offset) == ("in", 3, 5)
    with pytest.raises(DeserializationError):
        task.process("in", 3, 6, b"\xff\xfe", b"1", 1, ())
    assert seen == []


def test_timestamp_extractor_sets_record_time_and_stream_time() -> None:
    builder = TopologyBuilder("app")
    builder.stream(
        "in",
        value_serde="json",
        timestamp_extractor=lambda key, value, record_ts: value["ts"],
    ).to("out", value_serde="json")
    task, ctx = task_of(builder)
    task.process("in", 3, 0, None, b'{"ts": 12345}', 1, ())
    assert ctx.sent[0][3] == 12345
    assert task.stream_time == 12345


def test_timestamp_extractor_errors_are_processing_errors() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", value_serde="json", timestamp_extractor=lambda k, v, ts: v["ts"]).to("out")
    task, _ = task_of(builder)
    with pytest.raises(ProcessingError) as info:
        task.process("in", 3, 9, None, b"{}", 1, ())
    assert isinstance(info.value.cause, KeyError)


def test_aggregation_writes_its_store_and_repartition_goes_by_full_name() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", key_serde="str", value_serde="str").group_by_key().count("n")
    task, ctx = task_of(builder, partition=0)
    task.process("in", 0, 0, b"a", b"x", 1, ())
    task.process("in", 0, 1, b"a", b"y", 2, ())
    assert ctx.stores["n"].pending() == [(b"a", b"\x02")]

    regrouped = TopologyBuilder("app")
    regrouped.stream("in", value_serde="str").group_by(lambda k, v: v, key_serde="str").count("n")
    first, second = regrouped.compile().subtopologies
    ctx = FakeContext(TaskId(0, 0))
    first.create_task(0, ctx).process("in", 0, 0, None, b"word", 7, ())
    assert ctx.sent == [("app-n-repartition", b"word", b"word", 7, ())]
    ctx2 = FakeContext(TaskId(1, 0), ["n"])
    second.create_task(0, ctx2).process("app-n-repartition", 0, 0, b"word", b"word", 7, ())
    assert ctx2.stores["n"].get(b"word") == b"\x01"
