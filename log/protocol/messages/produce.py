"""Produce (key 0), versions 0-11, flexible from 9.

Brokers serve 3+ (record batch v2); 0-2 are declared so that the codec can
read them and the broker can refuse them properly, and because librdkafka
before 2.11.1 only enables compression when the advertised range starts at 0.
``records`` is the raw record-batch bytes, never re-encoded here.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, RECORDS, STRING

__all__ = [
    "BatchIndexAndErrorMessage",
    "LeaderIdAndEpoch",
    "NodeEndpoint",
    "PartitionProduceData",
    "PartitionProduceResponse",
    "ProduceRequest",
    "ProduceResponse",
    "TopicProduceData",
    "TopicProduceResponse",
]


class PartitionProduceData(Struct):
    index: int = F(INT32)
    records: bytes | None = F(RECORDS, nullable_versions="0+")


class TopicProduceData(Struct):
    name: str = F(STRING)
    partition_data: list[PartitionProduceData] = F(array(PartitionProduceData))


class ProduceRequest(Request, api_key=0, valid_versions=(0, 11), flexible_versions=9):
    transactional_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)
    acks: int = F(INT16)
    timeout_ms: int = F(INT32)
    topic_data: list[TopicProduceData] = F(array(TopicProduceData))


class BatchIndexAndErrorMessage(Struct):
    batch_index: int = F(INT32, versions="8+")
    batch_index_error_message: str | None = F(
        STRING, versions="8+", nullable_versions="8+", default=None
    )


class LeaderIdAndEpoch(Struct):
    leader_id: int = F(INT32, versions="10+", default=-1)
    leader_epoch: int = F(INT32, versions="10+", default=-1)


class PartitionProduceResponse(Struct):
    index: int = F(INT32)
    error_code: int = F(INT16, default=0)
    base_offset: int = F(INT64, default=-1)
    log_append_time_ms: int = F(INT64, versions="2+", ignorable=True, default=-1)
    log_start_offset: int = F(INT64, versions="5+", ignorable=True, default=-1)
    record_errors: list[BatchIndexAndErrorMessage] = F(
        array(BatchIndexAndErrorMessage), versions="8+", ignorable=True, default_factory=list
    )
    error_message: str | None = F(
        STRING, versions="8+", nullable_versions="8+", ignorable=True, default=None
    )
    current_leader: LeaderIdAndEpoch = F(
        LeaderIdAndEpoch,
        versions="10+",
        tag=0,
        tagged_versions="10+",
        ignorable=True,
        default_factory=LeaderIdAndEpoch,
    )


class TopicProduceResponse(Struct):
    name: str = F(STRING)
    partition_responses: list[PartitionProduceResponse] = F(array(PartitionProduceResponse))


class NodeEndpoint(Struct):
    node_id: int = F(INT32, versions="10+")
    host: str = F(STRING, versions="10+")
    port: int = F(INT32, versions="10+")
    rack: str | None = F(STRING, versions="10+", nullable_versions="10+", default=None)


class ProduceResponse(Response, api_key=0, valid_versions=(0, 11), flexible_versions=9):
    responses: list[TopicProduceResponse] = F(array(TopicProduceResponse))
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    node_endpoints: list[NodeEndpoint] = F(
        array(NodeEndpoint),
        versions="10+",
        tag=0,
        tagged_versions="10+",
        ignorable=True,
        default_factory=list,
    )
