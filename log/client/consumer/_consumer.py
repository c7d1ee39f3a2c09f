"""The :class:`Consumer` facade over subscription state, fetcher and group coordinator."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Self

from tidal.log.client._errors import ClientClosedError
from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.consumer._config import ConsumerConfig
from tidal.log.client.consumer._coordinator import GroupCoordinator
from tidal.log.client.consumer._fetcher import Fetcher
from tidal.log.client.consumer._offsets import (
    EARLIEST,
    LATEST,
    commit_offsets,
    fetch_committed,
    list_offsets,
)
from tidal.log.client.consumer._records import Deserializer
from tidal.log.client.consumer._structs import (
    ConsumerRecord,
    NoOffsetForPartitionError,
    OffsetAndTimestamp,
    OffsetResetStrategy,
    RebalanceListener,
)
from tidal.log.client.consumer._subscription import SubscriptionState
from tidal.log.protocol.errors import KafkaError

__all__ = ["Consumer"]


class Consumer:
    """An asyncio Kafka consumer.

    Settings are Kafka's ``ConsumerConfig`` names in snake case (or dotted,
    in a mapping), with Kafka's defaults. Example::

        async with Consumer(bootstrap_servers="localhost:9092", group_id="app",
                            auto_offset_reset="earliest") as consumer:
            consumer.subscribe(["orders"])
            async for record in consumer:
                print(record.offset, record.value)
    """

    def __init__(
        self,
        settings: Mapping[str, object] | ConsumerConfig | None = None,
        /,
        *,
        key_deserializer: Deserializer | None = None,
        value_deserializer: Deserializer | None = None,
        **kwargs: object,
    ) -> None:
        self.config = ConsumerConfig.build(settings, **kwargs)
        self._kernel = Kernel(self.config)
        self._subs = SubscriptionState(self.config.reset_strategy)
        self._fetcher = Fetcher(
            self._kernel, self.config, self._subs, key_deserializer, value_deserializer
        )
        self._coordinator: GroupCoordinator | None = None
        if self.config.group_id is not None:
            self._coordinator = GroupCoordinator(
                self._kernel, self.config, self._subs, self._auto_commit, self._fetcher.wake
            )
        self._started = False
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (bootstrap metadata) and start fetching."""
        if self._started:
            return
        await self._kernel.start()
        self._fetcher.start()
        if self._coordinator is not None:
            self._coordinator.start()
        self._started = True

    async def close(self) -> None:
        """Commit (under auto commit), leave the group, and close connections."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._started:
                coordinator = self._coordinator
                if coordinator is not None:
                    await coordinator.stop()
                    if self.config.enable_auto_commit:
                        with contextlib.suppress(KafkaError):
                            await self._auto_commit()
                    await coordinator.leave()
        finally:
            await self._fetcher.close()
            await self._kernel.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check(self) -> None:
        if self._closed:
            raise ClientClosedError("the consumer is closed")

    # -- subscriptions --------------------------------------------------------------

    def subscribe(
        self,
        topics: Iterable[str] | None = None,
        *,
        pattern: str | re.Pattern[str] | None = None,
        listener: RebalanceListener | Any = None,
    ) -> None:
        """Join ``group_id`` for ``topics`` or every topic matching ``pattern``;
        ``listener`` gets ``on_partitions_revoked/assigned/lost`` calls."""
        self._check()
        if self._coordinator is None:
            raise ValueError("subscribe() needs a group_id; use assign() without one")
        if (topics is None) == (pattern is None):
            raise ValueError("give topics or a pattern")
        if topics is not None:
            if isinstance(topics, str):
                topics = [topics]
            self._subs.subscribe(topics)
        else:
            assert pattern is not None
            self._subs.subscribe_pattern(pattern)
        self._coordinator.listener = listener
        self._coordinator.request_rejoin()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly ``partitions`` (no group membership)."""
        self._check()
        self._subs.assign_from_user(TopicPartition(*tp) for tp in partitions)
        self._fetcher.discard()
        self._fetcher.wake()

    def unsubscribe(self) -> None:
        self._subs.unsubscribe()
        self._fetcher.discard()
        if self._coordinator is not None:
            self._coordinator.request_rejoin()

    def assignment(self) -> set[TopicPartition]:
        """The partitions currently assigned."""
        return self._subs.assigned_partitions()

    def subscription(self) -> set[str]:
        return set(self._subs.topics)

    # -- positions --------------------------------------------------------------------

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Fetch ``partition`` from ``offset`` next."""
        self._subs.seek(partition, offset)
        self._fetcher.discard({partition})
        self._fetcher.wake()

    def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp in partitions or tuple(self.assignment()):
            self._subs.request_reset(tp, OffsetResetStrategy.EARLIEST)
        self._fetcher.wake()

    def seek_to_end(self, *partitions: TopicPartition) -> None:
        for tp in partitions or tuple(self.assignment()):
            self._subs.request_reset(tp, OffsetResetStrategy.LATEST)
        self._fetcher.wake()

    async def position(self, partition: TopicPartition) -> int:
        """The offset of the next record to be returned (looked up if unknown)."""
        await self._update_positions()
        position = self._subs.position(partition)
        assert position is not None
        return position

    async def committed(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata | None]:
        """The group's committed offsets (None where nothing is committed)."""
        group = self._group()
        return await fetch_committed(
            self._kernel, group, list(partitions), self.config.default_api_timeout_ms
        )

    async def beginning_offsets(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return await self._list(dict.fromkeys(partitions, EARLIEST))

    async def end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """High watermarks (last stable offsets under ``read_committed``)."""
        return await self._list(dict.fromkeys(partitions, LATEST))

    async def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, OffsetAndTimestamp | None]:
        """The first offset at or after each timestamp (None when none)."""
        answers = await list_offsets(
            self._kernel, timestamps, self.config.isolation, self.config.default_api_timeout_ms
        )
        return {
            tp: OffsetAndTimestamp(offset, ts) if offset >= 0 else None
            for tp, (offset, ts) in answers.items()
        }

    async def _list(self, timestamps: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        answers = await list_offsets(
            self._kernel, timestamps, self.config.isolation, self.config.default_api_timeout_ms
        )
        return {tp: offset for tp, (offset, _) in answers.items()}

    def lag(self, partition: TopicPartition) -> int | None:
        """Records between the position and the end, from the last fetch."""
        return self._subs.lag(partition, self.config.isolation)

    def pause(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            self._subs.pause(tp)

    def resume(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            self._subs.resume(tp)
        self._fetcher.wake()

    def paused(self) -> set[TopicPartition]:
        return self._subs.paused_partitions()

    async def _update_positions(self) -> None:
        missing = self._subs.missing_positions()
        if missing and self.config.group_id is not None:
            committed = await fetch_committed(
                self._kernel, self.config.group_id, missing, self.config.default_api_timeout_ms
            )
            for tp, om in committed.items():
                if not self._subs.is_assigned(tp):
                    continue
                if om is not None:
                    self._subs.seek(tp, om.offset)
                else:
                    self._subs.request_reset(tp)
        else:
            for tp in missing:
                self._subs.request_reset(tp)
        if missing:
            self._fetcher.wake()
        resets = self._subs.awaiting_reset()
        if not resets:
            return
        if any(s is OffsetResetStrategy.NONE for s in resets.values()):
            names = ", ".join(f"{tp.topic}-{tp.partition}" for tp in resets)
            raise NoOffsetForPartitionError(
                f"no committed offset and auto_offset_reset 'none': {names}"
            )
        epochs = {tp: self._subs.state(tp).epoch for tp in resets}
        answers = await self._list(
            {
                tp: EARLIEST if s is OffsetResetStrategy.EARLIEST else LATEST
                for tp, s in resets.items()
            }
        )
        for tp, offset in answers.items():
            state = self._subs.get_state(tp)
            if state is not None and state.epoch == epochs[tp] and state.reset_strategy is not None:
                self._subs.seek(tp, offset)
        self._fetcher.wake()

    # -- commits ----------------------------------------------------------------------

    def group_metadata(self) -> ConsumerGroupMetadata:
        """The group id, generation, member id and instance id, for a
        transactional producer's ``send_offsets_to_transaction``."""
        c = self._coordinator
        if c is None or not self._subs.is_group_managed:
            return ConsumerGroupMetadata(self._group(), -1, "", self.config.group_instance_id)
        return ConsumerGroupMetadata(
            self._group(), c.generation_id, c.member_id, self.config.group_instance_id
        )

    def _group(self) -> str:
        if self.config.group_id is None:
            raise ValueError("committed offsets need a group_id")
        return self.config.group_id

    async def commit(
        self, offsets: Mapping[TopicPartition, int | OffsetAndMetadata] | None = None
    ) -> None:
        """Commit ``offsets`` (default: the current positions) and wait.

        An ``int`` is the offset of the next record to read; pass
        ``OffsetAndMetadata(offset, "metadata")`` to store a string with it.
        Raises the typed error (e.g. ``RebalanceInProgressError``) on failure.
        """
        group = self._group()
        if offsets is None:
            chosen = {tp: OffsetAndMetadata(o) for tp, o in self._subs.all_consumed().items()}
        else:
            chosen = {
                tp: om if isinstance(om, OffsetAndMetadata) else OffsetAndMetadata(om)
                for tp, om in offsets.items()
            }
        c = self._coordinator
        managed = c is not None and self._subs.is_group_managed
        await commit_offsets(
            self._kernel,
            group,
            chosen,
            generation_id=c.generation_id if managed and c is not None else -1,
            member_id=c.member_id if managed and c is not None else "",
            group_instance_id=self.config.group_instance_id if managed else None,
            timeout_ms=self.config.default_api_timeout_ms,
        )

    def commit_async(
        self, offsets: Mapping[TopicPartition, int | OffsetAndMetadata] | None = None
    ) -> asyncio.Task[None]:
        """Start a commit; await the returned task for its outcome."""
        if offsets is None:
            offsets = dict(self._subs.all_consumed())
        return asyncio.get_running_loop().create_task(self.commit(offsets))

    async def _auto_commit(self) -> None:
        if self.config.enable_auto_commit and self._subs.all_consumed():
            await self.commit()

    # -- consuming --------------------------------------------------------------------

    async def getmany(
        self, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Records by partition: whatever is buffered, or the first to arrive
        within ``timeout_ms``; at most ``max_records`` (``max_poll_records``)."""
        self._check()
        if not self._started:
            await self.start()
        limit = max_records or self.config.max_poll_records
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            if self._coordinator is not None:
                self._coordinator.polled()
                self._coordinator.raise_if_failed()
            await self._update_positions()
            records = self._fetcher.fetch_records(limit)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fetcher.has_data.wait(), min(remaining, 0.1))

    async def getone(self) -> ConsumerRecord:
        """The next record, waiting as long as it takes."""
        while True:
            batch = await self.getmany(timeout_ms=1_000, max_records=1)
            for records in batch.values():
                return records[0]

    def __aiter__(self) -> AsyncIterator[ConsumerRecord]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ConsumerRecord]:
        while not self._closed:
            batch = await self.getmany(timeout_ms=1_000)
            for records in batch.values():
                for record in records:
                    yield record
