"""DeleteRecords (key 21), versions 0-2, flexible from 2.

Sent to each partition's leader: advance the log start offset to ``offset``
(-1: the high watermark). The answer carries the new low watermark.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = [
    "DeleteRecordsPartition",
    "DeleteRecordsPartitionResult",
    "DeleteRecordsRequest",
    "DeleteRecordsResponse",
    "DeleteRecordsTopic",
    "DeleteRecordsTopicResult",
]


class DeleteRecordsPartition(Struct):
    partition_index: int = F(INT32)
    offset: int = F(INT64)


class DeleteRecordsTopic(Struct):
    name: str = F(STRING)
    partitions: list[DeleteRecordsPartition] = F(array(DeleteRecordsPartition))


class DeleteRecordsRequest(Request, api_key=21, valid_versions=(0, 2), flexible_versions=2):
    topics: list[DeleteRecordsTopic] = F(array(DeleteRecordsTopic))
    timeout_ms: int = F(INT32)


class DeleteRecordsPartitionResult(Struct):
    partition_index: int = F(INT32)
    low_watermark: int = F(INT64, default=-1)
    error_code: int = F(INT16, default=0)


class DeleteRecordsTopicResult(Struct):
    name: str = F(STRING)
    partitions: list[DeleteRecordsPartitionResult] = F(
        array(DeleteRecordsPartitionResult), default_factory=list
    )


class DeleteRecordsResponse(Response, api_key=21, valid_versions=(0, 2), flexible_versions=2):
    throttle_time_ms: int = F(INT32, default=0)
    topics: list[DeleteRecordsTopicResult] = F(array(DeleteRecordsTopicResult))
