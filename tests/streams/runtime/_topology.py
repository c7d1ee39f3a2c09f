"""A hand-written topology and store for runtime tests, independent of the DSL.

``CountTopology`` has one sub-topology reading ``words`` (keys are words):
each record increments the key's count in store ``counts`` and sends the
new count (decimal text) to ``counts``. Value ``b"boom"`` makes the "user
function" raise; value ``b"bad"`` is a record the "serde" cannot read.

``FileStore`` keeps committed data in a JSON file in the task directory, so
restarts keep state and a wiped state dir restores from the changelog.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tidal.streams._contract import (
    DeserializationError,
    Headers,
    InternalTopic,
    PartitionStore,
    ProcessingError,
    StoreSpec,
    StreamTask,
    SubTopologyProtocol,
    TaskContext,
    TaskId,
)

INPUT = "words"
OUTPUT = "counts"
STORE = "counts"


class FileStore:
    """A PartitionStore persisted as JSON on commit."""

    def __init__(self, spec: StoreSpec, task_dir: Path) -> None:
        self._name = spec.name
        self._path = task_dir / f"{spec.name}.json"
        self._data: dict[bytes, bytes] = {}
        self._offset: int | None = None
        self._pending: dict[bytes, bytes | None] = {}
        self.closed = False
        if self._path.exists():
            body = json.loads(self._path.read_text())
            self._data = {bytes.fromhex(k): bytes.fromhex(v) for k, v in body["data"].items()}
            self._offset = body["offset"]

    @property
    def name(self) -> str:
        return self._name

    @property
    def changelog_offset(self) -> int | None:
        return self._offset

    def get(self, key: bytes) -> bytes | None:
        if key in self._pending:
            return self._pending[key]
        return self._data.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self._pending.pop(key, None)
        self._pending[key] = value

    def delete(self, key: bytes) -> None:
        self._pending.pop(key, None)
        self._pending[key] = None

    def range(
        self, start: bytes | None = None, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        merged = dict(self._data)
        for k, v in self._pending.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        keys = sorted(
            k for k in merged if (start is None or k >= start) and (end is None or k < end)
        )
        for k in reversed(keys) if reverse else keys:
            yield k, merged[k]

    def pending(self) -> Sequence[tuple[bytes, bytes | None]]:
        return list(self._pending.items())

    def commit(self, changelog_offset: int | None) -> None:
        self._apply(self._pending.items(), changelog_offset)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()

    def restore(self, records: Iterable[tuple[bytes, bytes | None]], next_offset: int) -> None:
        self._apply(records, next_offset)

    def _apply(self, records: Iterable[tuple[bytes, bytes | None]], offset: int | None) -> None:
        for k, v in records:
            if v is None:
                self._data.pop(k, None)
            else:
                self._data[k] = v
        self._offset = offset
        body = {"data": {k.hex(): v.hex() for k, v in self._data.items()}, "offset": offset}
        # Write and rename, so a kill -9 leaves the old file or the new one.
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body))
        temporary.replace(self._path)

    def close(self) -> None:
        self.closed = True


def open_file_store(spec: StoreSpec, task_dir: Path) -> PartitionStore:
    return FileStore(spec, task_dir)


@dataclass
class CountTask:
    task_id: TaskId
    context: TaskContext
    fail_on: bytes | None = b"boom"
    stream_time: int = -1
    processed: list[int] = field(default_factory=list)

    def process(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers,
    ) -> None:
        if value == b"bad":
            raise DeserializationError(topic, partition, offset, ValueError("not a word"))
        if value == self.fail_on:
            raise ProcessingError(topic, partition, offset, RuntimeError("boom"))
        self.stream_time = max(self.stream_time, timestamp)
        store = self.context.store(STORE)
        word = key or b""
        count = int(store.get(word) or b"0") + 1
        store.put(word, str(count).encode())
        self.context.send(OUTPUT, word, str(count).encode(), timestamp)

    def punctuate_wall_clock(self, now_ms: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class CountSubTopology:
    application_id: str
    fail_on: bytes | None = b"boom"
    id: int = 0

    @property
    def source_topics(self) -> frozenset[str]:
        return frozenset({INPUT})

    @property
    def stores(self) -> Sequence[StoreSpec]:
        return [StoreSpec(STORE, f"{self.application_id}-{STORE}-changelog", "memory")]

    def create_task(self, partition: int, context: TaskContext) -> StreamTask:
        return CountTask(TaskId(self.id, partition), context, self.fail_on)


@dataclass
class CountTopology:
    application_id: str
    #: The value whose processing raises (None: nothing raises).
    fail_on: bytes | None = b"boom"

    @property
    def subtopologies(self) -> Sequence[SubTopologyProtocol]:
        return [CountSubTopology(self.application_id, self.fail_on)]

    def internal_topics(self, partitions_of: Callable[[str], int]) -> list[InternalTopic]:
        return [
            InternalTopic(
                f"{self.application_id}-{STORE}-changelog",
                partitions_of(INPUT),
                {"cleanup.policy": "compact"},
            )
        ]

    def describe(self) -> str:
        return f"Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE (topics: [{INPUT}])\n"
