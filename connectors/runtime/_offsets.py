"""Source offset storage: in memory, in a JSON file (standalone) and the reader tasks get.

Kafka Connect keys a source offset by the connector's name and the source partition, and
writes both as JSON: key ``["file-source",{"filename":"/tmp/in.txt"}]``, value
``{"position":1024}``. Every store here uses that key, so offsets read the same wherever they
are kept. Partitions compare by content: ``{"a": 1, "b": 2}`` and ``{"b": 2, "a": 1}`` are
the same partition.

A write returns only once the offsets are durable (the file renamed into place, fsynced),
so the runtime can tell a source task its records are committed.
"""

from __future__ import annotations

import asyncio
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "FileOffsetStore",
    "FrozenPartition",
    "MemoryOffsetStore",
    "OffsetStore",
    "TaskOffsetReader",
    "offset_key",
    "partition_id",
]

Partition = Mapping[str, Any]
Offset = Mapping[str, Any]


def partition_id(partition: Partition) -> str:
    """A canonical string for a source partition, equal for equal partitions."""
    return json.dumps(partition, sort_keys=True, separators=(",", ":"))


def offset_key(connector: str, partition: Partition) -> bytes:
    """The record key Kafka Connect uses for a source offset."""
    return json.dumps([connector, partition], separators=(",", ":")).encode()


class OffsetStore(ABC):
    """Committed source offsets of every connector of a worker."""

    def __init__(self) -> None:
        # connector -> partition id -> (partition, offset)
        self._data: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Load what is stored."""
        return

    async def stop(self) -> None:
        """Release resources; every completed write is already durable."""
        return

    async def refresh(self) -> None:
        """Catch up with offsets other workers wrote (shared stores only)."""
        return

    def offset(self, connector: str, partition: Partition) -> dict[str, Any] | None:
        """The committed offset of one source partition, or None."""
        entry = self._data.get(connector, {}).get(partition_id(partition))
        return dict(entry[1]) if entry else None

    def offsets(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every ``(partition, offset)`` committed for ``connector``."""
        return [(dict(p), dict(o)) for p, o in self._data.get(connector, {}).values()]

    async def write(
        self, connector: str, offsets: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        """Store ``{partition id: (partition, offset)}``; an offset of None removes one."""
        if not offsets:
            return
        async with self._lock:
            previous = dict(self._data.get(connector, {}))
            current = self._data.setdefault(connector, {})
            for pid, (partition, offset) in offsets.items():
                if offset is None:
                    current.pop(pid, None)
                else:
                    current[pid] = (dict(partition), dict(offset))
            if not current:
                del self._data[connector]
            try:
                await self._persist(connector, offsets)
            except BaseException:
                self._data[connector] = previous
                raise

    async def clear(self, connector: str) -> None:
        """Remove every offset of ``connector``."""
        entries = self._data.get(connector, {})
        await self.write(connector, {pid: (p, None) for pid, (p, _) in entries.items()})

    @abstractmethod
    async def _persist(
        self, connector: str, changed: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        """Make the current state (``changed`` just applied) durable."""


class MemoryOffsetStore(OffsetStore):
    """Offsets kept in memory only (a standalone worker without an offsets file)."""

    async def _persist(
        self, connector: str, changed: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        return


class FileOffsetStore(OffsetStore):
    """Offsets in a JSON file (``offset.storage.file.filename``), rewritten atomically.

    The file holds ``[[key, value], ...]`` with Kafka's key and value shapes, e.g.
    ``[[["file-source", {"filename": "in.txt"}], {"position": 12}]]``.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    async def start(self) -> None:
        """Load the file; a missing file means no offsets yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        entries = json.loads(text) if text.strip() else []
        for key, value in entries:
            connector, partition = key
            self._data.setdefault(connector, {})[partition_id(partition)] = (partition, value)

    async def _persist(
        self, connector: str, changed: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        entries = [
            [[name, partition], offset]
            for name, by_id in self._data.items()
            for partition, offset in by_id.values()
        ]
        await asyncio.to_thread(_write_atomically, self.path, json.dumps(entries, indent=1))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class TaskOffsetReader:
    """The ``OffsetStorageReader`` a source task and connector get (Kafka's
    ``OffsetStorageReaderImpl``), reading the committed offsets of one connector."""

    def __init__(self, store: OffsetStore, connector: str) -> None:
        self._store = store
        self._connector = connector

    def offset(self, partition: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The last committed offset of one source partition, or None."""
        return self._store.offset(self._connector, partition)

    def offsets(
        self, partitions: Collection[Mapping[str, Any]]
    ) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
        """``(partition, offset)`` for each partition asked for."""
        return [(p, self.offset(p)) for p in partitions]


class FrozenPartition(dict[str, Any]):
    """A source partition usable as a dict key (what ``alter_offsets`` receives)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(partition_id(self))
