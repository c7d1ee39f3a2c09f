"""Sync or async connector methods: how the runtime calls either.

Every method a connector or task implements may be a plain ``def`` or an ``async def``. The
runtime calls them through :func:`invoke`:

* ``async def`` methods are awaited on the worker's event loop. They must not block.
* plain methods run in a worker thread (``asyncio.to_thread``) so that blocking I/O such as a
  database driver or ``time.sleep`` cannot stall the loop. A class that only does cheap,
  non-blocking work may set ``blocking = False`` to be called inline, saving the thread hop.
* a plain method that returns an awaitable has it awaited too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar, Union, cast

__all__ = ["MaybeAwaitable", "invoke", "resolve"]

_T = TypeVar("_T")

MaybeAwaitable: TypeAlias = Union[_T, Awaitable[_T]]  # noqa: UP007
"""The return type of a method that may be implemented as ``def`` or ``async def``."""


async def resolve(value: MaybeAwaitable[_T]) -> _T:
    """``value`` itself, or what it resolves to when it is awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def invoke(method: Callable[..., MaybeAwaitable[_T]], *args: Any) -> _T:
    """Call a connector or task method the way the runtime does (see the module docstring)."""
    if inspect.iscoroutinefunction(method):
        return cast(_T, await method(*args))
    owner = getattr(method, "__self__", None)
    if getattr(owner, "blocking", True):
        result = await asyncio.to_thread(method, *args)
    else:
        result = method(*args)
    return await resolve(result)
