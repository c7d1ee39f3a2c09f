"""Fault-injection hooks for crash tests.

Storage code calls ``fire("point")`` at the moments where a crash would leave
files half-written. Tests arm a point with ``inject(point, action)``; the
action usually raises ``SimulatedCrash`` (a ``BaseException`` so no storage
code swallows it), after which the test abandons the log with
``abandon(log)``, which closes descriptors without writing anything, as a
``kill -9`` would, and reopens the directory.

Points fired by the storage engine:

``segment.append.after_log_write``
    the batches are in the ``.log``, the index entries are not yet recorded;
``segment.recover.before_truncate``
    recovery found a bad tail and is about to truncate it;
``clean.after_cleaned_written``
    cleaned segments are complete as ``.cleaned`` files, nothing renamed;
``clean.after_swap_renamed``
    every ``.cleaned`` file is now ``.swap``, old segments still in place;
``clean.after_old_deleted``
    one old segment was renamed ``.deleted``, its ``.swap`` not yet renamed;
``roll.after_new_segment``
    a new active segment exists, the old one has not been trimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["SimulatedCrash", "abandon", "armed", "clear", "fire", "inject", "injected"]

_hooks: dict[str, Callable[[], None]] = {}


class SimulatedCrash(BaseException):
    """Raised by a test's fault action to stop storage code mid-operation."""


class _Abandonable(Protocol):
    def _abandon(self) -> None: ...


def inject(point: str, action: Callable[[], None]) -> None:
    """Run ``action`` whenever ``point`` fires (until ``clear``)."""
    _hooks[point] = action


def clear(point: str | None = None) -> None:
    """Disarm ``point``, or every point when ``None``."""
    if point is None:
        _hooks.clear()
    else:
        _hooks.pop(point, None)


def armed() -> bool:
    """True while any point is armed (lets hot paths skip ``fire``)."""
    return bool(_hooks)


def fire(point: str) -> None:
    """Run the action armed for ``point``, if any."""
    action = _hooks.get(point)
    if action is not None:
        action()


@contextmanager
def injected(point: str, action: Callable[[], None]) -> Iterator[None]:
    """``inject`` for the duration of a ``with`` block."""
    inject(point, action)
    try:
        yield
    finally:
        clear(point)


def abandon(log: _Abandonable) -> None:
    """Drop a log as a crash would: close its descriptors, write nothing."""
    log._abandon()
