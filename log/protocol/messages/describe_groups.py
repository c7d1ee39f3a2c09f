"""DescribeGroups (key 15), versions 0-6, flexible from 5.

v3 can ask for the authorized operations, v4 adds members' group instance
ids, v6 answers GROUP_ID_NOT_FOUND with an error message for unknown groups
(KIP-1043). Member metadata and assignment are only filled in while the
group is Stable.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, BYTES, INT16, INT32, STRING
from tidal.log.protocol.messages.metadata import AUTHORIZED_OPERATIONS_OMITTED

__all__ = [
    "DescribeGroupsRequest",
    "DescribeGroupsResponse",
    "DescribedGroup",
    "DescribedGroupMember",
]


class DescribeGroupsRequest(Request, api_key=15, valid_versions=(0, 6), flexible_versions=5):
    groups: list[str] = F(array(STRING))
    include_authorized_operations: bool = F(BOOLEAN, versions="3+", default=False)


class DescribedGroupMember(Struct):
    member_id: str = F(STRING)
    group_instance_id: str | None = F(
        STRING, versions="4+", nullable_versions="4+", ignorable=True, default=None
    )
    client_id: str = F(STRING)
    client_host: str = F(STRING)
    member_metadata: bytes = F(BYTES, default=b"")
    member_assignment: bytes = F(BYTES, default=b"")


class DescribedGroup(Struct):
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, versions="6+", nullable_versions="6+", default=None)
    group_id: str = F(STRING)
    group_state: str = F(STRING, default="")
    protocol_type: str = F(STRING, default="")
    protocol_data: str = F(STRING, default="")
    members: list[DescribedGroupMember] = F(array(DescribedGroupMember), default_factory=list)
    authorized_operations: int = F(INT32, versions="3+", default=AUTHORIZED_OPERATIONS_OMITTED)


class DescribeGroupsResponse(Response, api_key=15, valid_versions=(0, 6), flexible_versions=5):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    groups: list[DescribedGroup] = F(array(DescribedGroup))
