"""AddPartitionsToTxn (key 24), versions 0-5, flexible from 3.

Clients send v0-3: one transaction's id, producer and ``topics`` (named
``v3_and_below_*`` after Kafka's fields). v4+ is the broker-to-broker batch
of several ``transactions`` with ``verify_only`` (KIP-890 part 1), answered
per transaction under a top-level error code; clients never send it. v2 adds
PRODUCER_FENCED, v5 TRANSACTION_ABORTABLE.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, INT64, STRING

__all__ = [
    "AddPartitionsToTxnPartitionResult",
    "AddPartitionsToTxnRequest",
    "AddPartitionsToTxnResponse",
    "AddPartitionsToTxnResult",
    "AddPartitionsToTxnTopic",
    "AddPartitionsToTxnTopicResult",
    "AddPartitionsToTxnTransaction",
]


class AddPartitionsToTxnTopic(Struct):
    name: str = F(STRING)
    partitions: list[int] = F(array(INT32))


class AddPartitionsToTxnTransaction(Struct):
    transactional_id: str = F(STRING, versions="4+")
    producer_id: int = F(INT64, versions="4+")
    producer_epoch: int = F(INT16, versions="4+")
    verify_only: bool = F(BOOLEAN, versions="4+", default=False)
    topics: list[AddPartitionsToTxnTopic] = F(array(AddPartitionsToTxnTopic), versions="4+")


class AddPartitionsToTxnRequest(Request, api_key=24, valid_versions=(0, 5), flexible_versions=3):
    transactions: list[AddPartitionsToTxnTransaction] = F(
        array(AddPartitionsToTxnTransaction), versions="4+", default_factory=list
    )
    v3_and_below_transactional_id: str = F(STRING, versions="0-3", default="")
    v3_and_below_producer_id: int = F(INT64, versions="0-3", default=0)
    v3_and_below_producer_epoch: int = F(INT16, versions="0-3", default=0)
    v3_and_below_topics: list[AddPartitionsToTxnTopic] = F(
        array(AddPartitionsToTxnTopic), versions="0-3", default_factory=list
    )


class AddPartitionsToTxnPartitionResult(Struct):
    partition_index: int = F(INT32)
    partition_error_code: int = F(INT16, default=0)


class AddPartitionsToTxnTopicResult(Struct):
    name: str = F(STRING)
    results_by_partition: list[AddPartitionsToTxnPartitionResult] = F(
        array(AddPartitionsToTxnPartitionResult), default_factory=list
    )


class AddPartitionsToTxnResult(Struct):
    transactional_id: str = F(STRING, versions="4+")
    topic_results: list[AddPartitionsToTxnTopicResult] = F(
        array(AddPartitionsToTxnTopicResult), versions="4+", default_factory=list
    )


class AddPartitionsToTxnResponse(Response, api_key=24, valid_versions=(0, 5), flexible_versions=3):
    throttle_time_ms: int = F(INT32, default=0)
    error_code: int = F(INT16, versions="4+", ignorable=True, default=0)
    results_by_transaction: list[AddPartitionsToTxnResult] = F(
        array(AddPartitionsToTxnResult), versions="4+", default_factory=list
    )
    results_by_topic_v3_and_below: list[AddPartitionsToTxnTopicResult] = F(
        array(AddPartitionsToTxnTopicResult), versions="0-3", default_factory=list
    )
