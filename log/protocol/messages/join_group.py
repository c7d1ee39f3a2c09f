"""JoinGroup (key 11), versions 0-9, flexible from 6.

v1 adds the rebalance timeout (v0 members use the session timeout for both).
From v4 a dynamic member joining with an empty member id is answered
MEMBER_ID_REQUIRED with a generated id to re-join with (KIP-394); v5 adds
static membership (``group_instance_id``), v7 returns the protocol type,
v8 carries a reason (KIP-800), v9 ``skip_assignment``. Only the leader's
response lists ``members``.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, BYTES, INT16, INT32, STRING

__all__ = [
    "JoinGroupRequest",
    "JoinGroupRequestProtocol",
    "JoinGroupResponse",
    "JoinGroupResponseMember",
]


class JoinGroupRequestProtocol(Struct):
    """One assignor the member supports, most preferred first."""

    name: str = F(STRING)
    metadata: bytes = F(BYTES)


class JoinGroupRequest(Request, api_key=11, valid_versions=(0, 9), flexible_versions=6):
    group_id: str = F(STRING)
    session_timeout_ms: int = F(INT32)
    # -1 is only a placeholder: without the field (v0) the session timeout applies.
    rebalance_timeout_ms: int = F(INT32, versions="1+", ignorable=True, default=-1)
    member_id: str = F(STRING, default="")
    group_instance_id: str | None = F(STRING, versions="5+", nullable_versions="5+", default=None)
    protocol_type: str = F(STRING)
    protocols: list[JoinGroupRequestProtocol] = F(array(JoinGroupRequestProtocol))
    reason: str | None = F(
        STRING, versions="8+", nullable_versions="8+", ignorable=True, default=None
    )


class JoinGroupResponseMember(Struct):
    member_id: str = F(STRING)
    group_instance_id: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )
    metadata: bytes = F(BYTES)


class JoinGroupResponse(Response, api_key=11, valid_versions=(0, 9), flexible_versions=6):
    throttle_time_ms: int = F(INT32, versions="2+", ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
    generation_id: int = F(INT32, default=-1)
    protocol_type: str | None = F(
        STRING, versions="7+", nullable_versions="7+", ignorable=True, default=None
    )
    protocol_name: str | None = F(STRING, nullable_versions="7+", default="")
    leader: str = F(STRING, default="")
    skip_assignment: bool = F(BOOLEAN, versions="9+", default=False)
    member_id: str = F(STRING, default="")
    members: list[JoinGroupResponseMember] = F(array(JoinGroupResponseMember), default_factory=list)
