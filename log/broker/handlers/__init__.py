"""Request handlers, one module per API (or per family of APIs).

A handler is an ``async`` function taking the :class:`RequestContext` and the
decoded request and returning the response message; it registers itself with
:func:`handles`::

    @handles(MetadataRequest)
    async def metadata(ctx: RequestContext, request: MetadataRequest) -> MetadataResponse:
        ...

Every module in this package is imported by :func:`registry`, so adding an
API means adding a module. The broker's ApiVersions answer is derived from
this registry (intersected with ``tidal.log.protocol.messages.API_SPECS``),
never kept by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tidal.log.broker._context import RequestContext
from tidal.log.protocol._schema import Request, Response

__all__ = ["Handler", "handles", "registry"]

Handler = Callable[[RequestContext, Any], Awaitable[Response]]
_HANDLERS: dict[int, Handler] = {}
_F = TypeVar("_F", bound=Callable[..., Awaitable[Response]])


def handles(request_type: type[Request]) -> Callable[[_F], _F]:
    """Register the decorated coroutine function as the handler of
    ``request_type``'s API key."""

    def register(func: _F) -> _F:
        key = request_type.api_key
        if key in _HANDLERS and _HANDLERS[key] is not func:
            raise RuntimeError(f"two handlers for API key {key}")
        _HANDLERS[key] = func
        return func

    return register


def registry() -> dict[int, Handler]:
    """Every handler by API key, importing all handler modules once."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(_HANDLERS)
