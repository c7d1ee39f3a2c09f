"""SyncGroup (key 14), versions 0-5, flexible from 4.

The leader sends every member's assignment, followers an empty list; each
member gets its own assignment bytes back. v3 adds static membership, v5 the
protocol type and name, which the broker checks against the group's (KIP-559).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BYTES, INT16, INT32, STRING

__all__ = ["SyncGroupRequest", "SyncGroupRequestAssignment", "SyncGroupResponse"]


class SyncGroupRequestAssignment(Struct):
    member_id: str = F(STRING)
    assignment: bytes = F(BYTES)


class SyncGroupRequest(Request, api_key=14, valid_versions=(0, 5), flexible_versions=4):
    group_id: str = F(STRING)
    generation_id: int = F(INT32)
    member_id: str = F(STRING)
    group_instance_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)
    protocol_type: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )
    protocol_name: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )
    assignments: list[SyncGroupRequestAssignment] = F(
        array(SyncGroupRequestAssignment), default_factory=list
    )


class SyncGroupResponse(Response, api_key=14, valid_versions=(0, 5), flexible_versions=4):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
    protocol_type: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )
    protocol_name: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )
    assignment: bytes = F(BYTES, default=b"")
