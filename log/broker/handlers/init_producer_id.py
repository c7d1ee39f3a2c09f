"""InitProducerId (key 22, v0-4): producer ids for idempotent producers.

A null ``transactional_id`` gets a new producer id at epoch 0, or (v3+, with
the current id and epoch: KIP-360) the same id at the next epoch; the rules
live in ``ProducerIdManager``.

Transactions are not built yet. A request naming a ``transactional_id`` is
answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53): every client of
interest treats it as fatal and reports it at ``init_transactions()``
(librdkafka: a fatal error; Java, kafka-python and aiokafka: an
authorization exception), so the application stops with an error naming
transactions. A retriable code such as COORDINATOR_NOT_AVAILABLE would
instead make them retry until their timeouts, with nothing in the error
about the cause. The broker logs the refusal with the peer.
"""

from __future__ import annotations

import logging

from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import InitProducerIdRequest, InitProducerIdResponse

__all__ = ["init_producer_id"]

_log = logging.getLogger(__name__)

INVALID_REQUEST = 42
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53


@handles(InitProducerIdRequest)
async def init_producer_id(
    ctx: RequestContext, request: InitProducerIdRequest
) -> InitProducerIdResponse:
    """Hand out (or bump) an idempotent producer's id and epoch."""
    if request.transactional_id is not None:
        if not request.transactional_id:
            return InitProducerIdResponse(error_code=INVALID_REQUEST)
        _log.warning(
            "refusing InitProducerId for transactional id %r from %s: "
            "transactions are not supported yet",
            request.transactional_id, ctx.peer,
        )  # fmt: skip
        return InitProducerIdResponse(error_code=TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    result = ctx.broker.producer_ids.init_producer_id(
        request.producer_id, request.producer_epoch, version=ctx.api_version
    )
    return InitProducerIdResponse(
        error_code=result.error,
        producer_id=result.producer_id,
        producer_epoch=result.producer_epoch,
    )
