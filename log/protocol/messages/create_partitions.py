"""CreatePartitions (key 37), versions 0-3, flexible from 2.

Grows each topic to ``count`` partitions; ``assignments`` (null: the
broker's choice) lists the replicas of each new partition. v3 may answer
THROTTLING_QUOTA_EXCEEDED (KIP-599).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, STRING

__all__ = [
    "CreatePartitionsAssignment",
    "CreatePartitionsRequest",
    "CreatePartitionsResponse",
    "CreatePartitionsTopic",
    "CreatePartitionsTopicResult",
]


class CreatePartitionsAssignment(Struct):
    broker_ids: list[int] = F(array(INT32))


class CreatePartitionsTopic(Struct):
    name: str = F(STRING)
    count: int = F(INT32)
    assignments: list[CreatePartitionsAssignment] | None = F(
        array(CreatePartitionsAssignment), nullable_versions="0+", default=None
    )


class CreatePartitionsRequest(Request, api_key=37, valid_versions=(0, 3), flexible_versions=2):
    topics: list[CreatePartitionsTopic] = F(array(CreatePartitionsTopic))
    timeout_ms: int = F(INT32)
    validate_only: bool = F(BOOLEAN, default=False)


class CreatePartitionsTopicResult(Struct):
    name: str = F(STRING)
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)


class CreatePartitionsResponse(Response, api_key=37, valid_versions=(0, 3), flexible_versions=2):
    throttle_time_ms: int = F(INT32, default=0)
    results: list[CreatePartitionsTopicResult] = F(array(CreatePartitionsTopicResult))
