"""Request and response headers, and which header version a message uses.

Layouts::

    request header v1   api_key int16 | api_version int16 | correlation_id int32
                        | client_id NULLABLE_STRING
    request header v2   v1 | TAGGED_FIELDS
    response header v0  correlation_id int32
    response header v1  correlation_id int32 | TAGGED_FIELDS

``client_id`` stays a classic int16-length string in v2 (Kafka's
``RequestHeader.json`` marks it never flexible) so that any broker can read
the header of an ApiVersions request of a version it does not know. The
header version follows the API's flexible versions, with one exception: the
ApiVersions *response* header is always v0 (KIP-511), because a client reads
it before it knows what the broker speaks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tidal.log.protocol._exceptions import ProtocolDecodeError
from tidal.log.protocol._types import NULLABLE_STRING, TAGGED_FIELDS, Buffer

__all__ = [
    "API_VERSIONS_KEY",
    "RequestHeader",
    "ResponseHeader",
    "request_header_version",
    "response_header_version",
]

#: The api key of ApiVersions, whose response header is always v0.
API_VERSIONS_KEY = 18
_PREFIX = struct.Struct(">hhi")
_CORRELATION = struct.Struct(">i")


def request_header_version(api_version: int, flexible_from: int | None) -> int:
    """2 when ``api_version`` is flexible for its API, else 1.

    ``flexible_from`` is the API's first flexible version (None: never). The
    rule holds for versions newer than any we know, as Kafka's "N+" does.
    """
    return 2 if flexible_from is not None and api_version >= flexible_from else 1


def response_header_version(api_key: int, api_version: int, flexible_from: int | None) -> int:
    """1 when ``api_version`` is flexible, else 0; always 0 for ApiVersions."""
    if api_key == API_VERSIONS_KEY:
        return 0
    return 1 if flexible_from is not None and api_version >= flexible_from else 0


@dataclass(slots=True)
class RequestHeader:
    """The header in front of every request body.

    Example::

        header = RequestHeader(api_key=3, api_version=12, correlation_id=7, client_id="app")
        out = bytearray()
        header.encode_into(out, version=2)
    """

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None = None
    #: Raw tagged fields of a v2 header (none are defined for requests we serve).
    tagged_fields: dict[int, bytes] | None = None

    def encode_into(self, out: bytearray, version: int) -> None:
        """Append the header in ``version`` (1 or 2) to ``out``."""
        out += _PREFIX.pack(self.api_key, self.api_version, self.correlation_id)
        NULLABLE_STRING.encode(self.client_id, out)
        if version >= 2:
            TAGGED_FIELDS.encode(self.tagged_fields or {}, out)

    @staticmethod
    def peek(buf: Buffer, pos: int = 0) -> tuple[int, int, int]:
        """``(api_key, api_version, correlation_id)`` without reading further,
        so the caller can choose the header version from the api key."""
        if len(buf) - pos < _PREFIX.size:
            raise ProtocolDecodeError("request shorter than its header")
        api_key, api_version, correlation_id = _PREFIX.unpack_from(buf, pos)
        return api_key, api_version, correlation_id

    @classmethod
    def decode(cls, buf: Buffer, version: int, pos: int = 0) -> tuple[RequestHeader, int]:
        """Decode a header of ``version`` at ``pos``; return it and where the body starts."""
        api_key, api_version, correlation_id = cls.peek(buf, pos)
        client_id, pos = NULLABLE_STRING.decode(buf, pos + _PREFIX.size)
        tagged = None
        if version >= 2:
            tagged, pos = TAGGED_FIELDS.decode(buf, pos)
        return cls(api_key, api_version, correlation_id, client_id, tagged or None), pos


@dataclass(slots=True)
class ResponseHeader:
    """The header in front of every response body."""

    correlation_id: int
    tagged_fields: dict[int, bytes] | None = None

    def encode_into(self, out: bytearray, version: int) -> None:
        """Append the header in ``version`` (0 or 1) to ``out``."""
        out += _CORRELATION.pack(self.correlation_id)
        if version >= 1:
            TAGGED_FIELDS.encode(self.tagged_fields or {}, out)

    @classmethod
    def decode(cls, buf: Buffer, version: int, pos: int = 0) -> tuple[ResponseHeader, int]:
        """Decode a header of ``version`` at ``pos``; return it and where the body starts."""
        if len(buf) - pos < _CORRELATION.size:
            raise ProtocolDecodeError("response shorter than its header")
        (correlation_id,) = _CORRELATION.unpack_from(buf, pos)
        pos += _CORRELATION.size
        tagged = None
        if version >= 1:
            tagged, pos = TAGGED_FIELDS.decode(buf, pos)
        return cls(correlation_id, tagged or None), pos
