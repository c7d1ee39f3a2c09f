"""DescribeProducers (key 61), version 0, flexible from 0.

A partition leader's view of the producers writing to each partition
(KIP-664): id, epoch, last sequence and timestamp, the epoch of the last
coordinator that wrote a marker for it, and the first offset of its open
transaction (-1 when none). ``kafka-transactions.sh find-hanging`` and
``abort --start-offset`` are built on it.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = [
    "DescribeProducersPartitionResponse",
    "DescribeProducersRequest",
    "DescribeProducersResponse",
    "DescribeProducersTopicRequest",
    "DescribeProducersTopicResponse",
    "ProducerState",
]


class DescribeProducersTopicRequest(Struct):
    name: str = F(STRING)
    partition_indexes: list[int] = F(array(INT32))


class DescribeProducersRequest(Request, api_key=61, valid_versions=(0, 0), flexible_versions=0):
    topics: list[DescribeProducersTopicRequest] = F(array(DescribeProducersTopicRequest))


class ProducerState(Struct):
    producer_id: int = F(INT64)
    producer_epoch: int = F(INT32)
    last_sequence: int = F(INT32, default=-1)
    last_timestamp: int = F(INT64, default=-1)
    coordinator_epoch: int = F(INT32)
    current_txn_start_offset: int = F(INT64, default=-1)


class DescribeProducersPartitionResponse(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    active_producers: list[ProducerState] = F(array(ProducerState), default_factory=list)


class DescribeProducersTopicResponse(Struct):
    name: str = F(STRING)
    partitions: list[DescribeProducersPartitionResponse] = F(
        array(DescribeProducersPartitionResponse), default_factory=list
    )


class DescribeProducersResponse(Response, api_key=61, valid_versions=(0, 0), flexible_versions=0):
    throttle_time_ms: int = F(INT32, default=0)
    topics: list[DescribeProducersTopicResponse] = F(array(DescribeProducersTopicResponse))
