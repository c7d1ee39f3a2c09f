"""Fetch (key 1), versions 4-12, flexible from 12.

The range a Tidal broker serves: 13+ address topics by id only. Responses
carry ``records`` as raw record-batch bytes; a broker must never send null
records (librdkafka breaks on them, KAFKA-18646), so the default is ``b""``.
Sessions (v7+) may always be answered sessionless with ``session_id`` 0.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT8, INT16, INT32, INT64, RECORDS, STRING

__all__ = [
    "AbortedTransaction",
    "EpochEndOffset",
    "FetchPartition",
    "FetchRequest",
    "FetchResponse",
    "FetchTopic",
    "FetchableTopicResponse",
    "ForgottenTopic",
    "LeaderIdAndEpoch",
    "PartitionData",
    "SnapshotId",
]

#: ``isolation_level`` values.
READ_UNCOMMITTED = 0
READ_COMMITTED = 1


class FetchPartition(Struct):
    partition: int = F(INT32)
    current_leader_epoch: int = F(INT32, versions="9+", ignorable=True, default=-1)
    fetch_offset: int = F(INT64)
    last_fetched_epoch: int = F(INT32, versions="12+", default=-1)
    log_start_offset: int = F(INT64, versions="5+", ignorable=True, default=-1)
    partition_max_bytes: int = F(INT32)


class FetchTopic(Struct):
    topic: str = F(STRING, versions="0-12", ignorable=True)
    partitions: list[FetchPartition] = F(array(FetchPartition))


class ForgottenTopic(Struct):
    topic: str = F(STRING, versions="7-12", ignorable=True)
    partitions: list[int] = F(array(INT32), versions="7+", default_factory=list)


class FetchRequest(Request, api_key=1, valid_versions=(4, 12), flexible_versions=12):
    cluster_id: str | None = F(
        STRING,
        versions="12+",
        nullable_versions="12+",
        tag=0,
        tagged_versions="12+",
        ignorable=True,
        default=None,
    )
    replica_id: int = F(INT32, versions="0-14", default=-1)
    max_wait_ms: int = F(INT32)
    min_bytes: int = F(INT32)
    max_bytes: int = F(INT32, versions="3+", ignorable=True, default=0x7FFFFFFF)
    isolation_level: int = F(INT8, versions="4+", ignorable=True, default=READ_UNCOMMITTED)
    session_id: int = F(INT32, versions="7+", ignorable=True, default=0)
    session_epoch: int = F(INT32, versions="7+", ignorable=True, default=-1)
    topics: list[FetchTopic] = F(array(FetchTopic))
    forgotten_topics_data: list[ForgottenTopic] = F(
        array(ForgottenTopic), versions="7+", default_factory=list
    )
    rack_id: str = F(STRING, versions="11+", ignorable=True, default="")


class EpochEndOffset(Struct):
    epoch: int = F(INT32, versions="12+", default=-1)
    end_offset: int = F(INT64, versions="12+", default=-1)


class LeaderIdAndEpoch(Struct):
    leader_id: int = F(INT32, versions="12+", default=-1)
    leader_epoch: int = F(INT32, versions="12+", default=-1)


class SnapshotId(Struct):
    end_offset: int = F(INT64, default=-1)
    epoch: int = F(INT32, default=-1)


class AbortedTransaction(Struct):
    producer_id: int = F(INT64, versions="4+")
    first_offset: int = F(INT64, versions="4+")


class PartitionData(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)
    high_watermark: int = F(INT64)
    last_stable_offset: int = F(INT64, versions="4+", ignorable=True, default=-1)
    log_start_offset: int = F(INT64, versions="5+", ignorable=True, default=-1)
    diverging_epoch: EpochEndOffset = F(
        EpochEndOffset, versions="12+", tag=0, tagged_versions="12+", default_factory=EpochEndOffset
    )
    current_leader: LeaderIdAndEpoch = F(
        LeaderIdAndEpoch,
        versions="12+",
        tag=1,
        tagged_versions="12+",
        default_factory=LeaderIdAndEpoch,
    )
    snapshot_id: SnapshotId = F(
        SnapshotId, versions="12+", tag=2, tagged_versions="12+", default_factory=SnapshotId
    )
    aborted_transactions: list[AbortedTransaction] | None = F(
        array(AbortedTransaction),
        versions="4+",
        nullable_versions="4+",
        ignorable=True,
        default=None,
    )
    preferred_read_replica: int = F(INT32, versions="11+", default=-1)
    records: bytes | None = F(RECORDS, nullable_versions="0+", default=b"")


class FetchableTopicResponse(Struct):
    topic: str = F(STRING, versions="0-12", ignorable=True)
    partitions: list[PartitionData] = F(array(PartitionData))


class FetchResponse(Response, api_key=1, valid_versions=(4, 12), flexible_versions=12):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, versions="7+", ignorable=True, default=0)
    session_id: int = F(INT32, versions="7+", default=0)
    responses: list[FetchableTopicResponse] = F(array(FetchableTopicResponse))
