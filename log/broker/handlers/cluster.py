"""DescribeCluster: this node as the whole cluster and its controller.

Java Admin's ``describeCluster`` asks this before falling back to Metadata.
Only broker endpoints are served (``endpoint_type`` 1); a request for
controller endpoints belongs on a controller listener, as in Kafka.
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import handles
from tidal.log.protocol.errors import MismatchedEndpointTypeError, UnsupportedEndpointTypeError
from tidal.log.protocol.messages import DescribeClusterRequest, DescribeClusterResponse
from tidal.log.protocol.messages.describe_cluster import (
    BROKERS,
    CONTROLLERS,
    DescribeClusterBroker,
)

__all__ = ["CLUSTER_OPERATIONS", "describe_cluster"]

#: Kafka's bit field of the operations allowed on the CLUSTER resource without
#: an authorizer: ALTER, CREATE, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
#: ALTER_CONFIGS, IDEMPOTENT_WRITE (``AclOperation`` codes 7, 5, 8, 9, 10, 11, 12).
CLUSTER_OPERATIONS = sum(1 << op for op in (5, 7, 8, 9, 10, 11, 12))


@handles(DescribeClusterRequest)
async def describe_cluster(
    ctx: RequestContext, request: DescribeClusterRequest
) -> DescribeClusterResponse:
    """The cluster id, this node as controller and as the only broker."""
    broker = ctx.broker
    response = DescribeClusterResponse(cluster_id=broker.cluster_id)
    if ctx.api_version >= 1:
        response.endpoint_type = request.endpoint_type
    if request.endpoint_type == CONTROLLERS:
        response.error_code = MismatchedEndpointTypeError.code
        response.error_message = (
            "The request was sent to an endpoint of type BROKER, but we "
            "wanted an endpoint of type CONTROLLER"
        )
        return response
    if request.endpoint_type != BROKERS:
        response.error_code = UnsupportedEndpointTypeError.code
        response.error_message = f"Unsupported endpoint type {request.endpoint_type}"
        return response
    response.controller_id = broker.node_id
    response.brokers = [
        DescribeClusterBroker(
            broker_id=broker.node_id, host=broker.advertised_host, port=broker.advertised_port
        )
    ]
    if request.include_cluster_authorized_operations:
        response.cluster_authorized_operations = CLUSTER_OPERATIONS
    return response
