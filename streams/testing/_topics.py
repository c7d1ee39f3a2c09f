"""Test input and output topics: typed ends of the test driver's topics."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tidal.streams._contract import Headers

if TYPE_CHECKING:
    from tidal.streams.testing._driver import TopologyTestDriver

__all__ = ["NoSuchElementError", "TestInputTopic", "TestOutputTopic", "TestRecord"]


class NoSuchElementError(LookupError):
    """Read from an output topic that has no record left."""


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One record as a test pipes or reads it; ``timestamp`` None means "now"."""

    __test__ = False  # not a pytest test class

    key: Any
    value: Any
    timestamp: int | None = None
    headers: Headers = ()


#: A raw record held by the driver: key and value bytes, timestamp, headers.
RawRecord = tuple[bytes | None, bytes | None, int, Headers]


class TestInputTopic:
    """Pipes typed records into one topic of a :class:`TopologyTestDriver`.

    Records without a timestamp get the topic's current time, which starts at
    ``start_timestamp`` and moves by ``auto_advance_ms`` after each record.
    """

    __test__ = False

    def __init__(
        self,
        driver: TopologyTestDriver,
        name: str,
        key_serde: Any,
        value_serde: Any,
        start_timestamp: int,
        auto_advance_ms: int,
    ) -> None:
        self._driver = driver
        self.name = name
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._time = start_timestamp
        self._advance = auto_advance_ms

    def advance_time(self, ms: int) -> None:
        """Move this topic's current time forward by ``ms``."""
        if ms < 0:
            raise ValueError(f"cannot move time backwards ({ms} ms)")
        self._time += ms

    def pipe_input(
        self, key: Any, value: Any, timestamp: int | None = None, headers: Headers = ()
    ) -> None:
        """Pipe one record and process it (and everything it causes) to completion."""
        if timestamp is None:
            timestamp = self._time
            self._time += self._advance
        self._driver.pipe_raw(
            self.name,
            self._key_serde.serialize(key),
            self._value_serde.serialize(value),
            timestamp,
            tuple(headers),
        )

    def pipe_value(self, value: Any, timestamp: int | None = None) -> None:
        """Pipe one record with a None key."""
        self.pipe_input(None, value, timestamp)

    def pipe_records(self, records: Iterable[TestRecord]) -> None:
        """Pipe each :class:`TestRecord` in order."""
        for record in records:
            self.pipe_input(record.key, record.value, record.timestamp, record.headers)

    def pipe_key_value_list(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        """Pipe ``(key, value)`` pairs in order."""
        for key, value in pairs:
            self.pipe_input(key, value)

    def pipe_value_list(self, values: Iterable[Any]) -> None:
        """Pipe values with None keys in order."""
        for value in values:
            self.pipe_input(None, value)


class TestOutputTopic:
    """Reads typed records from one topic the topology wrote, oldest first."""

    __test__ = False

    def __init__(
        self, name: str, queue: deque[RawRecord], key_serde: Any, value_serde: Any
    ) -> None:
        self.name = name
        self._queue = queue
        self._key_serde = key_serde
        self._value_serde = value_serde

    def _pop(self) -> RawRecord:
        if not self._queue:
            raise NoSuchElementError(f"no record left in output topic {self.name!r}")
        return self._queue.popleft()

    def read_record(self) -> TestRecord:
        """The next record with key, value, timestamp and headers."""
        key, value, timestamp, headers = self._pop()
        return TestRecord(
            self._key_serde.deserialize(key),
            self._value_serde.deserialize(value),
            timestamp,
            headers,
        )

    def read_value(self) -> Any:
        """The next record's value."""
        return self.read_record().value

    def read_key_value(self) -> tuple[Any, Any]:
        """The next record's ``(key, value)``."""
        record = self.read_record()
        return record.key, record.value

    def read_records_to_list(self) -> list[TestRecord]:
        """Every remaining record."""
        return [self.read_record() for _ in range(len(self._queue))]

    def read_values_to_list(self) -> list[Any]:
        """Every remaining record's value."""
        return [r.value for r in self.read_records_to_list()]

    def read_key_values_to_list(self) -> list[tuple[Any, Any]]:
        """Every remaining record's ``(key, value)``."""
        return [(r.key, r.value) for r in self.read_records_to_list()]

    def read_key_values_to_map(self) -> dict[Any, Any]:
        """The latest value per key of the remaining records; a None value removes its key."""
        result: dict[Any, Any] = {}
        for record in self.read_records_to_list():
            if record.value is None:
                result.pop(record.key, None)
            else:
                result[record.key] = record.value
        return result

    def get_queue_size(self) -> int:
        """How many records are left to read."""
        return len(self._queue)

    def is_empty(self) -> bool:
        """Whether every record has been read."""
        return not self._queue
