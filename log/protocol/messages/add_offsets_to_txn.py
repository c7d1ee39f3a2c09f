"""AddOffsetsToTxn (key 25), versions 0-4, flexible from 3.

``sendOffsetsToTransaction``, first step: the transaction coordinator adds
the group's ``__consumer_offsets`` partition to the transaction; the offsets
follow in TxnOffsetCommit to the group coordinator. v2 adds
PRODUCER_FENCED, v4 TRANSACTION_ABORTABLE.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = ["AddOffsetsToTxnRequest", "AddOffsetsToTxnResponse"]


class AddOffsetsToTxnRequest(Request, api_key=25, valid_versions=(0, 4), flexible_versions=3):
    transactional_id: str = F(STRING)
    producer_id: int = F(INT64)
    producer_epoch: int = F(INT16)
    group_id: str = F(STRING)


class AddOffsetsToTxnResponse(Response, api_key=25, valid_versions=(0, 4), flexible_versions=3):
    throttle_time_ms: int = F(INT32, default=0)
    error_code: int = F(INT16, default=0)
