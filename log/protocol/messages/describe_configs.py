"""DescribeConfigs (key 32), versions 0-4, flexible from 4.

Kafka 4 serves 1-4; v0 is declared for older brokers. A null
``configuration_keys`` asks for every config of the resource (topic 2,
broker 4, ...). v0 answers ``is_default`` per config; v1 replaces it with
``config_source`` and synonyms (when ``include_synonyms``); v3 adds each
config's type and, when asked, its documentation.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, STRING

__all__ = [
    "DescribeConfigsRequest",
    "DescribeConfigsResource",
    "DescribeConfigsResourceResult",
    "DescribeConfigsResponse",
    "DescribeConfigsResult",
    "DescribeConfigsSynonym",
]


class DescribeConfigsResource(Struct):
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)
    configuration_keys: list[str] | None = F(array(STRING), nullable_versions="0+", default=None)


class DescribeConfigsRequest(Request, api_key=32, valid_versions=(0, 4), flexible_versions=4):
    resources: list[DescribeConfigsResource] = F(array(DescribeConfigsResource))
    include_synonyms: bool = F(BOOLEAN, versions="1+", default=False)
    include_documentation: bool = F(BOOLEAN, versions="3+", default=False)


class DescribeConfigsSynonym(Struct):
    name: str = F(STRING, versions="1+")
    value: str | None = F(STRING, versions="1+", nullable_versions="0+")
    source: int = F(INT8, versions="1+")


class DescribeConfigsResourceResult(Struct):
    name: str = F(STRING)
    value: str | None = F(STRING, nullable_versions="0+")
    read_only: bool = F(BOOLEAN)
    config_source: int = F(INT8, versions="1+", ignorable=True, default=-1)
    is_default: bool = F(BOOLEAN, versions="0", default=False)
    is_sensitive: bool = F(BOOLEAN)
    synonyms: list[DescribeConfigsSynonym] = F(
        array(DescribeConfigsSynonym), versions="1+", ignorable=True, default_factory=list
    )
    config_type: int = F(INT8, versions="3+", ignorable=True, default=0)
    documentation: str | None = F(
        STRING, versions="3+", nullable_versions="0+", ignorable=True, default=None
    )


class DescribeConfigsResult(Struct):
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    resource_type: int = F(INT8)
    resource_name: str = F(STRING)
    configs: list[DescribeConfigsResourceResult] = F(
        array(DescribeConfigsResourceResult), default_factory=list
    )


class DescribeConfigsResponse(Response, api_key=32, valid_versions=(0, 4), flexible_versions=4):
    throttle_time_ms: int = F(INT32, default=0)
    results: list[DescribeConfigsResult] = F(array(DescribeConfigsResult))
