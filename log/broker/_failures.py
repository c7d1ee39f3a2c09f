"""The answer to a request whose handler failed: Kafka's ``getErrorResponse``.

When a handler raises, the client still gets an answer if the response has
somewhere to put an error: every partition or topic it asked about carries
the code (UNKNOWN_SERVER_ERROR), mirroring the request the way Kafka's
``AbstractRequest.getErrorResponse`` does. Handler modules register a builder
for responses shaped per topic and partition; a response with a top-level
``error_code`` gets one generically. Without either, the server closes the
connection (``error_response`` returns ``None``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tidal.log.protocol import Request, Response
from tidal.log.protocol._schema import in_range
from tidal.log.protocol.messages import API_SPECS

__all__ = ["UNKNOWN_SERVER_ERROR", "error_response", "error_response_for"]

UNKNOWN_SERVER_ERROR = -1

_Builder = Callable[[Any, int, int], Response]
_BUILDERS: dict[int, _Builder] = {}
_B = TypeVar("_B", bound=_Builder)


def error_response_for(request_type: type[Request]) -> Callable[[_B], _B]:
    """Register ``builder(request, version, error_code) -> Response`` for
    ``request_type``'s API."""

    def register(builder: _B) -> _B:
        _BUILDERS[request_type.api_key] = builder
        return builder

    return register


def error_response(request: Request, version: int, code: int) -> Response | None:
    """A response to ``request`` (at ``version``) reporting ``code``, or
    ``None`` when the response has no error field to carry it."""
    builder = _BUILDERS.get(type(request).api_key)
    if builder is not None:
        return builder(request, version, code)
    spec = API_SPECS.get(type(request).api_key)
    if spec is None:
        return None
    fields = {f.name: f for f in spec.response.fields}
    error = fields.get("error_code")
    if error is None or not in_range(version, error.versions):
        return None
    values = {name: f.absent_value() for name, f in fields.items()}
    values["error_code"] = code
    return spec.response(**values)
