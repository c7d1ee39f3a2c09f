"""Records, headers, and the sync/async contract of connectors and tasks."""

import asyncio
import dataclasses
import threading
from collections.abc import Mapping

import pytest

from tidal.connectors.api import (
    Header,
    Headers,
    OffsetAndMetadata,
    Schema,
    SinkRecord,
    SinkTask,
    SourceRecord,
    SourceTask,
    TopicPartition,
    invoke,
)


def test_new_record_keeps_other_fields_and_copies_headers() -> None:
    record = SourceRecord(
        topic="t",
        kafka_partition=1,
        value="v",
        value_schema=Schema.STRING_SCHEMA,
        source_partition={"filename": "a"},
        source_offset={"position": 10},
        headers=Headers().add("h", "1"),
    )
    routed = record.new_record(topic="u")
    assert routed.topic == "u"
    assert routed.source_offset == {"position": 10}
    assert routed.value == "v"
    routed.headers.add("extra", 1)
    assert len(record.headers) == 1
    assert len(routed.headers) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.topic = "x"  # type: ignore[misc]


def test_sink_record_remembers_where_it_was_consumed() -> None:
    record = SinkRecord(topic="orders", kafka_partition=3, kafka_offset=42, value=b"x")
    moved = record.new_record(topic="orders-2024", kafka_partition=0)
    assert (moved.original_topic, moved.original_kafka_partition) == ("orders", 3)
    assert moved.original_kafka_offset == 42
    assert moved.kafka_offset == 42


def test_headers_lookup_remove_and_retain_latest() -> None:
    headers = Headers().add("a", 1).add("b", 2).add("a", 3)
    assert headers.last_with_name("a") == Header("a", 3)
    assert [h.value for h in headers.all_with_name("a")] == [1, 3]
    assert [h.key for h in headers.duplicate().retain_latest()] == ["b", "a"]
    assert [h.key for h in headers.remove("a")] == ["b"]
    assert headers.last_with_name("zz") is None


def test_topic_partition_equals_plain_tuples() -> None:
    assert TopicPartition("t", 0) == ("t", 0)
    assert {TopicPartition("t", 0): 1}[("t", 0)] == 1  # type: ignore[index]


class _SyncSink(SinkTask):
    def __init__(self) -> None:
        super().__init__()
        self.put_threads: list[int] = []
        self.flushed: list[Mapping[TopicPartition, OffsetAndMetadata]] = []

    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def put(self, records: list[SinkRecord]) -> None:
        self.put_threads.append(threading.get_ident())

    def flush(self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        self.flushed.append(current_offsets)

    def stop(self) -> None:
        pass


class _AsyncSink(_SyncSink):
    async def flush(self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.flushed.append(current_offsets)


class _AsyncSource(SourceTask):
    def version(self) -> str:
        return "1"

    async def start(self, props: Mapping[str, str]) -> None:
        pass

    async def poll(self) -> list[SourceRecord] | None:
        await asyncio.sleep(0)
        return [SourceRecord(topic="t", value=1)]

    async def stop(self) -> None:
        pass


async def test_sync_methods_run_in_a_thread_async_ones_on_the_loop() -> None:
    sink = _SyncSink()
    await invoke(sink.put, [])
    assert sink.put_threads != [threading.get_ident()]
    sink.blocking = False
    await invoke(sink.put, [])
    assert sink.put_threads[-1] == threading.get_ident()
    source = _AsyncSource()
    records = await invoke(source.poll)
    assert records is not None
    assert records[0].value == 1


async def test_default_pre_commit_flushes_sync_and_async() -> None:
    offsets = {TopicPartition("t", 0): OffsetAndMetadata(5)}
    for sink in (_SyncSink(), _AsyncSink()):
        sink.blocking = False
        assert await invoke(sink.pre_commit, offsets) == offsets
        assert sink.flushed == [offsets]
