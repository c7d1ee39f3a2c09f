"""Shared pieces of the side-by-side benchmarks: machine facts, ``dd`` as the
peer for disk throughput, a phase result with its ratio and goal, the summary
table and the JSON result file.

Units: MB is 10**6 bytes and GB is 10**9 bytes, as ``dd`` prints them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

__all__ = [
    "GB",
    "MB",
    "MIB",
    "DdResult",
    "Phase",
    "Steps",
    "bar",
    "git_state",
    "machine_facts",
    "make_progress",
    "now_iso",
    "print_table",
    "run_dd",
    "sendfile_sink",
    "timed_dd",
    "write_json",
]

MB = 1_000_000
GB = 1_000_000_000
MIB = 1 << 20

# dd's summary line: "2147483648 bytes (2.1 GB, 2.0 GiB) copied, 1.02 s, 2.1 GB/s"
_DD_SUMMARY = re.compile(r"^(\d+) bytes .* copied, ([0-9.]+) s,", re.MULTILINE)
# dd's status=progress lines start with the byte count so far.
_DD_PROGRESS = re.compile(rb"^(\d+) bytes")


@dataclass(frozen=True, slots=True)
class DdResult:
    """What one ``dd`` run moved and how long it said it took."""

    command: list[str]
    bytes: int
    seconds: float

    @property
    def mb_s(self) -> float:
        """Throughput in MB/s (10**6 bytes per second)."""
        return self.bytes / self.seconds / MB


@dataclass(slots=True)
class Phase:
    """One measured phase: Tidal's throughput next to the peer's.

    ``min_ratio`` is a goal on Tidal / peer; ``min_mb_s`` an absolute goal.
    """

    name: str
    description: str
    tidal_bytes: int
    tidal_seconds: float
    peer: DdResult | None
    min_ratio: float | None = None
    min_mb_s: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def tidal_mb_s(self) -> float:
        """Tidal's throughput in MB/s."""
        return self.tidal_bytes / self.tidal_seconds / MB

    @property
    def ratio(self) -> float | None:
        """Tidal / peer throughput, ``None`` without a peer."""
        return None if self.peer is None else self.tidal_mb_s / self.peer.mb_s

    @property
    def goal(self) -> str:
        """The goal in words."""
        goals = []
        if self.min_ratio is not None:
            goals.append(f"ratio ≥ {self.min_ratio:g}")
        if self.min_mb_s is not None:
            goals.append(f"≥ {self.min_mb_s:g} MB/s")
        return " and ".join(goals) or "-"

    @property
    def met(self) -> bool | None:
        """Whether every goal is met; ``None`` when the phase has none."""
        if self.min_ratio is None and self.min_mb_s is None:
            return None
        ratio = self.ratio
        if self.min_ratio is not None and (ratio is None or ratio < self.min_ratio):
            return False
        return self.min_mb_s is None or self.tidal_mb_s >= self.min_mb_s

    def to_json(self) -> dict[str, Any]:
        """The phase as a JSON object."""
        ratio = self.ratio
        return {
            "name": self.name,
            "description": self.description,
            "tidal": {
                "bytes": self.tidal_bytes,
                "seconds": round(self.tidal_seconds, 6),
                "mb_per_s": round(self.tidal_mb_s, 1),
            },
            "dd": None
            if self.peer is None
            else {
                "command": " ".join(self.peer.command),
                "bytes": self.peer.bytes,
                "seconds": round(self.peer.seconds, 6),
                "mb_per_s": round(self.peer.mb_s, 1),
            },
            "ratio": None if ratio is None else round(ratio, 3),
            "goal": self.goal,
            "met": self.met,
            **self.details,
        }


def make_progress(console: Console) -> Progress:
    """A progress display with bytes, percentage and speed columns."""
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(bar_width=30),
        TaskProgressColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        # The display redraws from a thread that takes the GIL: keep it rare so
        # it costs the measured Python loops next to nothing.
        refresh_per_second=4,
    )


def run_dd(args: Sequence[str], progress: Progress, task: TaskID) -> DdResult:
    """Run ``dd`` with ``args``, following its progress, and return what it reports.

    The figure is dd's own (bytes and seconds from its summary line), so process
    start-up is not counted against it.
    """
    command = ["dd", *args, "status=progress"]
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    assert proc.stderr is not None
    captured = bytearray()

    def follow() -> None:
        assert proc.stderr is not None
        while chunk := os.read(proc.stderr.fileno(), 4096):
            captured.extend(chunk)
            for line in reversed(re.split(rb"[\r\n]", chunk)):
                if match := _DD_PROGRESS.match(line):
                    progress.update(task, completed=int(match.group(1)))
                    break

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    code = proc.wait()
    reader.join()
    text = captured.decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {code}: {text.strip()}")
    summaries = _DD_SUMMARY.findall(text)
    if not summaries:
        raise RuntimeError(f"cannot read dd's summary in: {text!r}")
    copied, seconds = summaries[-1]
    progress.update(task, completed=int(copied))
    return DdResult(command=command, bytes=int(copied), seconds=float(seconds))


@contextmanager
def bar(console: Console, label: str, total: int | None) -> Iterator[tuple[Progress, TaskID]]:
    """A progress bar for one phase, printed in its final state when done."""
    with make_progress(console) as progress:
        yield progress, progress.add_task(label, total=total)


def timed_dd(console: Console, label: str, args: Sequence[str], total: int) -> DdResult:
    """``dd`` with a progress bar and a result line."""
    console.print(f"  [dim]$ dd {' '.join(args)}[/]")
    os.sync()  # earlier phases' dirty pages are not this phase's writeback
    with bar(console, label, total) as (progress, task):
        result = run_dd(args, progress, task)
    console.print(f"  → dd: {result.mb_s:,.0f} MB/s")
    return result


@contextmanager
def sendfile_sink() -> Iterator[tuple[int, str]]:
    """A descriptor ``sendfile`` accepts: /dev/null when the kernel allows it,
    else a socketpair drained by a thread."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        probe = os.open(__file__, os.O_RDONLY)
        try:
            os.sendfile(null, probe, 0, 1)
        finally:
            os.close(probe)
        yield null, "os.sendfile to /dev/null (the kernel moves no payload into user space)"
        return
    except OSError:
        pass
    finally:
        os.close(null)
    ours, theirs = socket.socketpair()
    drainer = threading.Thread(target=lambda: _drain(theirs), daemon=True)
    drainer.start()
    try:
        yield ours.fileno(), "os.sendfile to a socketpair drained by a thread"
    finally:
        ours.close()
        drainer.join()
        theirs.close()


def _drain(sock: socket.socket) -> None:
    buffer = bytearray(MIB)
    while sock.recv_into(buffer):
        pass


class Steps:
    """Numbered phase headings: ``[2/6] append: ...``."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total, self.done = console, total, 0

    def __call__(self, text: str) -> None:
        self.done += 1
        self.console.print(f"[bold][{self.done}/{self.total}][/] {text}")


def _filesystem(path: Path) -> dict[str, str]:
    """Mount point, device and type of the filesystem holding ``path``."""
    target = str(path.resolve())
    best = {"mount_point": "?", "device": "?", "type": "?"}
    longest = -1
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return best
    for line in mounts:
        device, mount_point, fstype, *_ = line.split()
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > longest:
            longest = len(mount_point)
            best = {"mount_point": mount_point, "device": device, "type": fstype}
    return best


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine_facts(data_dir: Path) -> dict[str, Any]:
    """CPU, memory, OS, Python and the filesystem the benchmark writes to."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "filesystem": _filesystem(data_dir),
    }


def git_state(root: Path, paths: Sequence[str]) -> dict[str, Any]:
    """The commit measured and any uncommitted change under ``paths``."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", *paths)
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "uncommitted_changes": changed.splitlines(),
    }


def print_table(console: Console, title: str, phases: Sequence[Phase]) -> None:
    """The summary: phase, Tidal MB/s, dd MB/s, ratio, goal, met?"""
    table = Table(title=title)
    table.add_column("phase")
    table.add_column("Tidal MB/s", justify="right")
    table.add_column("dd MB/s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("goal")
    table.add_column("met?")
    for phase in phases:
        ratio = phase.ratio
        met = phase.met
        table.add_row(
            phase.name,
            f"{phase.tidal_mb_s:,.0f}",
            "-" if phase.peer is None else f"{phase.peer.mb_s:,.0f}",
            "-" if ratio is None else f"{ratio:.2f}",
            phase.goal,
            "-" if met is None else ("[green]yes[/]" if met else "[red]NO[/]"),
        )
    console.print(table)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` atomically (a ``.tmp`` file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
