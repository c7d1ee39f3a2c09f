"""OffsetCommit, OffsetFetch and OffsetDelete: a group's committed offsets.

OffsetFetch has two layouts: v1-7 ask for one group (``group_id``,
``topics``, null topics from v2 for all), v8+ for several (``groups``), each
answered with its own error code. Before v2 the answer has no top-level error
code, so a group-level error goes on every requested partition, as in Kafka.
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker.group import (
    OffsetCommitArgs,
    OffsetCommitPartition,
    OffsetDeleteArgs,
    OffsetFetchArgs,
    OffsetFetchPartition,
    OffsetFetchResult,
    TopicPartitions,
)
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import (
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetDeleteRequest,
    OffsetDeleteResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
)
from tidal.log.protocol.messages.offset_commit import (
    OffsetCommitResponsePartition,
    OffsetCommitResponseTopic,
)
from tidal.log.protocol.messages.offset_delete import (
    OffsetDeleteResponsePartition,
    OffsetDeleteResponseTopic,
)
from tidal.log.protocol.messages.offset_fetch import (
    OffsetFetchResponseGroup,
    OffsetFetchResponsePartition,
    OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
)

__all__ = ["offset_commit", "offset_delete", "offset_fetch"]


@handles(OffsetCommitRequest)
async def offset_commit(ctx: RequestContext, request: OffsetCommitRequest) -> OffsetCommitResponse:
    """Commit offsets for a group member, or for a "simple" consumer (generation -1)."""
    args = OffsetCommitArgs(
        group_id=request.group_id,
        topics=[
            TopicPartitions(
                t.name,
                [
                    OffsetCommitPartition(
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.committed_metadata,
                    )
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ],
        generation_id=request.generation_id_or_member_epoch,
        member_id=request.member_id,
        group_instance_id=request.group_instance_id,
    )
    result = await ctx.broker.groups.commit_offsets(args)
    return OffsetCommitResponse(
        topics=[
            OffsetCommitResponseTopic(
                name=t.name,
                partitions=[
                    OffsetCommitResponsePartition(
                        partition_index=p.partition_index, error_code=p.error_code
                    )
                    for p in t.partitions
                ],
            )
            for t in result
        ]
    )


def _with_error(
    error: int, topics: list[TopicPartitions[int]] | None
) -> list[TopicPartitions[OffsetFetchPartition]]:
    """The requested partitions, each answered with a group-level ``error``."""
    return [
        TopicPartitions(t.name, [OffsetFetchPartition(p, -1, -1, "", error) for p in t.partitions])
        for t in topics or []
    ]


async def _fetch(
    ctx: RequestContext,
    group_id: str,
    topics: list[TopicPartitions[int]] | None,
    require_stable: bool,
) -> OffsetFetchResult:
    return await ctx.broker.groups.fetch_offsets(OffsetFetchArgs(group_id, topics, require_stable))


async def _fetch_v1_to_7(ctx: RequestContext, request: OffsetFetchRequest) -> OffsetFetchResponse:
    version = ctx.api_version
    topics = (
        None
        if request.topics is None
        else [TopicPartitions(t.name, list(t.partition_indexes)) for t in request.topics]
    )
    result = await _fetch(ctx, request.group_id, topics, request.require_stable)
    answered = result.topics if result.error_code == 0 else _with_error(result.error_code, topics)
    response = OffsetFetchResponse(
        topics=[
            OffsetFetchResponseTopic(
                name=t.name,
                partitions=[
                    OffsetFetchResponsePartition(
                        partition_index=p.partition_index,
                        committed_offset=p.committed_offset,
                        committed_leader_epoch=p.committed_leader_epoch,
                        metadata=p.metadata,
                        error_code=p.error_code,
                    )
                    for p in t.partitions
                ],
            )
            for t in answered
        ]
    )
    if version >= 2:
        response.error_code = result.error_code
    return response


@handles(OffsetFetchRequest)
async def offset_fetch(ctx: RequestContext, request: OffsetFetchRequest) -> OffsetFetchResponse:
    """Committed offsets (-1 where none) of one group (v1-7) or several (v8+)."""
    if ctx.api_version < 8:
        return await _fetch_v1_to_7(ctx, request)
    groups = []
    for group in request.groups:
        topics = (
            None
            if group.topics is None
            else [TopicPartitions(t.name, list(t.partition_indexes)) for t in group.topics]
        )
        result = await _fetch(ctx, group.group_id, topics, request.require_stable)
        groups.append(
            OffsetFetchResponseGroup(
                group_id=group.group_id,
                error_code=result.error_code,
                topics=[
                    OffsetFetchResponseTopics(
                        name=t.name,
                        partitions=[
                            OffsetFetchResponsePartitions(
                                partition_index=p.partition_index,
                                committed_offset=p.committed_offset,
                                committed_leader_epoch=p.committed_leader_epoch,
                                metadata=p.metadata,
                                error_code=p.error_code,
                            )
                            for p in t.partitions
                        ],
                    )
                    for t in result.topics
                ],
            )
        )
    return OffsetFetchResponse(groups=groups)


@handles(OffsetDeleteRequest)
async def offset_delete(ctx: RequestContext, request: OffsetDeleteRequest) -> OffsetDeleteResponse:
    """Delete a group's offsets of topics it no longer consumes."""
    result = await ctx.broker.groups.delete_offsets(
        OffsetDeleteArgs(
            request.group_id,
            [
                TopicPartitions(t.name, [p.partition_index for p in t.partitions])
                for t in request.topics
            ],
        )
    )
    return OffsetDeleteResponse(
        error_code=result.error_code,
        topics=[
            OffsetDeleteResponseTopic(
                name=t.name,
                partitions=[
                    OffsetDeleteResponsePartition(
                        partition_index=p.partition_index, error_code=p.error_code
                    )
                    for p in t.partitions
                ],
            )
            for t in result.topics
        ],
    )
