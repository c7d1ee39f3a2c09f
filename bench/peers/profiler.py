"""py-spy attached to a broker process, and a summary of what it sampled.

``bench/broker.py --profile DIR`` records folded stacks (py-spy's ``raw``
format, one file per scenario) while the load runs, then ranks functions by the
share of samples in which they are running themselves (self) or are on the
stack (inclusive). Idle threads (a thread blocked in ``epoll_wait``, a lock)
are not sampled, so the shares are of the time the broker is busy.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["PySpy", "print_profile", "summarize_profile"]


class PySpy:
    """``py-spy record`` attached to the broker around each measured load, writing
    folded stacks (``--format raw``) per scenario; idle threads are left out."""

    def __init__(
        self, executable: str, out: Path, rate: int, broker: Any, *, subprocesses: bool = False
    ) -> None:
        self.executable, self.out, self.rate, self.broker = executable, out, rate, broker
        #: Sample the process's children too (a Connect worker's task processes).
        self.subprocesses = subprocesses
        self.files: dict[str, Path] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    def before(self, scenario: str) -> None:
        """Attach and wait until py-spy samples."""
        path = self.out / (scenario.replace(" ", "-") + ".folded")
        log = path.with_suffix(".log")
        command = [
            self.executable, "record", "--pid", str(self.broker.pid), "--rate", str(self.rate),
            "--format", "raw", "--threads", "--output", str(path),
        ]  # fmt: skip
        if self.subprocesses:
            command.append("--subprocesses")
        with log.open("wb") as sink:
            self._proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"Sampling process" not in log.read_bytes():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"py-spy did not attach: {log.read_text(errors='replace')}")
            time.sleep(0.02)
        self.files[scenario] = path

    def after(self, _scenario: str) -> None:
        """Stop sampling (py-spy writes its file on SIGINT)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)


def _frame_name(frame: str) -> str:
    """``func (path/file.py:123)`` -> ``func (path/file.py)``."""
    name, _, where = frame.rpartition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]}" + (")" if ":" in where else "")


#: Leaf frames of a thread that waits: the event loop in epoll, the executor's
#: idle worker, the log scheduler between runs. py-spy's blocking sampler does not
#: always tell these apart from running threads, so they are counted as idle here.
IDLE_LEAVES = frozenset(
    {
        "EpollSelector.select (selectors.py)",
        "_worker (concurrent/futures/thread.py)",
        "Condition.wait (threading.py)",
        "Event.wait (threading.py)",
    }
)

#: Where a leaf frame's file puts a sample, first match wins.
AREAS = (
    ("log/storage/", "storage: segment, index and log appends and reads"),
    ("log/records/", "records: batch checks, CRC-32C"),
    ("log/protocol/", "protocol: framing, request decoding, response encoding"),
    ("<tidal.log.protocol", "protocol: framing, request decoding, response encoding"),
    ("log/broker/handlers/", "broker: API handlers"),
    ("log/broker/", "broker: connection session, dispatch, metrics"),
    ("asyncio/", "asyncio: event loop, socket reads and writes, sendfile"),
    ("selectors.py", "asyncio: event loop, socket reads and writes, sendfile"),
)

#: Frames that are on every stack of the broker's main thread.
_ROOTS = ("tidal/__main__.py", "tidal/cli/")


def _area(frame: str) -> str:
    where = frame.rpartition(" (")[2]
    for prefix, area in AREAS:
        if prefix in where:
            return area
    return "other (standard library, logging, ...)"


def summarize_profile(path: Path, top: int) -> dict[str, Any]:
    """Shares of the busy samples in a py-spy raw (folded) file: by function
    running itself (self), by area of the code, and Tidal's functions by the
    share of samples in which they are on the stack (inclusive)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    busy = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *raw_frames = stack.split(";")
        frames = [_frame_name(f) for f in raw_frames]
        if not frames or frames[-1] in IDLE_LEAVES:
            idle += count
            continue
        busy += count
        threads[thread.split(": ", 1)[-1]] += count
        own[frames[-1]] += count
        by_area[_area(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count

    def shares(counter: Counter[str], limit: int) -> list[dict[str, Any]]:
        return [
            {"name": name, "samples": n, "share": round(n / busy, 4)}
            for name, n in counter.most_common(limit)
        ]

    tidal_inclusive = Counter(
        {
            name: n
            for name, n in inclusive.items()
            if ("tidal/" in name or "log/" in name) and not any(r in name for r in _ROOTS)
        }
    )
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "threads": shares(threads, 10),
        "self_by_area": shares(by_area, len(AREAS)),
        "self": shares(own, top),
        "inclusive_tidal": shares(tidal_inclusive, top),
    }


def print_profile(console: Console, scenario: str, summary: dict[str, Any], top: int) -> None:
    """Busy time by area, the top functions by self time, Tidal's by inclusive time."""
    for key, title, column in (
        ("self_by_area", "self time by area", "area"),
        ("self", "self time (C calls a function makes count as its own)", "function"),
        ("inclusive_tidal", "inclusive time, Tidal's functions", "function"),
    ):
        table = Table(title=f"{scenario}: {title}; {summary['busy_samples']:,} busy samples")
        table.add_column("share", justify="right")
        table.add_column(column)
        for row in summary[key][:top]:
            table.add_row(f"{row['share']:.1%}", row["name"])
        console.print(table)
