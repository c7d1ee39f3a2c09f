"""Source offset stores: Kafka's key shape, partitions compared by content, durable files."""

from __future__ import annotations

import json
from pathlib import Path

from tidal.connectors.runtime import (
    FileOffsetStore,
    FrozenPartition,
    MemoryOffsetStore,
    TaskOffsetReader,
    offset_key,
    partition_id,
)


def test_offset_keys_are_kafka_connects() -> None:
    assert offset_key("file-source", {"filename": "/tmp/in.txt"}) == (
        b'["file-source",{"filename":"/tmp/in.txt"}]'
    )
    assert partition_id({"a": 1, "b": 2}) == partition_id({"b": 2, "a": 1})
    assert {FrozenPartition({"a": 1}): 1}[FrozenPartition({"a": 1})] == 1


async def test_file_store_survives_a_restart_and_removes_reset_partitions(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "connect.offsets"
    store = FileOffsetStore(path)
    await store.start()
    p1, p2 = {"filename": "a"}, {"filename": "b"}
    await store.write("src", {partition_id(p1): (p1, {"position": 10}),
                              partition_id(p2): (p2, {"position": 20})})  # fmt: skip
    await store.write("other", {partition_id(p1): (p1, {"position": 1})})
    await store.write("src", {partition_id(p2): (p2, None)})
    assert not (tmp_path / "dir" / "connect.offsets.tmp").exists()
    assert json.loads(path.read_text()) == [
        [["src", {"filename": "a"}], {"position": 10}],
        [["other", {"filename": "a"}], {"position": 1}],
    ]
    reopened = FileOffsetStore(path)
    await reopened.start()
    reader = TaskOffsetReader(reopened, "src")
    assert reader.offset({"filename": "a"}) == {"position": 10}
    assert reader.offset({"filename": "b"}) is None
    assert reader.offsets([p1, p2]) == [(p1, {"position": 10}), (p2, None)]
    await reopened.clear("src")
    assert reopened.offsets("src") == []
    assert reopened.offsets("other") == [({"filename": "a"}, {"position": 1})]


async def test_a_failed_write_leaves_the_previous_offsets(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = FileOffsetStore(blocker / "offsets")  # a file cannot be a directory
    p = {"filename": "a"}
    try:
        await store.write("src", {partition_id(p): (p, {"position": 1})})
    except OSError:
        pass
    else:
        raise AssertionError("the write should have failed")
    assert store.offsets("src") == []


async def test_memory_store() -> None:
    store = MemoryOffsetStore()
    p = {"table": "t", "n": 1}
    await store.write("c", {partition_id(p): (p, {"id": 5})})
    assert store.offset("c", {"n": 1, "table": "t"}) == {"id": 5}
