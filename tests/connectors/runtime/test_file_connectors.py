"""FileStreamSource and FileStreamSink tasks alone, with Kafka's configs and offsets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.api import (
    OffsetAndMetadata,
    Schema,
    SchemaBuilder,
    SinkRecord,
    Struct,
    TopicPartition,
    invoke,
)
from tidal.connectors.builtin import (
    FileStreamSinkConnector,
    FileStreamSinkTask,
    FileStreamSourceConnector,
    FileStreamSourceTask,
)
from tidal.connectors.config import ConfigError
from tidal.connectors.runtime import (
    FrozenPartition,
    MemoryOffsetStore,
    TaskOffsetReader,
    WorkerPlugins,
    partition_id,
)


class _Context:
    def __init__(self, reader: TaskOffsetReader) -> None:
        self.offset_storage_reader = reader


def _source(path: Path, store: MemoryOffsetStore, **props: str) -> FileStreamSourceTask:
    task = FileStreamSourceTask()
    task.initialize(_Context(TaskOffsetReader(store, "src")))  # type: ignore[arg-type]
    task.start({"file": str(path), "topic": "t", **props})
    return task


def test_aliases_and_kafka_names_find_the_file_connectors() -> None:
    plugins = WorkerPlugins()
    for name in ("FileStreamSource", "FileStreamSourceConnector",
                 "org.apache.kafka.connect.file.FileStreamSourceConnector"):  # fmt: skip
        assert plugins.connector_class(name) is FileStreamSourceConnector
    assert plugins.connector_class("FileStreamSink") is FileStreamSinkConnector


async def test_source_reads_whole_lines_and_resumes_at_the_stored_position(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\r\ntwo\nthr")
    store = MemoryOffsetStore()
    task = _source(path, store, **{"batch.size": "1"})
    first = await task.poll()
    assert first is not None
    [record] = first
    assert (record.topic, record.value, record.value_schema) == ("t", "one", Schema.STRING_SCHEMA)
    assert record.source_partition == {"filename": str(path)}
    assert record.source_offset == {"position": 5}
    assert [r.value for r in await task.poll() or []] == ["two"]
    assert await task.poll() is None  # "thr" has no newline yet
    with path.open("ab") as f:
        f.write(b"ee\n")
    [third] = await task.poll() or []
    assert (third.value, third.source_offset) == ("three", {"position": 15})
    task.stop()

    partition = {"filename": str(path)}
    store._data["src"] = {partition_id(partition): (partition, {"position": 9})}
    resumed = _source(path, store)
    assert [r.value for r in await resumed.poll() or []] == ["three"]
    resumed.stop()


async def test_source_waits_for_a_missing_file(tmp_path: Path) -> None:
    task = _source(tmp_path / "later.txt", MemoryOffsetStore())
    assert await task.poll() is None
    (tmp_path / "later.txt").write_text("now\n")
    assert [r.value for r in await task.poll() or []] == ["now"]
    task.stop()


def test_source_connector_config_and_offsets_check() -> None:
    connector = FileStreamSourceConnector()
    connector.start({"file": "a", "topic": "t", "name": "x"})
    assert connector.task_configs(5) == [{"file": "a", "topic": "t"}]
    with pytest.raises(ConfigError, match="topic"):
        connector.start({"file": "a"})
    assert connector.alter_offsets({}, {_p("a"): None, _p("b"): {"position": 3}}) is True
    with pytest.raises(ConfigError, match="position"):
        connector.alter_offsets({}, {_p("a"): {"position": -1}})
    with pytest.raises(ConfigError, match="filename"):
        connector.alter_offsets({}, {_p(None): {"position": 1}})


def _p(filename: str | None) -> Any:
    return FrozenPartition({"filename": filename} if filename else {"file": "a"})


async def test_sink_appends_values_as_lines_and_flushes(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("kept\n")
    task = FileStreamSinkTask()
    task.start({"file": str(path)})
    schema = SchemaBuilder.struct().field("n", Schema.INT32_SCHEMA).build()
    values: list[Any] = ["text é", b"raw\xff", None, 3, Struct(schema).put("n", 1), {"a": [1.0]}]
    task.put([SinkRecord(topic="t", value=v, kafka_offset=i) for i, v in enumerate(values)])
    await task.flush({TopicPartition("t", 0): OffsetAndMetadata(6)})
    assert path.read_bytes() == (
        "kept\ntext é\n".encode() + b"raw\xff\nnull\n3\nStruct{n=1}\n{a=[1.0]}\n"
    )
    await task.stop()


async def test_sink_lines_reach_the_file_before_the_offset_flush(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    task = FileStreamSinkTask()
    task.start({"file": str(path)})
    try:
        task.put([SinkRecord(topic="t", value=f"line {i}", kafka_offset=i) for i in range(3)])
        # Another reader (a tail -f, a test) sees the lines without waiting for flush().
        assert path.read_text() == "line 0\nline 1\nline 2\n"
    finally:
        await task.stop()


@pytest.mark.parametrize(
    ("worker_extra", "connector_extra", "expected"),
    [
        ({}, {}, 2**31 - 1),  # Kafka Connect's default: never expire a source record
        ({"producer.delivery.timeout.ms": "60000"}, {}, 60_000),
        ({}, {"producer.override.delivery.timeout.ms": "90000"}, 90_000),
    ],
)
def test_source_producers_retry_as_long_as_kafka_connects_do(
    tmp_path: Path, worker_extra: dict[str, str], connector_extra: dict[str, str], expected: int
) -> None:
    from types import SimpleNamespace  # noqa: PLC0415

    from tidal.connectors.runtime._source import WorkerSourceTask  # noqa: PLC0415
    from tidal.connectors.runtime._task import TaskId  # noqa: PLC0415
    from tidal.connectors.runtime._worker_config import WorkerConfig  # noqa: PLC0415

    props = {
        "bootstrap.servers": "127.0.0.1:9092",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        **worker_extra,
    }
    task = object.__new__(WorkerSourceTask)
    task.env = SimpleNamespace(worker=WorkerConfig(props))  # type: ignore[assignment]
    task.id = TaskId("files", 0)
    task.connector_config = {"connector.class": "FileStreamSource", **connector_extra}
    assert task._producer_settings()["delivery_timeout_ms"] == expected


async def test_file_tasks_run_on_the_loop_without_a_thread_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime calls poll, put and the settings methods inline: no thread hop per batch."""
    calls: list[str] = []
    real = asyncio.to_thread

    async def counted(func: Any, /, *args: Any) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args)

    monkeypatch.setattr("tidal.connectors.api._async.asyncio.to_thread", counted)
    source_path, sink_path = tmp_path / "in.txt", tmp_path / "out.txt"
    source_path.write_text("a\nb\n")
    source = FileStreamSourceTask()
    source.initialize(_Context(TaskOffsetReader(MemoryOffsetStore(), "src")))  # type: ignore[arg-type]
    await invoke(source.start, {"file": str(source_path), "topic": "t"})
    records = await invoke(source.poll)
    sink = FileStreamSinkTask()
    await invoke(sink.start, {"file": str(sink_path)})
    await invoke(sink.put, [SinkRecord(topic="t", value=r.value) for r in records or []])
    await invoke(source.stop)
    assert calls == []
    await invoke(sink.stop)
    assert calls == ["fsync"]  # only the fsync, which may wait on the disk
    assert sink_path.read_text() == "a\nb\n"


async def test_an_idle_source_poll_leaves_the_loop_free_and_stop_wakes_it(tmp_path: Path) -> None:
    task = _source(tmp_path / "later.txt", MemoryOffsetStore())
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        assert await invoke(task.poll) is None  # no file yet: waits about 0.2 s
        assert ticks >= 10, "the idle poll blocked the event loop"
        poll = asyncio.create_task(invoke(task.poll))
        await asyncio.sleep(0.02)
        started = time.monotonic()
        await invoke(task.stop)
        assert await poll is None
        assert time.monotonic() - started < 0.1, "stop did not cut the idle wait short"
    finally:
        ticker.cancel()


@pytest.mark.parametrize(
    "content",
    [
        b"one\ntwo\r\n\nthree\nfour",  # ASCII: the one-decode path
        "zwei \u00e9\ndrei\r\n\u20ac\nrest".encode(),  # UTF-8: the per-line path
        b"ok\nbad \xff\xfe\nend\n",  # invalid UTF-8 is replaced, positions still count bytes
    ],
)
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
async def test_source_positions_count_bytes_in_ascii_and_other_files(
    tmp_path: Path, content: bytes, batch_size: int
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(content)
    task = _source(path, MemoryOffsetStore(), **{"batch.size": str(batch_size)})
    got: list[tuple[str, Any]] = []
    while batch := await task.poll():
        assert len(batch) <= batch_size
        got += [(r.value, r.source_offset) for r in batch]
    task.stop()
    expected, position = [], 0
    for line in content.split(b"\n")[:-1]:  # the last piece has no newline yet
        position += len(line) + 1
        value = line.removesuffix(b"\r").decode("utf-8", "replace")
        expected.append((value, {"position": position}))
    assert got == expected
