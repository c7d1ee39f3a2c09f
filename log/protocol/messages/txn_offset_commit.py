"""TxnOffsetCommit (key 28), versions 0-5, flexible from 3.

``sendOffsetsToTransaction``, second step: offsets committed to the group
coordinator inside a transaction, invisible until the transaction's COMMIT
marker. v2 adds the committed leader epoch, v3 the consumer's group
metadata (generation, member id, group instance id), which Java requires
when it passes ``consumer.groupMetadata()``; v4 adds TRANSACTION_ABORTABLE;
v5 also adds the group to the transaction (transaction protocol V2). A
Tidal broker stops at 4.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = [
    "TxnOffsetCommitRequest",
    "TxnOffsetCommitRequestPartition",
    "TxnOffsetCommitRequestTopic",
    "TxnOffsetCommitResponse",
    "TxnOffsetCommitResponsePartition",
    "TxnOffsetCommitResponseTopic",
]


class TxnOffsetCommitRequestPartition(Struct):
    partition_index: int = F(INT32)
    committed_offset: int = F(INT64)
    committed_leader_epoch: int = F(INT32, versions="2+", ignorable=True, default=-1)
    committed_metadata: str | None = F(STRING, nullable_versions="0+", default="")


class TxnOffsetCommitRequestTopic(Struct):
    name: str = F(STRING)
    partitions: list[TxnOffsetCommitRequestPartition] = F(array(TxnOffsetCommitRequestPartition))


class TxnOffsetCommitRequest(Request, api_key=28, valid_versions=(0, 5), flexible_versions=3):
    transactional_id: str = F(STRING)
    group_id: str = F(STRING)
    producer_id: int = F(INT64)
    producer_epoch: int = F(INT16)
    generation_id: int = F(INT32, versions="3+", default=-1)
    member_id: str = F(STRING, versions="3+", default="")
    group_instance_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)
    topics: list[TxnOffsetCommitRequestTopic] = F(array(TxnOffsetCommitRequestTopic))


class TxnOffsetCommitResponsePartition(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)


class TxnOffsetCommitResponseTopic(Struct):
    name: str = F(STRING)
    partitions: list[TxnOffsetCommitResponsePartition] = F(
        array(TxnOffsetCommitResponsePartition), default_factory=list
    )


class TxnOffsetCommitResponse(Response, api_key=28, valid_versions=(0, 5), flexible_versions=3):
    throttle_time_ms: int = F(INT32, default=0)
    topics: list[TxnOffsetCommitResponseTopic] = F(array(TxnOffsetCommitResponseTopic))
