"""InitProducerId (key 22), versions 0-5, flexible from 2.

With a null ``transactional_id`` it hands an idempotent producer a new
producer id at epoch 0; with one, the transaction coordinator maps the id to
a producer id and bumps its epoch, fencing older instances. v3 can carry the
current id and epoch to bump the epoch after an error (KIP-360), v4 adds
PRODUCER_FENCED, v5 TRANSACTION_ABORTABLE (KIP-890). Kafka's v6 (two-phase
commit, KIP-939) is still marked unstable and is not declared.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response
from tidal.log.protocol._types import INT16, INT32, INT64, STRING

__all__ = ["InitProducerIdRequest", "InitProducerIdResponse"]


class InitProducerIdRequest(Request, api_key=22, valid_versions=(0, 5), flexible_versions=2):
    transactional_id: str | None = F(STRING, nullable_versions="0+", default=None)
    transaction_timeout_ms: int = F(INT32)
    producer_id: int = F(INT64, versions="3+", default=-1)
    producer_epoch: int = F(INT16, versions="3+", default=-1)


class InitProducerIdResponse(Response, api_key=22, valid_versions=(0, 5), flexible_versions=2):
    throttle_time_ms: int = F(INT32, ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
    producer_id: int = F(INT64, default=-1)
    producer_epoch: int = F(INT16, default=0)
