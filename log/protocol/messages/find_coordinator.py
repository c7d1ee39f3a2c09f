"""FindCoordinator (key 10), versions 0-6, flexible from 3.

``key_type`` 0 asks for a group coordinator, 1 for a transaction
coordinator. v4+ batch several keys (``coordinator_keys`` in,
``coordinators`` out) instead of the single ``key``.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT8, INT16, INT32, STRING

__all__ = ["Coordinator", "FindCoordinatorRequest", "FindCoordinatorResponse"]


class FindCoordinatorRequest(Request, api_key=10, valid_versions=(0, 6), flexible_versions=3):
    key: str = F(STRING, versions="0-3", default="")
    key_type: int = F(INT8, versions="1+", default=0)
    coordinator_keys: list[str] = F(array(STRING), versions="4+", default_factory=list)


class Coordinator(Struct):
    key: str = F(STRING, versions="4+")
    node_id: int = F(INT32, versions="4+")
    host: str = F(STRING, versions="4+")
    port: int = F(INT32, versions="4+")
    error_code: int = F(INT16, versions="4+", default=0)
    error_message: str | None = F(
        STRING, versions="4+", nullable_versions="4+", ignorable=True, default=None
    )


class FindCoordinatorResponse(Response, api_key=10, valid_versions=(0, 6), flexible_versions=3):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, versions="0-3", default=0)
    error_message: str | None = F(
        STRING, versions="1-3", nullable_versions="1-3", ignorable=True, default=None
    )
    node_id: int = F(INT32, versions="0-3", default=0)
    host: str = F(STRING, versions="0-3", default="")
    port: int = F(INT32, versions="0-3", default=0)
    coordinators: list[Coordinator] = F(array(Coordinator), versions="4+", default_factory=list)
