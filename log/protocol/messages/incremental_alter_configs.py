"""IncrementalAlterConfigs (key 44), versions 0-1, flexible from 1.

Changes single config keys (KIP-339): ``config_operation`` 0 SET, 1 DELETE
(revert to default), 2 APPEND and 3 SUBTRACT (list-valued configs).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, STRING

__all__ = [
    "AlterConfigsResource",
    "AlterConfigsResourceResponse",
    "AlterableConfig",
    "IncrementalAlterConfigsRequest",
    "IncrementalAlterConfigsResponse",
]

#: ``config_operation`` values.
SET = 0
DELETE = 1
APPEND = 2
SUBTRACT = 3


class AlterableConfig(Struct):
    name: str = F(STRING)
    config_operation: int = F(INT8)
    value: str | None = F(STRING, nullable_versions="0+")


class AlterConfigsResource(Struct):
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)
    configs: list[AlterableConfig] = F(array(AlterableConfig))


class IncrementalAlterConfigsRequest(
    Request, api_key=44, valid_versions=(0, 1), flexible_versions=1
):
    resources: list[AlterConfigsResource] = F(array(AlterConfigsResource))
    validate_only: bool = F(BOOLEAN, default=False)


class AlterConfigsResourceResponse(Struct):
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)


class IncrementalAlterConfigsResponse(
    Response, api_key=44, valid_versions=(0, 1), flexible_versions=1
):
    throttle_time_ms: int = F(INT32, default=0)
    responses: list[AlterConfigsResourceResponse] = F(array(AlterConfigsResourceResponse))
