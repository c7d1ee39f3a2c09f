"""OffsetForLeaderEpoch (key 23), versions 0-4, flexible from 4.

The end offset of a leader epoch, which consumers use to detect log
truncation after a leader change. Kafka 4 serves 2-4; 0-1 are declared for
older brokers. v1 returns the leader epoch, v2 adds the caller's current
leader epoch for fencing and a throttle time, v3 the replica id (-1 for a
consumer, -2 the default "debug" caller).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = [
    "EpochEndOffset",
    "OffsetForLeaderEpochRequest",
    "OffsetForLeaderEpochResponse",
    "OffsetForLeaderPartition",
    "OffsetForLeaderTopic",
    "OffsetForLeaderTopicResult",
]

#: ``replica_id`` of a consumer.
CONSUMER_REPLICA_ID = -1
#: ``replica_id`` of a caller that may see offsets beyond the high watermark.
DEBUGGING_REPLICA_ID = -2


class OffsetForLeaderPartition(Struct):
    partition: int = F(INT32)
    current_leader_epoch: int = F(INT32, versions="2+", ignorable=True, default=-1)
    leader_epoch: int = F(INT32)


class OffsetForLeaderTopic(Struct):
    topic: str = F(STRING)
    partitions: list[OffsetForLeaderPartition] = F(array(OffsetForLeaderPartition))


class OffsetForLeaderEpochRequest(Request, api_key=23, valid_versions=(0, 4), flexible_versions=4):
    replica_id: int = F(INT32, versions="3+", ignorable=True, default=DEBUGGING_REPLICA_ID)
    topics: list[OffsetForLeaderTopic] = F(array(OffsetForLeaderTopic))


class EpochEndOffset(Struct):
    error_code: int = F(INT16, default=0)
    partition: int = F(INT32)
    leader_epoch: int = F(INT32, versions="1+", ignorable=True, default=-1)
    end_offset: int = F(INT64, default=-1)


class OffsetForLeaderTopicResult(Struct):
    topic: str = F(STRING)
    partitions: list[EpochEndOffset] = F(array(EpochEndOffset), default_factory=list)


class OffsetForLeaderEpochResponse(
    Response, api_key=23, valid_versions=(0, 4), flexible_versions=4
):
    throttle_time_ms: int = F(INT32, versions="2+", ignorable=True, default=0)
    topics: list[OffsetForLeaderTopicResult] = F(array(OffsetForLeaderTopicResult))
