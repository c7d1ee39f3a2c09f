"""Time for the group coordinator: a clock and one-shot timers.

Session, rebalance and initial-delay timeouts and the offsets expiry check
all go through a ``Scheduler``, so tests swap in ``ManualScheduler`` and move
time by hand instead of sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["LoopScheduler", "ManualScheduler", "Scheduler", "TimerHandle"]


class TimerHandle(Protocol):
    """A scheduled callback that can be cancelled."""

    def cancel(self) -> None:
        """Stop the callback from running; no effect once it ran."""


class Scheduler(Protocol):
    """Wall-clock milliseconds and one-shot callbacks."""

    def now_ms(self) -> int:
        """Milliseconds since the epoch (stored as commit and state timestamps)."""

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once after ``delay_ms`` milliseconds."""


class LoopScheduler:
    """The running asyncio loop's timers and the system clock."""

    def now_ms(self) -> int:
        """``time.time()`` in milliseconds."""
        return int(time.time() * 1000)

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """``loop.call_later`` on the running loop."""
        return asyncio.get_running_loop().call_later(max(delay_ms, 0) / 1000, callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: int, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """A clock that only moves when told to, for tests.

    >>> clock = ManualScheduler(now=1_000)
    >>> fired = []
    >>> _ = clock.call_later(50, lambda: fired.append(clock.now_ms()))
    >>> clock.advance(100)
    >>> fired
    [1050]
    """

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self._now = now
        self._heap: list[tuple[int, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now_ms(self) -> int:
        """The current manual time."""
        return self._now

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """Queue ``callback`` for ``now + delay_ms``."""
        timer = _ManualTimer(self._now + max(delay_ms, 0), callback)
        heapq.heappush(self._heap, (timer.due, next(self._seq), timer))
        return timer

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms``, running every timer that falls due, in order.

        Timers scheduled by those callbacks run too if they fall within the window.
        """
        target = self._now + ms
        while self._heap and self._heap[0][0] <= target:
            due, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, due)
            timer.callback()
        self._now = target

    def pending(self) -> int:
        """The number of timers not yet run or cancelled."""
        return sum(not timer.cancelled for _, _, timer in self._heap)
