"""ListTransactions (key 66), versions 0-2, flexible from 0.

Lists transactional ids known to the coordinator (KIP-664), filtered by state
and producer id (empty filters match all); v1 adds ``duration_filter`` (only
transactions running longer, KIP-994), v2 a regular expression on the
transactional id (KIP-1152).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = ["ListTransactionsRequest", "ListTransactionsResponse", "TransactionState"]


class ListTransactionsRequest(Request, api_key=66, valid_versions=(0, 2), flexible_versions=0):
    state_filters: list[str] = F(array(STRING), default_factory=list)
    producer_id_filters: list[int] = F(array(INT64), default_factory=list)
    duration_filter: int = F(INT64, versions="1+", default=-1)
    transactional_id_pattern: str | None = F(
        STRING, versions="2+", nullable_versions="2+", default=None
    )


class TransactionState(Struct):
    transactional_id: str = F(STRING)
    producer_id: int = F(INT64)
    transaction_state: str = F(STRING)


class ListTransactionsResponse(Response, api_key=66, valid_versions=(0, 2), flexible_versions=0):
    throttle_time_ms: int = F(INT32, default=0)
    error_code: int = F(INT16, default=0)
    unknown_state_filters: list[str] = F(array(STRING), default_factory=list)
    transaction_states: list[TransactionState] = F(array(TransactionState), default_factory=list)
