"""TopologyTestDriver: run a topology without a broker, one record at a time.

Like Kafka Streams' driver: every topic has one partition, so there is one
task per sub-topology. Piping a record processes it and everything it causes
before returning: records written to repartition topics (and to any topic
the topology itself reads) are fed back in synchronously, in the order they
were written. Stores are in memory and commit after each piped record, so a
store's committed and pending state agree whenever a test looks.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tidal.streams._contract import Headers, PartitionStore, StreamTask, TaskId, TopologyError
from tidal.streams.serdes import resolve_serde
from tidal.streams.state import InMemoryPartitionStore, KeyValueStore
from tidal.streams.testing._topics import RawRecord, TestInputTopic, TestOutputTopic
from tidal.streams.topology import CompiledTopology

__all__ = ["TopologyTestDriver"]


class _DriverContext:
    """The :class:`~tidal.streams._contract.TaskContext` of one driver task."""

    def __init__(
        self, driver: TopologyTestDriver, task_id: TaskId, stores: dict[str, PartitionStore]
    ) -> None:
        self._driver = driver
        self._task_id = task_id
        self._stores = stores

    @property
    def application_id(self) -> str:
        return self._driver.topology.application_id

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
        self._driver._on_send(topic, (key, value, timestamp, headers))

    def store(self, name: str) -> PartitionStore:
        return self._stores[name]

    def wall_clock_ms(self) -> int:
        return self._driver.wall_clock_ms


def _compiled(app_or_builder: Any) -> CompiledTopology:
    """The compiled topology of a builder, an App, or a compiled topology.

    An App is asked for ``topology()`` (what it would run); objects with a
    ``builder`` or ``topology_builder`` attribute are compiled through it.
    """
    target = app_or_builder
    if isinstance(target, CompiledTopology):
        return target
    if not hasattr(target, "compile"):
        if callable(getattr(target, "topology", None)):
            return _checked(target.topology(), app_or_builder)
        for attribute in ("builder", "topology_builder"):
            if hasattr(target, attribute):
                target = getattr(target, attribute)
                break
    if not hasattr(target, "compile"):
        raise TypeError(
            "TopologyTestDriver needs a TopologyBuilder, an App, or a compiled topology; "
            f"got {type(app_or_builder).__name__}"
        )
    return _checked(target.compile(), app_or_builder)


def _checked(compiled: Any, origin: Any) -> CompiledTopology:
    if not isinstance(compiled, CompiledTopology):
        raise TypeError(
            f"{type(origin).__name__} gave a {type(compiled).__name__}, not a CompiledTopology"
        )
    return compiled


class TopologyTestDriver:
    """Drives a topology in process: pipe input, read output, move the clock.

    ``app_or_builder`` is a :class:`~tidal.streams.dsl.TopologyBuilder`, an
    ``App`` (its ``.builder`` is used), or a compiled topology::

        driver = TopologyTestDriver(builder)
        lines = driver.create_input_topic("lines", value_serde="str")
        counts = driver.create_output_topic("counts", key_serde="str", value_serde="long")
        lines.pipe_input(None, "a b a")
        assert counts.read_key_values_to_map() == {"a": 2, "b": 1}
    """

    def __init__(self, app_or_builder: Any, *, initial_wall_clock_ms: int = 0) -> None:
        self.topology = _compiled(app_or_builder)
        self.wall_clock_ms = initial_wall_clock_ms
        # Validates the internal topics and co-partitioning, one partition each.
        self.internal_topics = self.topology.internal_topics(lambda topic: 1)
        self._outputs: dict[str, deque[RawRecord]] = {}
        self._pending: deque[tuple[str, RawRecord]] = deque()
        self._offsets: dict[str, int] = {}
        self._stores: dict[str, InMemoryPartitionStore] = {}
        self._changelog_offsets: dict[str, int] = {}
        self._tasks: dict[str, StreamTask] = {}
        self._all_tasks: list[StreamTask] = []
        self._internal = self.topology.repartition_topics
        self._closed = False
        for sub in self.topology.subtopologies:
            stores: dict[str, PartitionStore] = {}
            for spec in sub.stores:
                store = InMemoryPartitionStore(spec.name)
                self._stores[spec.name] = store
                self._changelog_offsets[spec.name] = 0
                stores[spec.name] = store
            task = sub.create_task(0, _DriverContext(self, TaskId(sub.id, 0), stores))
            self._all_tasks.append(task)
            for topic in sub.source_topics:
                self._tasks[topic] = task

    def create_input_topic(
        self,
        name: str,
        key_serde: Any = None,
        value_serde: Any = None,
        *,
        start_timestamp: int | None = None,
        auto_advance_ms: int = 0,
    ) -> TestInputTopic:
        """A typed input end of topic ``name`` (serdes default to msgpack).

        Records piped without a timestamp get ``start_timestamp`` (default:
        the driver's wall clock) advanced by ``auto_advance_ms`` per record.
        """
        if name not in self._tasks or name in self._internal:
            known = ", ".join(sorted(self.topology.user_source_topics))
            raise TopologyError(f"the topology does not read topic {name!r} (it reads: {known})")
        start = self.wall_clock_ms if start_timestamp is None else start_timestamp
        return TestInputTopic(
            self, name, resolve_serde(key_serde), resolve_serde(value_serde), start, auto_advance_ms
        )

    def create_output_topic(
        self, name: str, key_serde: Any = None, value_serde: Any = None
    ) -> TestOutputTopic:
        """A typed reading end of topic ``name`` (serdes default to msgpack)."""
        queue = self._outputs.setdefault(name, deque())
        return TestOutputTopic(name, queue, resolve_serde(key_serde), resolve_serde(value_serde))

    def produced_topic_names(self) -> set[str]:
        """Every non-internal topic the topology has written to."""
        return set(self._outputs)

    def pipe_raw(
        self, topic: str, key: bytes | None, value: bytes | None, timestamp: int, headers: Headers
    ) -> None:
        """Process one record of bytes and everything it causes, then commit."""
        self._check_open()
        self._pending.append((topic, (key, value, timestamp, headers)))
        self._drain()

    def advance_wall_clock_time(self, ms: int) -> None:
        """Move the wall clock and fire the wall-clock punctuators that come due."""
        self._check_open()
        if ms < 0:
            raise ValueError(f"cannot move the wall clock backwards ({ms} ms)")
        self.wall_clock_ms += ms
        for task in self._all_tasks:
            task.punctuate_wall_clock(self.wall_clock_ms)
        self._drain()

    def get_key_value_store(self, name: str) -> KeyValueStore[Any, Any]:
        """The typed view of store ``name`` (writes through it are committed too)."""
        if name not in self._stores:
            known = ", ".join(sorted(self._stores)) or "none"
            raise KeyError(f"no store named {name!r} (stores: {known})")
        key_serde, value_serde = self.topology.store_serdes(name)
        return KeyValueStore(self._stores[name], key_serde, value_serde)

    def close(self) -> None:
        """Close the tasks and the stores."""
        if self._closed:
            return
        self._closed = True
        for task in self._all_tasks:
            task.close()
        for store in self._stores.values():
            store.close()

    def __enter__(self) -> TopologyTestDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TopologyError("the test driver is closed")

    def _on_send(self, topic: str, record: RawRecord) -> None:
        if topic not in self._internal:
            self._outputs.setdefault(topic, deque()).append(record)
        if topic in self._tasks:
            self._pending.append((topic, record))

    def _drain(self) -> None:
        """Process queued records in order until none is left, then commit.

        When processing fails the stores roll back to the last commit and the
        error propagates, as a runtime would restart from the last commit.
        """
        try:
            while self._pending:
                topic, (key, value, timestamp, headers) = self._pending.popleft()
                offset = self._offsets.get(topic, 0)
                self._offsets[topic] = offset + 1
                self._tasks[topic].process(topic, 0, offset, key, value, timestamp, headers)
        except BaseException:
            self._pending.clear()
            for store in self._stores.values():
                store.rollback()
            raise
        self._commit()

    def _commit(self) -> None:
        for name, store in self._stores.items():
            offset = self._changelog_offsets[name] + len(store.pending())
            self._changelog_offsets[name] = offset
            store.commit(offset)
