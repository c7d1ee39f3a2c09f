"""OffsetDelete (key 47), version 0, never flexible.

Deletes committed offsets of partitions the group no longer subscribes to
(KIP-496). Note the response puts ``error_code`` before the throttle time.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, STRING

__all__ = [
    "OffsetDeleteRequest",
    "OffsetDeleteRequestPartition",
    "OffsetDeleteRequestTopic",
    "OffsetDeleteResponse",
    "OffsetDeleteResponsePartition",
    "OffsetDeleteResponseTopic",
]


class OffsetDeleteRequestPartition(Struct):
    partition_index: int = F(INT32)


class OffsetDeleteRequestTopic(Struct):
    name: str = F(STRING)
    partitions: list[OffsetDeleteRequestPartition] = F(array(OffsetDeleteRequestPartition))


class OffsetDeleteRequest(Request, api_key=47, valid_versions=(0, 0)):
    group_id: str = F(STRING)
    topics: list[OffsetDeleteRequestTopic] = F(array(OffsetDeleteRequestTopic))


class OffsetDeleteResponsePartition(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)


class OffsetDeleteResponseTopic(Struct):
    name: str = F(STRING)
    partitions: list[OffsetDeleteResponsePartition] = F(
        array(OffsetDeleteResponsePartition), default_factory=list
    )


class OffsetDeleteResponse(Response, api_key=47, valid_versions=(0, 0)):
    error_code: int = F(INT16, default=0)
    throttle_time_ms: int = F(INT32, ignorable=True, default=0)
    topics: list[OffsetDeleteResponseTopic] = F(
        array(OffsetDeleteResponseTopic), default_factory=list
    )
