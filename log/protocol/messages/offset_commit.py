"""OffsetCommit (key 8), versions 0-10, flexible from 8.

Kafka 4 serves 2-10; 0-1 were removed there (KIP-896) and are declared so
the client can still commit to older brokers. v1 adds group membership and
a per-partition commit timestamp, v2-4 carry a retention time (dropped in
v5), v6 adds the committed leader epoch, v7 the group instance id. v10 names
topics by id only (KIP-848); a Tidal broker stops at 9.
"""

from __future__ import annotations

import uuid

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING, UUID, ZERO_UUID

__all__ = [
    "OffsetCommitRequest",
    "OffsetCommitRequestPartition",
    "OffsetCommitRequestTopic",
    "OffsetCommitResponse",
    "OffsetCommitResponsePartition",
    "OffsetCommitResponseTopic",
]


class OffsetCommitRequestPartition(Struct):
    partition_index: int = F(INT32)
    committed_offset: int = F(INT64)
    committed_leader_epoch: int = F(INT32, versions="6+", ignorable=True, default=-1)
    commit_timestamp: int = F(INT64, versions="1", default=-1)
    committed_metadata: str | None = F(STRING, nullable_versions="0+", default="")


class OffsetCommitRequestTopic(Struct):
    name: str = F(STRING, versions="0-9", ignorable=True, default="")
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    partitions: list[OffsetCommitRequestPartition] = F(array(OffsetCommitRequestPartition))


class OffsetCommitRequest(Request, api_key=8, valid_versions=(0, 10), flexible_versions=8):
    """Commit offsets for a group; a generation of -1 with an empty member id
    is a "simple" commit by a consumer outside the group."""

    group_id: str = F(STRING)
    generation_id_or_member_epoch: int = F(INT32, versions="1+", ignorable=True, default=-1)
    member_id: str = F(STRING, versions="1+", ignorable=True, default="")
    group_instance_id: str | None = F(STRING, versions="7+", nullable_versions="7+", default=None)
    retention_time_ms: int = F(INT64, versions="2-4", ignorable=True, default=-1)
    topics: list[OffsetCommitRequestTopic] = F(array(OffsetCommitRequestTopic))


class OffsetCommitResponsePartition(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)


class OffsetCommitResponseTopic(Struct):
    name: str = F(STRING, versions="0-9", ignorable=True, default="")
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    partitions: list[OffsetCommitResponsePartition] = F(
        array(OffsetCommitResponsePartition), default_factory=list
    )


class OffsetCommitResponse(Response, api_key=8, valid_versions=(0, 10), flexible_versions=8):
    throttle_time_ms: int = F(INT32, versions="3+", ignorable=True, default=0)
    topics: list[OffsetCommitResponseTopic] = F(array(OffsetCommitResponseTopic))
