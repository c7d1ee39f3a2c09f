"""Heartbeat (key 12), versions 0-4, flexible from 4.

Sent every heartbeat interval by each member; the answer tells it to re-join
(REBALANCE_IN_PROGRESS) or that it was removed (UNKNOWN_MEMBER_ID,
ILLEGAL_GENERATION). v3 adds static membership.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response
from tidal.log.protocol._types import INT16, INT32, STRING

__all__ = ["HeartbeatRequest", "HeartbeatResponse"]


class HeartbeatRequest(Request, api_key=12, valid_versions=(0, 4), flexible_versions=4):
    group_id: str = F(STRING)
    generation_id: int = F(INT32)
    member_id: str = F(STRING)
    group_instance_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)


class HeartbeatResponse(Response, api_key=12, valid_versions=(0, 4), flexible_versions=4):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
