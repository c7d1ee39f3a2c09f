"""A synchronous consumer for scripts: the asyncio consumer on a loop thread.

Example::

    with SyncConsumer(bootstrap_servers="localhost:9092", group_id="app",
                      auto_offset_reset="earliest") as consumer:
        consumer.subscribe(["orders"])
        for record in consumer:
            print(record.offset, record.value)
            consumer.commit()

Rebalance listener callbacks run on the loop thread, not the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._sync import LoopThread
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.consumer._config import ConsumerConfig
from tidal.log.client.consumer._consumer import Consumer
from tidal.log.client.consumer._records import Deserializer
from tidal.log.client.consumer._structs import ConsumerRecord, OffsetAndTimestamp

__all__ = ["SyncConsumer"]


class SyncConsumer:
    """Blocking facade over :class:`Consumer` (same settings and methods)."""

    def __init__(
        self,
        settings: Mapping[str, object] | ConsumerConfig | None = None,
        /,
        *,
        key_deserializer: Deserializer | None = None,
        value_deserializer: Deserializer | None = None,
        **kwargs: object,
    ) -> None:
        self._loop = LoopThread("tidal-consumer")
        try:
            self._consumer = self._loop.run(
                self._make(settings, key_deserializer, value_deserializer, kwargs)
            )
        except BaseException:
            self._loop.stop()
            raise

    @staticmethod
    async def _make(
        settings: Mapping[str, object] | ConsumerConfig | None,
        key_deserializer: Deserializer | None,
        value_deserializer: Deserializer | None,
        kwargs: dict[str, object],
    ) -> Consumer:
        # Built on the loop thread: its events and tasks belong to that loop.
        consumer = Consumer(
            settings,
            key_deserializer=key_deserializer,
            value_deserializer=value_deserializer,
            **kwargs,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.close()
            raise
        return consumer

    @property
    def config(self) -> ConsumerConfig:
        return self._consumer.config

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        # The plain methods touch loop-owned state (events, tasks): run them there too.
        return getattr(self._consumer, method)(*args, **kwargs)

    def _on_loop(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._loop.run(self._call(method, *args, **kwargs))

    # -- subscriptions and positions --------------------------------------------------

    def subscribe(
        self,
        topics: Iterable[str] | None = None,
        *,
        pattern: str | re.Pattern[str] | None = None,
        listener: Any = None,
    ) -> None:
        """See :meth:`Consumer.subscribe`; the listener runs on the loop thread."""
        topics = [topics] if isinstance(topics, str) else topics
        self._on_loop("subscribe", None if topics is None else list(topics), pattern=pattern,
                      listener=listener)  # fmt: skip

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        self._on_loop("assign", list(partitions))

    def unsubscribe(self) -> None:
        self._on_loop("unsubscribe")

    def assignment(self) -> set[TopicPartition]:
        result: set[TopicPartition] = self._on_loop("assignment")
        return result

    def subscription(self) -> set[str]:
        result: set[str] = self._on_loop("subscription")
        return result

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._on_loop("seek", partition, offset)

    def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self._on_loop("seek_to_beginning", *partitions)

    def seek_to_end(self, *partitions: TopicPartition) -> None:
        self._on_loop("seek_to_end", *partitions)

    def pause(self, *partitions: TopicPartition) -> None:
        self._on_loop("pause", *partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self._on_loop("resume", *partitions)

    def paused(self) -> set[TopicPartition]:
        result: set[TopicPartition] = self._on_loop("paused")
        return result

    def lag(self, partition: TopicPartition) -> int | None:
        result: int | None = self._on_loop("lag", partition)
        return result

    def position(self, partition: TopicPartition) -> int:
        return self._loop.run(self._consumer.position(partition))

    def group_metadata(self) -> ConsumerGroupMetadata:
        """See :meth:`Consumer.group_metadata`."""
        result: ConsumerGroupMetadata = self._on_loop("group_metadata")
        return result

    def committed(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata | None]:
        return self._loop.run(self._consumer.committed(list(partitions)))

    def beginning_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._loop.run(self._consumer.beginning_offsets(list(partitions)))

    def end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._loop.run(self._consumer.end_offsets(list(partitions)))

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, OffsetAndTimestamp | None]:
        return self._loop.run(self._consumer.offsets_for_times(dict(timestamps)))

    # -- consuming and committing -----------------------------------------------------

    def getmany(
        self, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Records by partition, waiting up to ``timeout_ms`` for the first."""
        return self._loop.run(self._consumer.getmany(timeout_ms, max_records))

    def poll(self, timeout_ms: int = 0) -> ConsumerRecord | None:
        """One record, or ``None`` when none arrives within ``timeout_ms``."""
        batch = self.getmany(timeout_ms, max_records=1)
        for records in batch.values():
            return records[0]
        return None

    def __iter__(self) -> Iterator[ConsumerRecord]:
        while not self._loop.loop.is_closed():
            for records in self.getmany(timeout_ms=1_000).values():
                yield from records

    def commit(
        self, offsets: Mapping[TopicPartition, int | OffsetAndMetadata] | None = None
    ) -> None:
        """Commit ``offsets`` (default: the current positions) and wait."""
        self._loop.run(self._consumer.commit(None if offsets is None else dict(offsets)))

    def close(self) -> None:
        """Commit (under auto commit), leave the group, and stop the thread."""
        if self._loop.loop.is_closed():
            return
        try:
            self._loop.run(self._consumer.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> SyncConsumer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
