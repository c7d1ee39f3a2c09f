"""DescribeCluster (key 60), versions 0-2, flexible from 0.

Flexible from its first version, so every request uses header v2 and every
response header v1. Java Admin's ``describeCluster`` tries it before falling
back to Metadata. v1 asks for brokers or controllers (``endpoint_type``,
KIP-919), v2 can include fenced brokers and marks them (KIP-1073).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, STRING
from tidal.log.protocol.messages.metadata import AUTHORIZED_OPERATIONS_OMITTED

__all__ = ["DescribeClusterBroker", "DescribeClusterRequest", "DescribeClusterResponse"]

#: ``endpoint_type`` values.
BROKERS = 1
CONTROLLERS = 2


class DescribeClusterRequest(Request, api_key=60, valid_versions=(0, 2), flexible_versions=0):
    include_cluster_authorized_operations: bool = F(BOOLEAN, default=False)
    endpoint_type: int = F(INT8, versions="1+", default=BROKERS)
    include_fenced_brokers: bool = F(BOOLEAN, versions="2+", default=False)


class DescribeClusterBroker(Struct):
    broker_id: int = F(INT32)
    host: str = F(STRING)
    port: int = F(INT32)
    rack: str | None = F(STRING, nullable_versions="0+", default=None)
    is_fenced: bool = F(BOOLEAN, versions="2+", default=False)


class DescribeClusterResponse(Response, api_key=60, valid_versions=(0, 2), flexible_versions=0):
    throttle_time_ms: int = F(INT32, default=0)
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    endpoint_type: int = F(INT8, versions="1+", default=BROKERS)
    cluster_id: str = F(STRING)
    controller_id: int = F(INT32, default=-1)
    brokers: list[DescribeClusterBroker] = F(array(DescribeClusterBroker), default_factory=list)
    cluster_authorized_operations: int = F(INT32, default=AUTHORIZED_OPERATIONS_OMITTED)
