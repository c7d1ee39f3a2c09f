"""The fetcher: background Fetch requests to partition leaders, a buffer of
parsed records, and hand-out in ``max_poll_records`` batches.

One Fetch is in flight per leader at a time. A partition is fetched while it
is assigned, not paused, has a position, and has fewer than
``_PREFETCH`` completed fetches buffered: so the next records arrive while
the application works through the current ones. Except once it has caught
up: a partition whose last buffered fetch reached the high watermark (the
last stable offset for read_committed) is fetched again only when the
application has taken all its buffered records, as Java's consumer fetches
every partition. Fetching it sooner would only wait on the broker for new
records, and a consumer that keeps up with its producers would then get one
small response per Produce (each append answers the waiting Fetch), where
waiting until its buffer is drained lets the records of several Produce
requests gather into one response. Buffered fetches remember the
partition's seek epoch and are dropped when the application seeks or the
partition is revoked.

A response is only scanned (batch headers: where the next fetch starts) when
it arrives, so the next Fetch goes out at once; its records are decoded when
the application polls them, while the broker prepares the next response.

Errors per partition: OFFSET_OUT_OF_RANGE asks for a reset (``none``:
raised to the application); leader and topic errors refresh metadata and
retry; anything else is raised from the next ``fetch_records`` call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from tidal.log.client._connection import warm_codecs
from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import TopicPartition
from tidal.log.client.consumer._config import ConsumerConfig
from tidal.log.client.consumer._records import Deserializer, parse_partition_records
from tidal.log.client.consumer._structs import (
    ConsumerRecord,
    IsolationLevel,
    OffsetResetStrategy,
)
from tidal.log.client.consumer._subscription import SubscriptionState
from tidal.log.protocol.errors import (
    KafkaError,
    OffsetOutOfRangeError,
    error_for_code,
)
from tidal.log.protocol.messages import FetchRequest
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.records import RecordTooLargeError, iter_batches

__all__ = ["Fetcher"]

log = logging.getLogger(__name__)
_PREFETCH = 2
_REFRESH_CODES = frozenset({3, 5, 6, 9, 74, 75, 100})  # unknown topic, leader moves, ids


@dataclass(slots=True)
class _Buffered:
    """One partition's part of a Fetch response, decoded on first hand-out.

    ``raw`` is a read-only view of the response's frame (see
    ``BrokerConnection``), which it keeps alive; the frame is never reused,
    so it stays valid until decoded, when ``raw`` is dropped. The decoded
    records own their keys and values (copies), not views.
    """

    tp: TopicPartition
    raw: Any
    fetch_offset: int
    next_offset: int
    epoch: int
    aborted: list[tuple[int, int]]
    #: Whether ``next_offset`` had reached the end of what could be fetched.
    caught_up: bool = False
    records: list[ConsumerRecord] | None = None
    cursor: int = 0


def _next_offset(tp: TopicPartition, raw: Any, offset: int) -> int:
    """Where the fetch after ``raw`` starts: past its last whole batch."""
    next_offset = offset
    scanned = False
    for header in iter_batches(raw):
        scanned = True
        next_offset = max(next_offset, header.next_offset)
    if not scanned:
        raise RecordTooLargeError(
            f"{tp.topic}-{tp.partition} at offset {offset}: the first batch is larger "
            f"than the {len(raw)} bytes fetched; raise max_partition_fetch_bytes"
        )
    return next_offset


class Fetcher:
    """Fetches for the assigned partitions of ``subscriptions`` in the background."""

    def __init__(
        self,
        kernel: Kernel,
        config: ConsumerConfig,
        subscriptions: SubscriptionState,
        key_deserializer: Deserializer | None,
        value_deserializer: Deserializer | None,
    ) -> None:
        self._kernel = kernel
        self._config = config
        self._subs = subscriptions
        self._key_deserializer = key_deserializer
        self._value_deserializer = value_deserializer
        self._buffer: dict[TopicPartition, deque[_Buffered]] = defaultdict(deque)
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._in_flight_partitions: set[TopicPartition] = set()
        self._error: BaseException | None = None
        #: Set whenever records arrive or an error is stored.
        self.has_data = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._retry_soon = False

    def start(self) -> None:
        # Fetch's codecs are compiled here rather than inside the first fetch.
        warm_codecs(FetchRequest)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def wake(self) -> None:
        """Look at the subscription state again (after seek, resume, assign)."""
        self._wake.set()

    # -- hand-out -----------------------------------------------------------------

    def fetch_records(self, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to ``max_records`` buffered records, advancing positions."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        left = max_records
        for tp in list(self._buffer):
            queue = self._buffer[tp]
            while queue and left > 0:
                item = queue[0]
                state = self._subs.get_state(tp)
                if (
                    state is None
                    or state.epoch != item.epoch
                    or state.position != item.fetch_offset
                ):
                    queue.popleft()  # revoked, seeked or reset since it was fetched
                    continue
                if state.paused:
                    break
                records = item.records
                if records is None:
                    try:
                        records = item.records = self._decode(item)
                    except Exception:
                        if out:
                            return out  # these first; the error comes with the next call
                        del self._buffer[tp]  # fetched again from the position
                        if not self._buffer:
                            self.has_data.clear()
                        self._wake.set()
                        raise
                chunk = records[item.cursor : item.cursor + left]
                item.cursor += len(chunk)
                left -= len(chunk)
                if chunk:
                    out.setdefault(tp, []).extend(chunk)
                if item.cursor >= len(records):
                    queue.popleft()
                    state.position = item.next_offset
                else:
                    state.position = chunk[-1].offset + 1
                    item.fetch_offset = state.position
            if not queue:
                del self._buffer[tp]
        if not self._buffer:
            self.has_data.clear()
        self._wake.set()
        return out

    def _decode(self, item: _Buffered) -> list[ConsumerRecord]:
        """The item's records (``CorruptRecordError`` for a bad batch,
        ``RecordDeserializationError`` when a deserializer fails)."""
        records = parse_partition_records(
            item.tp,
            item.raw,
            item.fetch_offset,
            isolation=self._config.isolation,
            aborted_transactions=item.aborted,
            key_deserializer=self._key_deserializer,
            value_deserializer=self._value_deserializer,
            check_crcs=self._config.check_crcs,
        ).records
        item.raw = None
        return records

    def buffered_partitions(self) -> set[TopicPartition]:
        return set(self._buffer)

    def discard(self, partitions: set[TopicPartition] | None = None) -> None:
        """Drop buffered records (of ``partitions``, or all)."""
        for tp in list(self._buffer) if partitions is None else partitions:
            self._buffer.pop(tp, None)

    # -- fetching -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._retry_soon = False
            self._launch()
            if self._retry_soon:  # waiting for metadata: look again after a backoff
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._config.retry_backoff_ms / 1000)
            else:
                await self._wake.wait()

    def _launch(self) -> None:
        """Start a Fetch for every leader with fetchable partitions and none in flight."""
        for node, parts in self._fetch_plan().items():
            self._in_flight_partitions.update(tp for tp, _, _ in parts)
            task = asyncio.get_running_loop().create_task(self._fetch(node, parts))
            self._in_flight[node] = task
            task.add_done_callback(functools.partial(self._done, node))

    def _done(self, node: int, task: object = None) -> None:
        if self._in_flight.get(node) is task:
            del self._in_flight[node]
        self._wake.set()

    def _fetch_plan(self) -> dict[int, list[tuple[TopicPartition, int, int]]]:
        plan: dict[int, list[tuple[TopicPartition, int, int]]] = defaultdict(list)
        metadata = self._kernel.cluster.metadata
        for tp in self._subs.fetchable_partitions():
            if tp in self._in_flight_partitions:
                continue
            queue = self._buffer.get(tp)
            if queue and (len(queue) >= _PREFETCH or queue[-1].caught_up):
                continue
            state = self._subs.state(tp)
            offset = queue[-1].next_offset if queue else state.position
            assert offset is not None
            leader = metadata.leader_for(tp)
            if leader is None:
                self._kernel.cluster.add_topics([tp.topic])
                self._kernel.request_update()
                self._retry_soon = True
                continue
            if leader in self._in_flight:
                continue
            plan[leader].append((tp, offset, state.epoch))
        return plan

    async def _fetch(self, node: int, parts: list[tuple[TopicPartition, int, int]]) -> None:
        config = self._config
        by_topic: dict[str, list[FetchPartition]] = defaultdict(list)
        for tp, offset, _ in parts:
            by_topic[tp.topic].append(
                FetchPartition(
                    partition=tp.partition,
                    fetch_offset=offset,
                    partition_max_bytes=config.max_partition_fetch_bytes,
                )
            )
        request = FetchRequest(
            max_wait_ms=config.fetch_max_wait_ms,
            min_bytes=config.fetch_min_bytes,
            max_bytes=config.fetch_max_bytes,
            isolation_level=config.isolation.wire,
            topics=[FetchTopic(topic=t, partitions=ps) for t, ps in by_topic.items()],
        )
        try:
            response = await self._kernel.send(
                node,
                FetchRequest,
                request,
                timeout_ms=config.request_timeout_ms + config.fetch_max_wait_ms,
            )
        except (KafkaConnectionError, KafkaTimeoutError) as e:
            log.debug("fetch from node %s failed: %s", node, e)
            self._kernel.request_update()
            await asyncio.sleep(self._kernel.backoff_ms(0) / 1000)
            return
        finally:
            self._in_flight_partitions.difference_update(tp for tp, _, _ in parts)
        asked = {tp: (offset, epoch) for tp, offset, epoch in parts}
        try:
            self._handle(response, asked)
        except Exception as e:  # noqa: BLE001 - handed to the application
            self._error = e
            self.has_data.set()
        # The next Fetch to this leader goes out now rather than once the loop
        # has come round to _run (three turns, each perhaps an application
        # step): the broker prepares it while the application decodes this one.
        if self._in_flight.get(node) is asyncio.current_task():
            del self._in_flight[node]
            self._launch()

    def _handle(self, response: Any, asked: dict[TopicPartition, tuple[int, int]]) -> None:
        if response.error_code:
            raise error_for_code(response.error_code)("Fetch")
        got_any = False
        for topic in response.responses:
            for data in topic.partitions:
                tp = TopicPartition(topic.topic, data.partition_index)
                if tp not in asked:
                    continue
                offset, epoch = asked[tp]
                state = self._subs.get_state(tp)
                if state is None or state.epoch != epoch:
                    continue  # revoked or seeked meanwhile
                if data.error_code:
                    self._partition_error(tp, data.error_code, offset)
                    continue
                self._subs.update_watermarks(
                    tp, data.high_watermark, data.last_stable_offset, data.log_start_offset
                )
                if not data.records:
                    continue
                next_offset = _next_offset(tp, data.records, offset)
                if next_offset > offset:
                    aborted = [
                        (a.producer_id, a.first_offset) for a in data.aborted_transactions or ()
                    ]
                    end = data.high_watermark
                    if self._config.isolation is IsolationLevel.READ_COMMITTED:
                        end = data.last_stable_offset
                    item = _Buffered(tp, data.records, offset, next_offset, epoch, aborted)
                    item.caught_up = next_offset >= end
                    self._buffer[tp].append(item)
                    got_any = True
        if got_any:
            self.has_data.set()

    def _partition_error(self, tp: TopicPartition, code: int, offset: int) -> None:
        if code == OffsetOutOfRangeError.code:
            if self._subs.default_reset is OffsetResetStrategy.NONE:
                raise OffsetOutOfRangeError(
                    f"{tp.topic}-{tp.partition}: offset {offset} is out of range and "
                    "auto_offset_reset is 'none'"
                )
            self._subs.request_reset(tp)
            return
        if code in _REFRESH_CODES:
            self._kernel.request_update()
            return
        error: KafkaError = error_for_code(code)(f"Fetch {tp.topic}-{tp.partition}")
        if not error.retriable:
            raise error
