"""Admin operations on consumer groups and partition offsets.

Group calls go to the group's coordinator (``Kernel.send_to_coordinator``
follows it when it moves); ListOffsets and DeleteRecords go to each
partition's leader. Errors are raised typed, naming the group or partition.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.admin._results import (
    GroupDescription,
    GroupListing,
    ListOffsetsResult,
    MemberDescription,
    decode_assignment,
)
from tidal.log.client.admin._topics import check
from tidal.log.protocol.errors import GroupIdNotFoundError, LeaderNotAvailableError
from tidal.log.protocol.messages import (
    DeleteGroupsRequest,
    DeleteRecordsRequest,
    DescribeGroupsRequest,
    ListGroupsRequest,
    ListOffsetsRequest,
    OffsetCommitRequest,
    OffsetDeleteRequest,
    OffsetFetchRequest,
)
from tidal.log.protocol.messages import delete_records as dr
from tidal.log.protocol.messages import list_offsets as lo
from tidal.log.protocol.messages import offset_commit as oc
from tidal.log.protocol.messages import offset_delete as od
from tidal.log.protocol.messages import offset_fetch as of

__all__ = [
    "alter_group_offsets",
    "delete_group_offsets",
    "delete_groups",
    "delete_records",
    "describe_groups",
    "list_group_offsets",
    "list_groups",
    "list_offsets",
]


def _by_topic(partitions: Iterable[TopicPartition]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for tp in partitions:
        out[tp.topic].append(tp.partition)
    return out


async def list_groups(kernel: Kernel) -> list[GroupListing]:
    md = await kernel.fetch_metadata([])
    responses = await asyncio.gather(
        *(kernel.send(node, ListGroupsRequest, ListGroupsRequest()) for node in md.nodes)
    )
    out = []
    for r in responses:
        check(r.error_code, None, "ListGroups")
        out += [GroupListing(g.group_id, g.protocol_type, g.group_state) for g in r.groups]
    return sorted(out, key=lambda g: g.group_id)


async def describe_groups(kernel: Kernel, groups: Iterable[str]) -> dict[str, GroupDescription]:
    out: dict[str, GroupDescription] = {}
    for group in groups:
        r = await kernel.send_to_coordinator(
            group,
            DescribeGroupsRequest,
            DescribeGroupsRequest(groups=[group]),
            error_code=lambda resp: resp.groups[0].error_code if resp.groups else 0,
        )
        g = r.groups[0]
        check(g.error_code, g.error_message, f"group '{group}'")
        if g.group_state == "Dead":
            raise GroupIdNotFoundError(f"group '{group}' does not exist")
        members = [
            MemberDescription(
                m.member_id,
                m.group_instance_id,
                m.client_id,
                m.client_host,
                decode_assignment(m.member_assignment) if g.protocol_type == "consumer" else [],
            )
            for m in g.members
        ]
        out[group] = GroupDescription(
            group, g.group_state, g.protocol_type, g.protocol_data, members
        )
    return out


async def delete_groups(kernel: Kernel, groups: Iterable[str]) -> None:
    for group in groups:
        r = await kernel.send_to_coordinator(
            group,
            DeleteGroupsRequest,
            DeleteGroupsRequest(groups_names=[group]),
            error_code=lambda resp: resp.results[0].error_code if resp.results else 0,
        )
        for res in r.results:
            check(res.error_code, None, f"group '{res.group_id}'")


async def list_group_offsets(
    kernel: Kernel, group: str, partitions: Iterable[TopicPartition] | None
) -> dict[TopicPartition, OffsetAndMetadata]:
    wanted = None if partitions is None else _by_topic(partitions)

    def build(version: int) -> OffsetFetchRequest:
        if version >= 8:
            topics = (
                None
                if wanted is None
                else [
                    of.OffsetFetchRequestTopics(name=t, partition_indexes=p)
                    for t, p in wanted.items()
                ]
            )
            return OffsetFetchRequest(
                groups=[of.OffsetFetchRequestGroup(group_id=group, topics=topics)]
            )
        old = (
            None
            if wanted is None
            else [
                of.OffsetFetchRequestTopic(name=t, partition_indexes=p) for t, p in wanted.items()
            ]
        )
        return OffsetFetchRequest(group_id=group, topics=old)

    def code(resp: Any) -> int:
        return int(resp.groups[0].error_code if resp.groups else resp.error_code)

    r = await kernel.send_to_coordinator(group, OffsetFetchRequest, build, error_code=code)
    check(code(r), None, f"group '{group}'")
    out: dict[TopicPartition, OffsetAndMetadata] = {}
    topics: list[Any] = r.groups[0].topics if r.groups else r.topics
    for t in topics:
        for p in t.partitions:
            check(p.error_code, None, f"group '{group}' partition {t.name}-{p.partition_index}")
            if p.committed_offset >= 0:
                epoch = p.committed_leader_epoch if p.committed_leader_epoch >= 0 else None
                out[TopicPartition(t.name, p.partition_index)] = OffsetAndMetadata(
                    p.committed_offset, p.metadata or "", epoch
                )
    return out


async def alter_group_offsets(
    kernel: Kernel, group: str, offsets: Mapping[TopicPartition, OffsetAndMetadata | int]
) -> None:
    topics: dict[str, list[oc.OffsetCommitRequestPartition]] = defaultdict(list)
    for tp, value in offsets.items():
        om = value if isinstance(value, OffsetAndMetadata) else OffsetAndMetadata(value)
        topics[tp.topic].append(
            oc.OffsetCommitRequestPartition(
                partition_index=tp.partition,
                committed_offset=om.offset,
                committed_leader_epoch=-1 if om.leader_epoch is None else om.leader_epoch,
                committed_metadata=om.metadata,
            )
        )
    request = OffsetCommitRequest(
        group_id=group,
        topics=[oc.OffsetCommitRequestTopic(name=t, partitions=p) for t, p in topics.items()],
    )

    def first_code(resp: Any) -> int:
        return next((p.error_code for t in resp.topics for p in t.partitions if p.error_code), 0)

    r = await kernel.send_to_coordinator(group, OffsetCommitRequest, request, error_code=first_code)
    for t in r.topics:
        for p in t.partitions:
            check(p.error_code, None, f"group '{group}' partition {t.name}-{p.partition_index}")


async def delete_group_offsets(
    kernel: Kernel, group: str, partitions: Iterable[TopicPartition]
) -> None:
    topics = [
        od.OffsetDeleteRequestTopic(
            name=t, partitions=[od.OffsetDeleteRequestPartition(partition_index=p) for p in ps]
        )
        for t, ps in _by_topic(partitions).items()
    ]
    r = await kernel.send_to_coordinator(
        group, OffsetDeleteRequest, OffsetDeleteRequest(group_id=group, topics=topics)
    )
    check(r.error_code, None, f"group '{group}'")
    for t in r.topics:
        for p in t.partitions:
            check(p.error_code, None, f"group '{group}' partition {t.name}-{p.partition_index}")


async def _leaders(
    kernel: Kernel, partitions: Iterable[TopicPartition]
) -> dict[int, list[TopicPartition]]:
    wanted = list(partitions)
    md = await kernel.fetch_metadata(sorted({tp.topic for tp in wanted}), allow_auto_create=False)
    out: dict[int, list[TopicPartition]] = defaultdict(list)
    for tp in wanted:
        md.raise_for_topic(tp.topic)
        leader = md.leader_for(tp)
        if leader is None:
            if tp.partition not in (md.partitions_for(tp.topic) or []):
                check(3, None, f"partition {tp.topic}-{tp.partition}")
            raise LeaderNotAvailableError(f"partition {tp.topic}-{tp.partition} has no leader")
        out[leader].append(tp)
    return out


async def list_offsets(
    kernel: Kernel, specs: Mapping[TopicPartition, int], *, isolation_level: int
) -> dict[TopicPartition, ListOffsetsResult]:
    out: dict[TopicPartition, ListOffsetsResult] = {}
    for node, tps in (await _leaders(kernel, specs)).items():
        topics = [
            lo.ListOffsetsTopic(
                name=t,
                partitions=[
                    lo.ListOffsetsPartition(
                        partition_index=p, timestamp=specs[TopicPartition(t, p)]
                    )
                    for p in ps
                ],
            )
            for t, ps in _by_topic(tps).items()
        ]
        r = await kernel.send(
            node,
            ListOffsetsRequest,
            ListOffsetsRequest(isolation_level=isolation_level, topics=topics),
        )
        for t in r.topics:
            for p in t.partitions:
                check(p.error_code, None, f"partition {t.name}-{p.partition_index}")
                epoch = p.leader_epoch if p.leader_epoch >= 0 else None
                out[TopicPartition(t.name, p.partition_index)] = ListOffsetsResult(
                    p.offset, p.timestamp, epoch
                )
    return out


async def delete_records(
    kernel: Kernel, before: Mapping[TopicPartition, int], *, timeout_ms: int
) -> dict[TopicPartition, int]:
    out: dict[TopicPartition, int] = {}
    for node, tps in (await _leaders(kernel, before)).items():
        topics = [
            dr.DeleteRecordsTopic(
                name=t,
                partitions=[
                    dr.DeleteRecordsPartition(
                        partition_index=p, offset=before[TopicPartition(t, p)]
                    )
                    for p in ps
                ],
            )
            for t, ps in _by_topic(tps).items()
        ]
        r = await kernel.send(
            node, DeleteRecordsRequest, DeleteRecordsRequest(topics=topics, timeout_ms=timeout_ms)
        )
        for t in r.topics:
            for p in t.partitions:
                check(p.error_code, None, f"partition {t.name}-{p.partition_index}")
                out[TopicPartition(t.name, p.partition_index)] = p.low_watermark
    return out
