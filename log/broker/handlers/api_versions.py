"""ApiVersions (key 18): what this broker serves, derived from its handlers.

The advertised list is the handler registry intersected with
``API_SPECS`` (whose ranges are the reference's section 7), never a
hand-kept table: an API without a handler is not advertised, so clients never
send it. Finalized features stay empty (epoch -1) so Java 4.x producers keep
transaction protocol V1. A request in a version the broker does not know is
answered by the server with a v0 body and UNSUPPORTED_VERSION (KIP-511).
"""

from __future__ import annotations

import re

from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import handles, registry
from tidal.log.protocol.messages import API_SPECS, ApiSpec, api_version_entries
from tidal.log.protocol.messages.api_versions import (
    ApiVersion,
    ApiVersionsRequest,
    ApiVersionsResponse,
)

__all__ = ["api_versions", "served_specs", "unsupported_version_response"]

NONE = 0
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42

#: Kafka's ``ApiVersionsRequest.isValid`` pattern for client software names.
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")

_served: dict[int, ApiSpec] | None = None


def served_specs() -> dict[int, ApiSpec]:
    """The APIs this broker serves: a handler and a declared range for each."""
    global _served  # noqa: PLW0603 - computed once, the registry is fixed after import
    if _served is None:
        handled = registry()
        _served = {key: spec for key, spec in API_SPECS.items() if key in handled}
    return _served


def unsupported_version_response() -> ApiVersionsResponse:
    """The v0 body answering an ApiVersions version this broker does not know."""
    spec = API_SPECS[ApiVersionsRequest.api_key]
    entry = ApiVersion(
        api_key=spec.api_key, min_version=spec.min_version, max_version=spec.max_version
    )
    return ApiVersionsResponse(error_code=UNSUPPORTED_VERSION, api_keys=[entry])


@handles(ApiVersionsRequest)
async def api_versions(ctx: RequestContext, request: ApiVersionsRequest) -> ApiVersionsResponse:
    """Answer with every served API and its version range."""
    entries = api_version_entries(served_specs())
    if ctx.api_version >= 3 and not (
        _SOFTWARE.fullmatch(request.client_software_name)
        and _SOFTWARE.fullmatch(request.client_software_version)
    ):
        return ApiVersionsResponse(error_code=INVALID_REQUEST, api_keys=entries)
    return ApiVersionsResponse(error_code=NONE, api_keys=entries)
