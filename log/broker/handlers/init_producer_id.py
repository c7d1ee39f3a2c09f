"""InitProducerId (key 22, v0-4): producer ids for idempotent and transactional producers.

A null ``transactional_id`` gets a new producer id at epoch 0, or (v3+, with
the current id and epoch: KIP-360) the same id at the next epoch; the rules
live in ``ProducerIdManager``.

A ``transactional_id`` goes to the transaction coordinator: the id's producer
id at a bumped epoch, which fences every earlier instance (their requests now
get PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH before v4); an open
transaction of the previous instance is aborted first. A timeout above
``transaction.max.timeout.ms`` gets INVALID_TRANSACTION_TIMEOUT, and
CONCURRENT_TRANSACTIONS answers while an earlier transaction's markers are
still pending (the client retries).
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import InitProducerIdRequest, InitProducerIdResponse

__all__ = ["init_producer_id"]

INVALID_REQUEST = 42


@handles(InitProducerIdRequest)
async def init_producer_id(
    ctx: RequestContext, request: InitProducerIdRequest
) -> InitProducerIdResponse:
    """Hand out (or bump) a producer's id and epoch."""
    if request.transactional_id is not None:
        if not request.transactional_id:
            return InitProducerIdResponse(error_code=INVALID_REQUEST)
        txn = ctx.broker.txn.init_producer_id(
            request.transactional_id,
            request.transaction_timeout_ms,
            request.producer_id,
            request.producer_epoch,
            version=ctx.api_version,
        )
        return InitProducerIdResponse(
            error_code=txn.error, producer_id=txn.producer_id, producer_epoch=txn.producer_epoch
        )
    result = ctx.broker.producer_ids.init_producer_id(
        request.producer_id, request.producer_epoch, version=ctx.api_version
    )
    return InitProducerIdResponse(
        error_code=result.error,
        producer_id=result.producer_id,
        producer_epoch=result.producer_epoch,
    )
