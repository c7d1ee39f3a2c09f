"""DeleteGroups (key 42), versions 0-2, flexible from 2.

Deletes empty groups and their committed offsets; a group with members
answers NON_EMPTY_GROUP.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, STRING

__all__ = ["DeletableGroupResult", "DeleteGroupsRequest", "DeleteGroupsResponse"]


class DeleteGroupsRequest(Request, api_key=42, valid_versions=(0, 2), flexible_versions=2):
    groups_names: list[str] = F(array(STRING))


class DeletableGroupResult(Struct):
    group_id: str = F(STRING)
    error_code: int = F(INT16, default=0)


class DeleteGroupsResponse(Response, api_key=42, valid_versions=(0, 2), flexible_versions=2):
    throttle_time_ms: int = F(INT32, default=0)
    results: list[DeletableGroupResult] = F(array(DeletableGroupResult))
