"""Garbage-collector thresholds for the long-running processes Tidal owns.

A Connect worker or a Streams app allocates several short-lived containers per record
(records, header lists, offset dicts, futures). With CPython's default thresholds
``(700, 10, 10)`` that triggers a young collection every few hundred records and a full
one every ~70,000 container allocations; the collector then walks every live object of the
worker (its clients, buffers, plugin state), and that took a quarter of a Connect worker's
CPU. Records do not form reference cycles, so collecting less often reclaims the same
memory later, at a fraction of the cost.

:func:`throughput_gc` raises the thresholds to :data:`THROUGHPUT_THRESHOLDS` for the
duration of a ``with`` block and puts back what was there before. It is used by
``tidal connect standalone|distributed`` and by the blocking
:meth:`tidal.streams.App.run`. The environment variable :data:`ENV_VAR` overrides it::

    TIDAL_GC_THRESHOLD=100000,20,100   # one to three numbers, as gc.set_threshold takes them
    TIDAL_GC_THRESHOLD=off             # leave Python's thresholds alone (also: 0)

A value that is not one of those raises :class:`GcThresholdError`, naming the variable.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections.abc import Iterator, Mapping

__all__ = [
    "ENV_VAR",
    "THROUGHPUT_THRESHOLDS",
    "GcThresholdError",
    "parse_gc_threshold",
    "throughput_gc",
    "wanted_thresholds",
]

ENV_VAR = "TIDAL_GC_THRESHOLD"
"""The environment variable that overrides the thresholds Tidal sets."""

THROUGHPUT_THRESHOLDS: tuple[int, int, int] = (100_000, 20, 100)
"""Generation 0, 1 and 2 thresholds for a process that moves records all day.

Measured on the Connect benchmark (FileStreamSource → topic → FileStreamSink): 22.3 µs of
worker CPU per record with Python's defaults, 15.0 with ``(50_000, 20, 100)``, 14.6 with
these. A young collection then runs about once per 100,000 container allocations.
"""

_OFF = frozenset({"0", "off"})
_INTEGER = re.compile("[0-9]+")


class GcThresholdError(ValueError):
    """:data:`ENV_VAR` holds something that is neither thresholds nor ``off``."""


def parse_gc_threshold(text: str) -> tuple[int, ...] | None:
    """The thresholds ``text`` asks for, or ``None`` for ``0``/``off`` (Python's own).

    ``text`` is one to three non-negative integers separated by commas, as
    :func:`gc.set_threshold` takes them; the first must be positive (a zero would
    turn the collector off, which is not what anyone setting a threshold means).

    >>> parse_gc_threshold("700,10,10")
    (700, 10, 10)
    >>> parse_gc_threshold("off") is None
    True
    """
    stripped = text.strip()
    if stripped.lower() in _OFF:
        return None
    parts = [part.strip() for part in stripped.split(",")]
    if not 1 <= len(parts) <= 3 or not all(_INTEGER.fullmatch(part) for part in parts):
        raise GcThresholdError(
            f"{ENV_VAR}={text!r}: expected one to three non-negative integers separated by "
            "commas (the gc.set_threshold arguments, e.g. 100000,20,100), or 0/off to keep "
            "Python's defaults"
        )
    thresholds = tuple(int(part) for part in parts)
    if thresholds[0] == 0:
        raise GcThresholdError(
            f"{ENV_VAR}={text!r}: the first threshold must be positive; "
            "use 0 or off alone to keep Python's defaults"
        )
    return thresholds


def wanted_thresholds(environ: Mapping[str, str] | None = None) -> tuple[int, ...] | None:
    """What :func:`throughput_gc` will set: :data:`ENV_VAR` when set and not empty, else
    :data:`THROUGHPUT_THRESHOLDS`; ``None`` means leave the collector alone.

    Raises :class:`GcThresholdError` for a bad value, so that a command can refuse it
    before it starts anything.
    """
    text = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if not text.strip():
        return THROUGHPUT_THRESHOLDS
    return parse_gc_threshold(text)


@contextlib.contextmanager
def throughput_gc(environ: Mapping[str, str] | None = None) -> Iterator[tuple[int, ...] | None]:
    """Run the block with the thresholds of :func:`wanted_thresholds`, then restore.

    Yields the thresholds set, or ``None`` when the collector was left as it was::

        with throughput_gc():
            asyncio.run(worker())
    """
    wanted = wanted_thresholds(environ)
    if wanted is None:
        yield None
        return
    previous = gc.get_threshold()
    gc.set_threshold(*wanted)
    try:
        yield wanted
    finally:
        gc.set_threshold(*previous)
