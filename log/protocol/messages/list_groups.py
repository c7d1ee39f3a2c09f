"""ListGroups (key 16), versions 0-5, flexible from 3.

v4 filters by state and returns each group's state (KIP-518), v5 filters by
type and returns it (KIP-848). Empty filters match every group.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, STRING

__all__ = ["ListGroupsRequest", "ListGroupsResponse", "ListedGroup"]


class ListGroupsRequest(Request, api_key=16, valid_versions=(0, 5), flexible_versions=3):
    states_filter: list[str] = F(array(STRING), versions="4+", default_factory=list)
    types_filter: list[str] = F(array(STRING), versions="5+", default_factory=list)


class ListedGroup(Struct):
    group_id: str = F(STRING)
    protocol_type: str = F(STRING)
    group_state: str = F(STRING, versions="4+", ignorable=True, default="")
    group_type: str = F(STRING, versions="5+", ignorable=True, default="")


class ListGroupsResponse(Response, api_key=16, valid_versions=(0, 5), flexible_versions=3):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    error_code: int = F(INT16, default=0)
    groups: list[ListedGroup] = F(array(ListedGroup), default_factory=list)
