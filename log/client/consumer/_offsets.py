"""Offset requests: ListOffsets (by time, earliest, latest) to partition
leaders, and OffsetFetch/OffsetCommit to the group coordinator.

Each call groups partitions by the node that must answer, retries retriable
errors (refreshing metadata after leader errors) within its timeout, and
raises the typed error of anything else.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.consumer._structs import IsolationLevel
from tidal.log.protocol.errors import (
    KafkaError,
    LeaderNotAvailableError,
    error_for_code,
)
from tidal.log.protocol.messages import (
    ListOffsetsRequest,
    OffsetCommitRequest,
    OffsetFetchRequest,
)
from tidal.log.protocol.messages.list_offsets import ListOffsetsPartition, ListOffsetsTopic
from tidal.log.protocol.messages.offset_commit import (
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from tidal.log.protocol.messages.offset_fetch import (
    OffsetFetchRequestGroup,
    OffsetFetchRequestTopic,
    OffsetFetchRequestTopics,
)

__all__ = ["EARLIEST", "LATEST", "commit_offsets", "fetch_committed", "list_offsets"]

#: ListOffsets timestamps asking for the log start and the log end (or LSO).
EARLIEST = -2
LATEST = -1


def _by_topic(partitions: Iterable[TopicPartition]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for tp in partitions:
        out[tp.topic].append(tp.partition)
    return out


async def _leaders(
    kernel: Kernel, partitions: Iterable[TopicPartition]
) -> dict[int, list[TopicPartition]]:
    parts = list(partitions)
    if kernel.cluster.add_topics(tp.topic for tp in parts):
        await kernel.refresh_metadata()
    by_node: dict[int, list[TopicPartition]] = defaultdict(list)
    for tp in parts:
        leader = kernel.cluster.metadata.leader_for(tp)
        if leader is None or leader < 0:
            kernel.cluster.metadata.raise_for_topic(tp.topic)
            kernel.request_update()
            raise LeaderNotAvailableError(f"no leader for {tp.topic}-{tp.partition}")
        by_node[leader].append(tp)
    return by_node


async def list_offsets(
    kernel: Kernel,
    timestamps: Mapping[TopicPartition, int],
    isolation: IsolationLevel,
    timeout_ms: int,
) -> dict[TopicPartition, tuple[int, int]]:
    """``(offset, timestamp)`` per partition for each asked timestamp
    (``EARLIEST``, ``LATEST`` or milliseconds); offset -1 when no record is
    at or after the time."""

    async def attempt() -> dict[TopicPartition, tuple[int, int]]:
        by_node = await _leaders(kernel, timestamps)
        answers = await asyncio.gather(
            *(
                _list_on(kernel, node, parts, timestamps, isolation)
                for node, parts in by_node.items()
            )
        )
        return {tp: v for answer in answers for tp, v in answer.items()}

    return await kernel.retry(attempt, timeout_ms=timeout_ms)


async def _list_on(
    kernel: Kernel,
    node: int,
    parts: list[TopicPartition],
    timestamps: Mapping[TopicPartition, int],
    isolation: IsolationLevel,
) -> dict[TopicPartition, tuple[int, int]]:
    request = ListOffsetsRequest(
        isolation_level=isolation.wire,
        topics=[
            ListOffsetsTopic(
                name=topic,
                partitions=[
                    ListOffsetsPartition(
                        partition_index=p, timestamp=timestamps[TopicPartition(topic, p)]
                    )
                    for p in ps
                ],
            )
            for topic, ps in _by_topic(parts).items()
        ],
    )
    response = await kernel.send(node, ListOffsetsRequest, request)
    out: dict[TopicPartition, tuple[int, int]] = {}
    for topic in response.topics:
        for p in topic.partitions:
            if p.error_code:
                kernel.request_update()
                raise error_for_code(p.error_code)(f"ListOffsets {topic.name}-{p.partition_index}")
            out[TopicPartition(topic.name, p.partition_index)] = (p.offset, p.timestamp)
    return out


async def fetch_committed(
    kernel: Kernel, group_id: str, partitions: Iterable[TopicPartition], timeout_ms: int
) -> dict[TopicPartition, OffsetAndMetadata | None]:
    """The group's committed offsets; None where nothing was committed."""
    parts = list(partitions)
    by_topic = _by_topic(parts)
    used: dict[str, int] = {}

    def build(version: int) -> OffsetFetchRequest:
        used["v"] = version
        if version >= 8:
            topics = [
                OffsetFetchRequestTopics(name=t, partition_indexes=ps) for t, ps in by_topic.items()
            ]
            return OffsetFetchRequest(
                groups=[OffsetFetchRequestGroup(group_id=group_id, topics=topics)],
                require_stable=True,
            )
        return OffsetFetchRequest(
            group_id=group_id,
            topics=[
                OffsetFetchRequestTopic(name=t, partition_indexes=ps) for t, ps in by_topic.items()
            ],
            require_stable=version >= 7,
        )

    def group_code(response: Any) -> int:
        if used["v"] >= 8:
            return int(response.groups[0].error_code) if response.groups else 0
        return int(response.error_code)

    async def attempt() -> dict[TopicPartition, OffsetAndMetadata | None]:
        response = await kernel.send_to_coordinator(
            group_id, OffsetFetchRequest, build, error_code=group_code, timeout_ms=timeout_ms
        )
        if code := group_code(response):
            raise error_for_code(code)(f"OffsetFetch for group '{group_id}'")
        topics = response.groups[0].topics if used["v"] >= 8 else response.topics
        out: dict[TopicPartition, OffsetAndMetadata | None] = dict.fromkeys(parts)
        for topic in topics:
            for p in topic.partitions:
                if p.error_code:
                    raise error_for_code(p.error_code)(
                        f"OffsetFetch {topic.name}-{p.partition_index} for group '{group_id}'"
                    )
                if p.committed_offset >= 0:
                    epoch = p.committed_leader_epoch
                    out[TopicPartition(topic.name, p.partition_index)] = OffsetAndMetadata(
                        p.committed_offset, p.metadata or "", epoch if epoch >= 0 else None
                    )
        return out

    return await kernel.retry(attempt, timeout_ms=timeout_ms)


async def commit_offsets(
    kernel: Kernel,
    group_id: str,
    offsets: Mapping[TopicPartition, OffsetAndMetadata],
    *,
    generation_id: int = -1,
    member_id: str = "",
    group_instance_id: str | None = None,
    timeout_ms: int,
) -> None:
    """Commit ``offsets`` for the group; the first partition error is raised
    (retriable ones are retried first)."""
    topics = defaultdict(list)
    for tp, om in offsets.items():
        topics[tp.topic].append(
            OffsetCommitRequestPartition(
                partition_index=tp.partition,
                committed_offset=om.offset,
                committed_leader_epoch=om.leader_epoch if om.leader_epoch is not None else -1,
                committed_metadata=om.metadata,
            )
        )

    def build(version: int) -> OffsetCommitRequest:
        return OffsetCommitRequest(
            group_id=group_id,
            generation_id_or_member_epoch=generation_id,
            member_id=member_id,
            group_instance_id=group_instance_id if version >= 7 else None,
            topics=[OffsetCommitRequestTopic(name=t, partitions=ps) for t, ps in topics.items()],
        )

    def first_code(response: Any) -> int:
        return next(
            (p.error_code for t in response.topics for p in t.partitions if p.error_code), 0
        )

    async def attempt() -> None:
        response = await kernel.send_to_coordinator(
            group_id, OffsetCommitRequest, build, error_code=first_code, timeout_ms=timeout_ms
        )
        if code := first_code(response):
            error: KafkaError = error_for_code(code)(f"OffsetCommit for group '{group_id}'")
            raise error

    if offsets:
        await kernel.retry(attempt, timeout_ms=timeout_ms)
