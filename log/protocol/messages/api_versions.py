"""ApiVersions (key 18), versions 0-4, flexible from 3.

The first request on every connection. Its response header is always v0
(KIP-511), and a broker that gets a version it does not know answers with a
v0 body carrying UNSUPPORTED_VERSION (see ``_connection.py``).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, INT64, STRING

__all__ = [
    "ApiVersion",
    "ApiVersionsRequest",
    "ApiVersionsResponse",
    "FinalizedFeatureKey",
    "SupportedFeatureKey",
]


class ApiVersionsRequest(Request, api_key=18, valid_versions=(0, 4), flexible_versions=3):
    client_software_name: str = F(STRING, versions="3+", ignorable=True, default="")
    client_software_version: str = F(STRING, versions="3+", ignorable=True, default="")


class ApiVersion(Struct):
    """One API the broker serves, with its inclusive version range."""

    api_key: int = F(INT16)
    min_version: int = F(INT16)
    max_version: int = F(INT16)


class SupportedFeatureKey(Struct):
    name: str = F(STRING, versions="3+")
    min_version: int = F(INT16, versions="3+")
    max_version: int = F(INT16, versions="3+")


class FinalizedFeatureKey(Struct):
    name: str = F(STRING, versions="3+")
    max_version_level: int = F(INT16, versions="3+")
    min_version_level: int = F(INT16, versions="3+")


class ApiVersionsResponse(Response, api_key=18, valid_versions=(0, 4), flexible_versions=3):
    error_code: int = F(INT16, default=0)
    api_keys: list[ApiVersion] = F(array(ApiVersion), default_factory=list)
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    supported_features: list[SupportedFeatureKey] = F(
        array(SupportedFeatureKey),
        versions="3+",
        tag=0,
        tagged_versions="3+",
        ignorable=True,
        default_factory=list,
    )
    finalized_features_epoch: int = F(
        INT64, versions="3+", tag=1, tagged_versions="3+", ignorable=True, default=-1
    )
    finalized_features: list[FinalizedFeatureKey] = F(
        array(FinalizedFeatureKey),
        versions="3+",
        tag=2,
        tagged_versions="3+",
        ignorable=True,
        default_factory=list,
    )
    zk_migration_ready: bool = F(
        BOOLEAN, versions="3+", tag=3, tagged_versions="3+", ignorable=True, default=False
    )
