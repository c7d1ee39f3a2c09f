"""Members of one consumer group mixing librdkafka (confluent-kafka) and Tidal's consumer:
each consumes, commits synchronously and counts a batch only once its commit succeeded."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tidal.log.client.consumer import Consumer
from tidal.log.protocol import KafkaError

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

Key = tuple[int, bytes]


class Counted:
    """Records counted as consumed, by whom; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: Counter[Key] = Counter()
        self.by: Counter[str] = Counter()

    def add(self, who: str, keys: list[Key]) -> None:
        with self.lock:
            self.total.update(keys)
            self.by[who] += len(keys)

    def seen(self) -> set[Key]:
        with self.lock:
            return set(self.total)


class ConfluentMember:
    """librdkafka in a thread: consume, commit synchronously, count if committed.

    ``config`` adds to (or overrides) the consumer's configuration; ``stop_timeout`` is how
    long ``stop`` waits for the thread, and with ``strict_stop`` a thread still running then
    fails the test."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group: str,
        counted: Counted,
        strategy: str,
        *,
        config: dict[str, Any],
        stop_timeout: float,
        strict_stop: bool,
    ) -> None:
        self.topic = topic
        self.consumer = ck.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "broker.address.family": "v4",
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "partition.assignment.strategy": strategy,
                **config,
            }
        )
        self.counted = counted
        self.stop_timeout = stop_timeout
        self.strict_stop = strict_stop
        self.assignment: set[int] = set()
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.consumer.subscribe([self.topic])
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._one_batch()
                self.assignment = {tp.partition for tp in self.consumer.assignment()}
        except BaseException as exc:  # noqa: BLE001 - surfaced by stop()
            self.error = exc

    def _one_batch(self) -> None:
        batch = [m for m in self.consumer.consume(7, 0.1) if m.error() is None]
        if not batch:
            return
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for m in batch:
            first.setdefault(m.partition(), m.offset())
            last[m.partition()] = m.offset()
        offsets = [ck.TopicPartition(self.topic, p, o + 1) for p, o in last.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except ck.KafkaException:
            for partition, offset in first.items():
                with contextlib.suppress(ck.KafkaException):  # unless no longer ours
                    self.consumer.seek(ck.TopicPartition(self.topic, partition, offset))
            return
        self.counted.add("confluent", [(m.partition(), m.value()) for m in batch])

    def stop(self) -> None:
        """Stop consuming and close (LeaveGroup)."""
        self.stopping.set()
        self.thread.join(self.stop_timeout)
        if self.strict_stop:
            assert not self.thread.is_alive(), "the confluent member did not stop"
        self.consumer.close()
        if self.error is not None:
            raise self.error


class TidalMember:
    """Our consumer as a task: the same consume-commit-count loop.

    ``settings`` are the Consumer's keyword arguments; ``stop_timeout`` (None: no limit)
    bounds ``stop``."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        counted: Counted,
        *,
        settings: dict[str, Any],
        stop_timeout: float | None,
    ) -> None:
        self.topic = topic
        self.consumer = Consumer(bootstrap_servers=bootstrap, **settings)
        self.counted = counted
        self.stop_timeout = stop_timeout
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def assignment(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic])
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        c = self.consumer
        while not self.stopping.is_set():
            batch = await c.getmany(timeout_ms=100, max_records=7)
            if not batch:
                continue
            offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            try:
                await c.commit(offsets)
            except KafkaError:
                for tp, records in batch.items():
                    if tp in c.assignment():
                        c.seek(tp, records[0].offset)
                continue
            keys = [(tp.partition, r.value) for tp, rs in batch.items() for r in rs]
            self.counted.add("tidal", keys)  # type: ignore[arg-type]

    async def stop(self) -> None:
        self.stopping.set()
        assert self.task is not None
        async with asyncio.timeout(self.stop_timeout):
            await self.task
            await self.consumer.close()


async def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)
