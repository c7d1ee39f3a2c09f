"""An event loop on a daemon thread, for the synchronous client wrappers.

Scripts without asyncio get ``SyncProducer`` and ``SyncAdminClient``; each
owns a :class:`LoopThread` and runs the async client's coroutines on it::

    loop = LoopThread("tidal-producer")
    producer = loop.run(make_producer())
    loop.run(producer.flush())
    loop.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A running event loop on its own daemon thread."""

    def __init__(self, name: str = "tidal-client") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; a future for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a synchronous client call from its own event loop would deadlock")
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        """Stop the loop, join the thread and close the loop."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
