"""EndTxn (key 26), versions 0-5, flexible from 3.

Commit (``committed`` true) or abort the producer's transaction. v2 adds
PRODUCER_FENCED, v4 TRANSACTION_ABORTABLE; v5 (transaction protocol V2,
KIP-890 part 2) returns the producer id and epoch after the per-transaction
epoch bump. A Tidal broker stays on V1 and stops at 4.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, INT64, STRING

__all__ = ["EndTxnRequest", "EndTxnResponse"]


class EndTxnRequest(Request, api_key=26, valid_versions=(0, 5), flexible_versions=3):
    transactional_id: str = F(STRING)
    producer_id: int = F(INT64)
    producer_epoch: int = F(INT16)
    committed: bool = F(BOOLEAN)


class EndTxnResponse(Response, api_key=26, valid_versions=(0, 5), flexible_versions=3):
    throttle_time_ms: int = F(INT32, default=0)
    error_code: int = F(INT16, default=0)
    producer_id: int = F(INT64, versions="5+", ignorable=True, default=-1)
    producer_epoch: int = F(INT16, versions="5+", ignorable=True, default=-1)
