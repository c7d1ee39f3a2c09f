"""AlterConfigs (key 33), versions 0-2, flexible from 2.

Replaces the whole set of dynamic configs of each resource (configs not
listed revert to their defaults); IncrementalAlterConfigs is the
per-key variant Java Admin prefers.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, STRING

__all__ = [
    "AlterConfigsRequest",
    "AlterConfigsResource",
    "AlterConfigsResourceResponse",
    "AlterConfigsResponse",
    "AlterableConfig",
]


class AlterableConfig(Struct):
    name: str = F(STRING)
    value: str | None = F(STRING, nullable_versions="0+")


class AlterConfigsResource(Struct):
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)
    configs: list[AlterableConfig] = F(array(AlterableConfig))


class AlterConfigsRequest(Request, api_key=33, valid_versions=(0, 2), flexible_versions=2):
    resources: list[AlterConfigsResource] = F(array(AlterConfigsResource))
    validate_only: bool = F(BOOLEAN, default=False)


class AlterConfigsResourceResponse(Struct):
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)


class AlterConfigsResponse(Response, api_key=33, valid_versions=(0, 2), flexible_versions=2):
    throttle_time_ms: int = F(INT32, default=0)
    responses: list[AlterConfigsResourceResponse] = F(array(AlterConfigsResourceResponse))
