"""DescribeTransactions (key 65, v0) and ListTransactions (key 66, v0-1).

What ``kafka-transactions.sh describe`` and ``list`` (and ``tidal
transactions``) show: a transactional id's state by Kafka's names
(``Ongoing``, ``CompleteCommit``, ...), its producer id and epoch, timeout,
start time and partitions. An unknown id is TRANSACTIONAL_ID_NOT_FOUND; an
unknown state filter is listed in ``unknown_state_filters``.
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.handlers import handles
from tidal.log.broker.txn import TxnState
from tidal.log.protocol.messages import (
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
    ListTransactionsRequest,
    ListTransactionsResponse,
)
from tidal.log.protocol.messages import describe_transactions as describe
from tidal.log.protocol.messages import list_transactions as listing

__all__ = ["describe_transactions", "list_transactions"]


@handles(DescribeTransactionsRequest)
async def describe_transactions(
    ctx: RequestContext, request: DescribeTransactionsRequest
) -> DescribeTransactionsResponse:
    """Describe each requested transactional id."""
    states = []
    for tid in request.transactional_ids:
        error, found = ctx.broker.txn.describe(tid)
        if found is None:
            states.append(describe.TransactionState(error_code=error, transactional_id=tid))
            continue
        by_topic: dict[str, list[int]] = {}
        for topic, partition in sorted(found.partitions):
            by_topic.setdefault(topic, []).append(partition)
        ongoing = found.state not in (TxnState.EMPTY, TxnState.DEAD)
        states.append(
            describe.TransactionState(
                transactional_id=tid,
                transaction_state=found.state.kafka_name,
                transaction_timeout_ms=found.timeout_ms,
                transaction_start_time_ms=found.start_ms if ongoing else -1,
                producer_id=found.producer_id,
                producer_epoch=found.producer_epoch,
                topics=[describe.TopicData(topic=t, partitions=p) for t, p in by_topic.items()],
            )
        )
    return DescribeTransactionsResponse(transaction_states=states)


@error_response_for(DescribeTransactionsRequest)
def _describe_failed(
    request: DescribeTransactionsRequest, version: int, code: int
) -> DescribeTransactionsResponse:
    return DescribeTransactionsResponse(
        transaction_states=[
            describe.TransactionState(error_code=code, transactional_id=tid)
            for tid in request.transactional_ids
        ]
    )


@handles(ListTransactionsRequest)
async def list_transactions(
    ctx: RequestContext, request: ListTransactionsRequest
) -> ListTransactionsResponse:
    """List transactional ids, filtered by state, producer id, duration (v1) or pattern (v2)."""
    error, found, unknown = ctx.broker.txn.list_transactions(
        request.state_filters,
        request.producer_id_filters,
        min_duration_ms=request.duration_filter if ctx.api_version >= 1 else -1,
        pattern=request.transactional_id_pattern if ctx.api_version >= 2 else None,
    )
    return ListTransactionsResponse(
        error_code=error,
        unknown_state_filters=unknown,
        transaction_states=[
            listing.TransactionState(
                transactional_id=m.transactional_id,
                producer_id=m.producer_id,
                transaction_state=m.state.kafka_name,
            )
            for m in found
        ],
    )


@error_response_for(ListTransactionsRequest)
def _list_failed(
    request: ListTransactionsRequest, version: int, code: int
) -> ListTransactionsResponse:
    return ListTransactionsResponse(error_code=code)
