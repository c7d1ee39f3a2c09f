"""ListOffsets (key 2), versions 1-7 (Kafka knows 0-11), flexible from 6.

``timestamp`` -1 asks for the latest offset, -2 the earliest, -3 (v7+) the
offset of the largest timestamp; any other value the first offset at or
after that time.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT8, INT16, INT32, INT64, STRING

__all__ = [
    "ListOffsetsPartition",
    "ListOffsetsPartitionResponse",
    "ListOffsetsRequest",
    "ListOffsetsResponse",
    "ListOffsetsTopic",
    "ListOffsetsTopicResponse",
]


class ListOffsetsPartition(Struct):
    partition_index: int = F(INT32)
    current_leader_epoch: int = F(INT32, versions="4+", ignorable=True, default=-1)
    timestamp: int = F(INT64)
    max_num_offsets: int = F(INT32, versions="0", default=1)


class ListOffsetsTopic(Struct):
    name: str = F(STRING)
    partitions: list[ListOffsetsPartition] = F(array(ListOffsetsPartition))


class ListOffsetsRequest(Request, api_key=2, valid_versions=(0, 7), flexible_versions=6):
    replica_id: int = F(INT32, default=-1)
    isolation_level: int = F(INT8, versions="2+", default=0)
    topics: list[ListOffsetsTopic] = F(array(ListOffsetsTopic))


class ListOffsetsPartitionResponse(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)
    old_style_offsets: list[int] = F(array(INT64), versions="0", default_factory=list)
    timestamp: int = F(INT64, versions="1+", default=-1)
    offset: int = F(INT64, versions="1+", default=-1)
    leader_epoch: int = F(INT32, versions="4+", default=-1)


class ListOffsetsTopicResponse(Struct):
    name: str = F(STRING)
    partitions: list[ListOffsetsPartitionResponse] = F(array(ListOffsetsPartitionResponse))


class ListOffsetsResponse(Response, api_key=2, valid_versions=(0, 7), flexible_versions=6):
    throttle_time_ms: int = F(INT32, versions="2+", ignorable=True, default=0)
    topics: list[ListOffsetsTopicResponse] = F(array(ListOffsetsTopicResponse))
