"""The contract between the topology, the state stores and the runtime.

Three parts meet here and nowhere else:

* the **topology** (``tidal.streams.dsl`` builds it, ``tidal.streams.topology``
  compiles it) knows *what* to compute. For each sub-topology it builds one
  :class:`StreamTask` per input partition: a chain of plain function calls
  fed one record at a time, bytes in and bytes out;
* the **state** (``tidal.streams.state``) keeps one :class:`PartitionStore` per
  store per task, buffering writes until the runtime commits them;
* the **runtime** (``tidal.streams.runtime``, and the broker-less
  ``tidal.streams.testing.TopologyTestDriver``) knows *where and when*: it
  feeds records in, hands tasks a :class:`TaskContext` to send output and
  reach their stores, and commits in one documented order.

Everything that crosses these lines is bytes, so serdes stay inside the
topology and the runtime never deserializes a user's record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "CompiledTopologyProtocol",
    "DeserializationError",
    "Headers",
    "InternalTopic",
    "PartitionStore",
    "ProcessingError",
    "StoreSpec",
    "StreamTask",
    "StreamsError",
    "SubTopologyProtocol",
    "TaskContext",
    "TaskId",
    "TopologyError",
]

#: Record headers as the client carries them: ``(key, value)`` pairs.
Headers = tuple[tuple[str, bytes | None], ...]


class StreamsError(Exception):
    """Base class of the errors Tidal Streams raises."""


class TopologyError(StreamsError):
    """The topology cannot run as built (bad wiring, co-partitioning...)."""


class _RecordError(StreamsError):
    def __init__(self, topic: str, partition: int, offset: int, cause: BaseException) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.cause = cause
        super().__init__(f"{self._what} at {topic}-{partition}@{offset}: {cause!r}")

    _what = "record error"


class DeserializationError(_RecordError):
    """A serde could not read a record; raised before any user code saw it."""

    _what = "cannot deserialize record"


class ProcessingError(_RecordError):
    """A user function raised while processing the record at these coordinates."""

    _what = "processing failed"


@dataclass(frozen=True, slots=True, order=True)
class TaskId:
    """A task: one sub-topology over one partition of its input topics."""

    subtopology: int
    partition: int

    def __str__(self) -> str:
        # Kafka Streams' spelling, also used for state directory names.
        return f"{self.subtopology}_{self.partition}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        """Read the ``"<subtopology>_<partition>"`` spelling back."""
        sub, _, part = text.partition("_")
        return cls(int(sub), int(part))


@dataclass(frozen=True, slots=True)
class InternalTopic:
    """A topic the application owns: a repartition topic or a changelog."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoreSpec:
    """A state store a sub-topology uses.

    ``kind`` is ``"rocksdb"`` or ``"memory"``; ``changelog_topic`` is
    ``<application_id>-<name>-changelog`` unless logging is disabled (None).
    """

    name: str
    changelog_topic: str | None
    kind: str = "rocksdb"


class PartitionStore(Protocol):
    """One key-value store of one task, at the bytes level.

    Reads see the task's own uncommitted writes. Writes are buffered until
    :meth:`commit`, which writes them and the changelog offset atomically;
    :meth:`rollback` drops them. Keys order by their bytes.
    """

    @property
    def name(self) -> str: ...

    @property
    def changelog_offset(self) -> int | None:
        """The next changelog offset this store has applied (None: nothing yet)."""
        ...

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def range(
        self, start: bytes | None = None, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Pairs with ``start <= key < end`` (None: unbounded), committed and buffered merged."""
        ...

    def pending(self) -> Sequence[tuple[bytes, bytes | None]]:
        """The buffered writes in write order, last write per key; None is a delete.

        These are exactly the changelog records the runtime produces at commit.
        """
        ...

    def commit(self, changelog_offset: int | None) -> None:
        """Write the buffered writes and the next changelog offset atomically."""
        ...

    def rollback(self) -> None:
        """Forget the buffered writes."""
        ...

    def restore(self, records: Iterable[tuple[bytes, bytes | None]], next_offset: int) -> None:
        """Apply changelog records directly (no buffering) and record ``next_offset``."""
        ...

    def close(self) -> None: ...


class TaskContext(Protocol):
    """What the runtime gives a task: output, its stores, the wall clock."""

    @property
    def application_id(self) -> str: ...

    @property
    def task_id(self) -> TaskId: ...

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        """Produce an output record (buffered; the runtime batches the produce).

        ``partition=None`` partitions by the key with the murmur2 partitioner.
        """
        ...

    def store(self, name: str) -> PartitionStore:
        """This task's instance of store ``name``."""
        ...

    def wall_clock_ms(self) -> int:
        """Milliseconds since the epoch (the test driver's clock is mocked)."""
        ...


class StreamTask(Protocol):
    """The compiled chain of one sub-topology for one partition."""

    @property
    def task_id(self) -> TaskId: ...

    @property
    def stream_time(self) -> int:
        """The largest record timestamp seen so far, -1 before the first."""
        ...

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
        """Run one input record through the chain, plain calls, no await.

        Raises :class:`DeserializationError` before any user code ran for the
        record, :class:`ProcessingError` when user code raised. Stream-time
        punctuators fire from here as stream time passes their deadlines.
        """
        ...

    def punctuate_wall_clock(self, now_ms: int) -> None:
        """Fire the wall-clock punctuators whose time has come."""
        ...

    def close(self) -> None: ...


class SubTopologyProtocol(Protocol):
    """One connected piece of the topology between repartition topics."""

    @property
    def id(self) -> int: ...

    @property
    def source_topics(self) -> frozenset[str]:
        """User and repartition topics this sub-topology reads."""
        ...

    @property
    def stores(self) -> Sequence[StoreSpec]: ...

    def create_task(self, partition: int, context: TaskContext) -> StreamTask: ...


class CompiledTopologyProtocol(Protocol):
    """The compiled topology the runtime and the test driver execute."""

    @property
    def application_id(self) -> str: ...

    @property
    def subtopologies(self) -> Sequence[SubTopologyProtocol]: ...

    def internal_topics(self, partitions_of: Callable[[str], int]) -> list[InternalTopic]:
        """Repartition and changelog topics with their partition counts and configs.

        ``partitions_of`` answers the partition count of a user topic.
        Raises :class:`TopologyError` when co-partitioned inputs disagree.
        """
        ...

    def describe(self) -> str:
        """Kafka Streams' ``Topology.describe()`` text."""
        ...
