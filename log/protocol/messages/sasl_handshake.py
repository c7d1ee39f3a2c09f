"""SaslHandshake (key 17), versions 0-1, never flexible.

Picks the SASL mechanism. After v0 the raw SASL tokens follow as bare
length-prefixed frames; after v1 they travel in SaslAuthenticate requests.
Declared for SASL support; not in ``API_SPECS``, so a Tidal broker does not
advertise it.
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, array
from tidal.log.protocol._types import INT16, STRING

__all__ = ["SaslHandshakeRequest", "SaslHandshakeResponse"]


class SaslHandshakeRequest(Request, api_key=17, valid_versions=(0, 1)):
    mechanism: str = F(STRING)


class SaslHandshakeResponse(Response, api_key=17, valid_versions=(0, 1)):
    error_code: int = F(INT16, default=0)
    mechanisms: list[str] = F(array(STRING), default_factory=list)
