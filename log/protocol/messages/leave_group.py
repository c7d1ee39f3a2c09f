"""LeaveGroup (key 13), versions 0-5, flexible from 4.

v0-2 remove the one member named by ``member_id``; v3+ remove a batch of
``members`` (member id and/or group instance id, KIP-345) and answer per
member. v5 adds a reason per member (KIP-800).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, STRING

__all__ = ["LeaveGroupRequest", "LeaveGroupResponse", "MemberIdentity", "MemberResponse"]


class MemberIdentity(Struct):
    member_id: str = F(STRING, versions="3+", default="")
    group_instance_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)
    reason: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )


class LeaveGroupRequest(Request, api_key=13, valid_versions=(0, 5), flexible_versions=4):
    group_id: str = F(STRING)
    member_id: str = F(STRING, versions="0-2", default="")
    members: list[MemberIdentity] = F(array(MemberIdentity), versions="3+", default_factory=list)


class MemberResponse(Struct):
    member_id: str = F(STRING, versions="3+", default="")
    group_instance_id: str | None = F(STRING, versions="3+", nullable_versions="3+", default=None)
    error_code: int = F(INT16, versions="3+", default=0)


class LeaveGroupResponse(Response, api_key=13, valid_versions=(0, 5), flexible_versions=4):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
    members: list[MemberResponse] = F(array(MemberResponse), versions="3+", default_factory=list)
