"""DescribeTransactions (key 65), version 0, flexible from 0.

The transaction coordinator's view of each transactional id (KIP-664):
state (``Empty``, ``Ongoing``, ``PrepareCommit``, ...), producer, timeout,
start time and the partitions in the open transaction.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = [
    "DescribeTransactionsRequest",
    "DescribeTransactionsResponse",
    "TopicData",
    "TransactionState",
]


class DescribeTransactionsRequest(Request, api_key=65, valid_versions=(0, 0), flexible_versions=0):
    transactional_ids: list[str] = F(array(STRING))


class TopicData(Struct):
    topic: str = F(STRING)
    partitions: list[int] = F(array(INT32))


class TransactionState(Struct):
    error_code: int = F(INT16, default=0)
    transactional_id: str = F(STRING)
    transaction_state: str = F(STRING, default="")
    transaction_timeout_ms: int = F(INT32, default=0)
    transaction_start_time_ms: int = F(INT64, default=-1)
    producer_id: int = F(INT64, default=-1)
    producer_epoch: int = F(INT16, default=-1)
    topics: list[TopicData] = F(array(TopicData), default_factory=list)


class DescribeTransactionsResponse(
    Response, api_key=65, valid_versions=(0, 0), flexible_versions=0
):
    throttle_time_ms: int = F(INT32, default=0)
    transaction_states: list[TransactionState] = F(array(TransactionState))
