"""Tasks of one instance: their context, their stores, opening and closing.

A task's stores live under ``<state_dir>/<application_id>/<task_id>/``; a
task that moves to another instance leaves its directory behind, which the
assignor reports so the task can come back to where its state still is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tidal.log.client.consumer import TopicPartition
from tidal.streams._contract import (
    CompiledTopologyProtocol,
    Headers,
    PartitionStore,
    StoreSpec,
    StreamTask,
    SubTopologyProtocol,
    TaskId,
)

__all__ = ["OutputRecord", "RuntimeTaskContext", "StoreOpener", "Task", "TaskManager"]

log = logging.getLogger("tidal.streams.runtime")

#: ``(topic, key, value, timestamp, headers, partition)`` waiting for the producer.
OutputRecord = tuple[str, bytes | None, bytes | None, int, Headers, int | None]
#: Opens one store of one task in the task's directory.
StoreOpener = Callable[[StoreSpec, Path], PartitionStore]


def default_store_opener(spec: StoreSpec, task_dir: Path) -> PartitionStore:
    """``tidal.streams.state.open_store``: RocksDB or in-memory, by ``spec.kind``."""
    from tidal.streams.state import open_store  # noqa: PLC0415

    store: PartitionStore = open_store(spec, task_dir)
    return store


class RuntimeTaskContext:
    """The :class:`~tidal.streams._contract.TaskContext` the runtime gives a task."""

    __slots__ = ("_application_id", "_outputs", "_stores", "_task_id")

    def __init__(
        self,
        application_id: str,
        task_id: TaskId,
        stores: dict[str, PartitionStore],
        outputs: list[OutputRecord],
    ) -> None:
        self._application_id = application_id
        self._task_id = task_id
        self._stores = stores
        self._outputs = outputs

    @property
    def application_id(self) -> str:
        """The application id tasks see."""
        return self._application_id

    @property
    def task_id(self) -> TaskId:
        """The task this context belongs to."""
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
        """Buffer an output record; the runtime produces it after the batch."""
        self._outputs.append((topic, key, value, timestamp, headers, partition))

    def store(self, name: str) -> PartitionStore:
        """This task's store ``name``; KeyError naming the stores it has."""
        try:
            return self._stores[name]
        except KeyError:
            known = ", ".join(sorted(self._stores)) or "none"
            raise KeyError(
                f"task {self._task_id} has no store '{name}' (its stores: {known})"
            ) from None

    def wall_clock_ms(self) -> int:
        """Milliseconds since the epoch."""
        return int(time.time() * 1000)


@dataclass(eq=False)
class Task:
    """A running task: the compiled chain, its stores and its progress."""

    id: TaskId
    partitions: frozenset[TopicPartition]
    stores: dict[str, PartitionStore]
    specs: dict[str, StoreSpec]
    chain: StreamTask | None = None
    restoring: bool = True
    #: Next offsets consumed since the last commit.
    consumed: dict[TopicPartition, int] = field(default_factory=dict)

    def changelogged(self) -> Iterator[tuple[PartitionStore, TopicPartition]]:
        """Each store with a changelog and its changelog partition."""
        for name, store in self.stores.items():
            topic = self.specs[name].changelog_topic
            if topic is not None:
                yield store, TopicPartition(topic, self.id.partition)


class TaskManager:
    """Creates, finds and closes this instance's tasks."""

    def __init__(
        self,
        topology: CompiledTopologyProtocol,
        app_dir: Path,
        outputs: list[OutputRecord],
        open_store: StoreOpener = default_store_opener,
    ) -> None:
        self.topology = topology
        self.app_dir = app_dir
        self.outputs = outputs
        self._open_store = open_store
        self._subs: dict[int, SubTopologyProtocol] = {s.id: s for s in topology.subtopologies}
        self.tasks: dict[TaskId, Task] = {}
        self.by_partition: dict[TopicPartition, Task] = {}

    def task_dir(self, task_id: TaskId) -> Path:
        return self.app_dir / str(task_id)

    def local_task_ids(self) -> list[TaskId]:
        """Tasks with a state directory here (running or left behind)."""
        if not self.app_dir.is_dir():
            return []
        out = []
        for entry in self.app_dir.iterdir():
            try:
                task_id = TaskId.parse(entry.name)
            except ValueError:
                continue
            if entry.is_dir() and task_id.subtopology in self._subs:
                out.append(task_id)
        return out

    def open(self, task_id: TaskId, partitions: frozenset[TopicPartition]) -> Task:
        """Open the task's stores (restoration comes next); not yet processing."""
        sub = self._subs[task_id.subtopology]
        specs = {spec.name: spec for spec in sub.stores}
        stores: dict[str, PartitionStore] = {}
        if specs:
            directory = self.task_dir(task_id)
            directory.mkdir(parents=True, exist_ok=True)
            try:
                for spec in specs.values():
                    stores[spec.name] = self._open_store(spec, directory)
            except BaseException:
                for store in stores.values():
                    store.close()
                raise
        task = Task(task_id, partitions, stores, specs)
        self.tasks[task_id] = task
        for tp in partitions:
            self.by_partition[tp] = task
        return task

    def start(self, task: Task) -> None:
        """Build the task's chain once its stores are restored."""
        sub = self._subs[task.id.subtopology]
        context = RuntimeTaskContext(
            self.topology.application_id, task.id, task.stores, self.outputs
        )
        task.chain = sub.create_task(task.id.partition, context)
        task.restoring = False

    def stop(self, task: Task) -> None:
        """Back to restoring: close the chain, drop buffered writes, keep the stores open."""
        chain, task.chain = task.chain, None
        task.restoring = True
        task.consumed.clear()
        for store in task.stores.values():
            store.rollback()
        if chain is not None:
            chain.close()

    def close(self, task: Task, *, rollback: bool) -> None:
        """Close the chain and the stores (dropping uncommitted writes if asked)."""
        self.tasks.pop(task.id, None)
        for tp in task.partitions:
            if self.by_partition.get(tp) is task:
                del self.by_partition[tp]
        try:
            if task.chain is not None:
                task.chain.close()
        finally:
            for store in task.stores.values():
                try:
                    if rollback:
                        store.rollback()
                    store.close()
                except Exception:
                    log.exception("closing store '%s' of task %s failed", store.name, task.id)

    def store_instances(self, name: str) -> list[PartitionStore]:
        """Store ``name`` of every task here that is processing."""
        return [
            t.stores[name]
            for _, t in sorted(self.tasks.items())
            if not t.restoring and name in t.stores
        ]

    def store_names(self) -> set[str]:
        """Every store of the topology."""
        return {spec.name for sub in self._subs.values() for spec in sub.stores}
