"""A coordinator over in-memory storage and a manual clock, plus join/sync helpers."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from tidal.log.broker.group import (
    GroupCoordinator,
    GroupCoordinatorConfig,
    JoinGroupArgs,
    JoinGroupResult,
    ManualScheduler,
    MemoryOffsetsStorage,
    OffsetCommitArgs,
    OffsetCommitPartition,
    OffsetFetchArgs,
    OffsetsTopicStorage,
    SyncGroupArgs,
    SyncGroupResult,
    TopicPartitions,
    errors,
)

GROUP = "orders-app"
INITIAL_DELAY = 100
SESSION = 6000
REBALANCE = 1000

T = TypeVar("T")


def subscription(*topics: str) -> bytes:
    """A ConsumerProtocolSubscription v0: version, topics, null user data."""
    out = bytearray(struct.pack(">hi", 0, len(topics)))
    for topic in topics:
        data = topic.encode()
        out += struct.pack(">h", len(data)) + data
    return bytes(out + struct.pack(">i", -1))


@dataclass
class Harness:
    """The coordinator under test, its clock and storage, and shortcuts.

    Test modules cannot import this conftest (``--import-mode=importlib``), so
    the constants and helpers they need are attributes of the harness.
    """

    coordinator: GroupCoordinator
    clock: ManualScheduler
    storage: Any  # MemoryOffsetsStorage unless a test passes another
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    GROUP = GROUP
    INITIAL_DELAY = INITIAL_DELAY
    SESSION = SESSION
    REBALANCE = REBALANCE
    subscription = staticmethod(subscription)

    @staticmethod
    async def settle() -> None:
        """Let every runnable task run until it blocks."""
        for _ in range(10):
            await asyncio.sleep(0)

    def spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self.tasks.append(task)
        return task

    async def advance(self, ms: int) -> None:
        await self.settle()
        self.clock.advance(ms)
        await self.settle()

    @staticmethod
    def args(
        member_id: str = "",
        *,
        group: str = GROUP,
        protocols: list[tuple[str, bytes]] | None = None,
        instance: str | None = None,
        session: int = SESSION,
        rebalance: int = REBALANCE,
        client_id: str = "client",
        v4: bool = True,
        skip: bool = False,
    ) -> JoinGroupArgs:
        return JoinGroupArgs(
            group,
            session,
            rebalance,
            member_id,
            instance,
            "consumer",
            protocols if protocols is not None else [("range", subscription("orders"))],
            "test",
            client_id,
            "/127.0.0.1",
            require_known_member_id=v4,
            supports_skip_assignment=skip,
        )

    async def new_member_id(self, **kwargs: Any) -> str:
        """KIP-394's first round trip: the id to join with."""
        result = await self.coordinator.join_group(self.args(**kwargs))
        assert result.error_code == errors.MEMBER_ID_REQUIRED
        assert result.member_id.startswith(kwargs.get("client_id", "client") + "-")
        return result.member_id

    async def form_group(self, n: int, **kwargs: Any) -> list[JoinGroupResult]:
        """n new members join together; the initial delay passes; joins answered."""
        ids = [await self.new_member_id(client_id=f"c{i}", **kwargs) for i in range(n)]
        joins = [
            self.spawn(self.coordinator.join_group(self.args(m, client_id=f"c{i}", **kwargs)))
            for i, m in enumerate(ids)
        ]
        return await self.initial_rebalance(joins)

    async def initial_rebalance(self, joins: list[asyncio.Task[T]]) -> list[T]:
        """Advance through the initial delay, which members arriving during it
        extend (up to the rebalance timeout), until every join is answered."""
        for _ in range(REBALANCE // INITIAL_DELAY + 1):
            await self.advance(INITIAL_DELAY)
            if all(j.done() for j in joins):
                break
        assert all(j.done() for j in joins), "the initial rebalance never completed"
        return [j.result() for j in joins]

    async def sync_all(
        self, joined: list[JoinGroupResult], assign: dict[str, bytes] | None = None
    ) -> list[SyncGroupResult]:
        """Followers sync first (and wait), then the leader with ``assign``."""
        leader = next(r for r in joined if r.member_id == r.leader)
        assignments = assign or {r.member_id: r.member_id.encode() for r in joined}
        followers = [
            self.spawn(
                self.coordinator.sync_group(SyncGroupArgs(GROUP, r.generation_id, r.member_id))
            )
            for r in joined
            if r is not leader
        ]
        await self.settle()
        assert not any(f.done() for f in followers)
        lead = await self.coordinator.sync_group(
            SyncGroupArgs(
                GROUP,
                leader.generation_id,
                leader.member_id,
                assignments=list(assignments.items()),
            )
        )
        results = {leader.member_id: lead}
        for r, f in zip([r for r in joined if r is not leader], followers, strict=True):
            results[r.member_id] = await f
        return [results[r.member_id] for r in joined]

    async def commit(
        self, offsets: dict[tuple[str, int], int], *, generation: int = -1, member: str = ""
    ) -> dict[tuple[str, int], int]:
        by_topic: dict[str, list[OffsetCommitPartition]] = {}
        for (topic, partition), offset in offsets.items():
            by_topic.setdefault(topic, []).append(OffsetCommitPartition(partition, offset, 3, "m"))
        result = await self.coordinator.commit_offsets(
            OffsetCommitArgs(
                GROUP, [TopicPartitions(t, p) for t, p in by_topic.items()], generation, member
            )
        )
        return {(t.name, p.partition_index): p.error_code for t in result for p in t.partitions}

    async def fetch(self, group: str = GROUP) -> dict[tuple[str, int], int]:
        result = await self.coordinator.fetch_offsets(OffsetFetchArgs(group))
        assert result.error_code == errors.NONE
        return {
            (t.name, p.partition_index): p.committed_offset
            for t in result.topics
            for p in t.partitions
        }


def make_config(**overrides: int) -> GroupCoordinatorConfig:
    values = {"initial_rebalance_delay_ms": INITIAL_DELAY, "offsets_topic_num_partitions": 5}
    values.update(overrides)
    return GroupCoordinatorConfig(**values)


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_h() -> AsyncIterator[HarnessFactory]:
    """Build harnesses: ``await make_h(max_size=2, load=False, storage=...)``."""
    made: list[Harness] = []

    async def make(
        *, load: bool = True, storage: OffsetsTopicStorage | None = None, **config: int
    ) -> Harness:
        clock = ManualScheduler()
        storage = storage if storage is not None else MemoryOffsetsStorage()
        coordinator = GroupCoordinator(storage, make_config(**config), scheduler=clock)
        if load:
            await coordinator.load()
        harness = Harness(coordinator, clock, storage)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.coordinator.close()
        await harness.settle()
        for task in harness.tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*harness.tasks, return_exceptions=True)


@pytest.fixture
async def h(make_h: HarnessFactory) -> Harness:
    """A loaded coordinator with the test config."""
    return await make_h()
