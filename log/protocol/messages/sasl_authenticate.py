"""SaslAuthenticate (key 36), versions 0-2, flexible from 2.

Carries one SASL token each way after a SaslHandshake v1 (KIP-152); v1 adds
the session lifetime (KIP-368). Declared for SASL support; not in
``API_SPECS``, so a Tidal broker does not advertise it.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response
from tidal.log.protocol._types import BYTES, INT16, INT64, STRING

__all__ = ["SaslAuthenticateRequest", "SaslAuthenticateResponse"]


class SaslAuthenticateRequest(Request, api_key=36, valid_versions=(0, 2), flexible_versions=2):
    auth_bytes: bytes = F(BYTES)


class SaslAuthenticateResponse(Response, api_key=36, valid_versions=(0, 2), flexible_versions=2):
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(STRING, nullable_versions="0+", default=None)
    auth_bytes: bytes = F(BYTES, default=b"")
    session_lifetime_ms: int = F(INT64, versions="1+", ignorable=True, default=0)
