"""FindCoordinator (key 10, v0-4): this node coordinates every group and transaction.

``key_type`` 0 (group) and 1 (transaction) both answer this broker; other
types get INVALID_REQUEST. v4+ batch keys: one ``coordinators`` entry per
requested key, in order.
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import FindCoordinatorRequest, FindCoordinatorResponse
from tidal.log.protocol.messages.find_coordinator import Coordinator

__all__ = ["find_coordinator"]

GROUP, TRANSACTION = 0, 1
INVALID_REQUEST = 42


@handles(FindCoordinatorRequest)
async def find_coordinator(
    ctx: RequestContext, request: FindCoordinatorRequest
) -> FindCoordinatorResponse:
    """Name this broker as the coordinator of the requested key(s)."""
    broker = ctx.broker
    host, port, node = broker.advertised_host, broker.advertised_port, broker.node_id
    known = request.key_type in (GROUP, TRANSACTION)
    if ctx.api_version >= 4:
        coordinators = [
            Coordinator(key=key, node_id=node, host=host, port=port)
            if known
            else Coordinator(
                key=key,
                node_id=-1,
                host="",
                port=-1,
                error_code=INVALID_REQUEST,
                error_message=f"unknown coordinator key type {request.key_type}",
            )
            for key in request.coordinator_keys
        ]
        return FindCoordinatorResponse(coordinators=coordinators)
    if not known:
        return FindCoordinatorResponse(
            error_code=INVALID_REQUEST,
            error_message=(
                f"unknown coordinator key type {request.key_type}" if ctx.api_version >= 1 else None
            ),
            node_id=-1,
            host="",
            port=-1,
        )
    return FindCoordinatorResponse(node_id=node, host=host, port=port)


@error_response_for(FindCoordinatorRequest)
def _failed(request: FindCoordinatorRequest, version: int, code: int) -> FindCoordinatorResponse:
    if version >= 4:
        return FindCoordinatorResponse(
            coordinators=[
                Coordinator(key=k, node_id=-1, host="", port=-1, error_code=code)
                for k in request.coordinator_keys
            ]
        )
    return FindCoordinatorResponse(error_code=code, node_id=-1, host="", port=-1)
