"""What every benchmarked broker offers, and the process plumbing they share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["BrokerProcess", "PeerStartError", "cpu_seconds", "free_port", "machine_cpu_seconds"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class PeerStartError(RuntimeError):
    """A broker did not start, or did not stop, as it should."""


def free_port(count: int = 1) -> int:
    """A loopback port with ``count - 1`` free ports after it (Kafka's controller
    listens on the next one); free when asked, as ports go."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port + count <= 65535 and all(_port_free(port + i) for i in range(1, count)):
            return port
    raise PeerStartError(f"no run of {count} free loopback ports found")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(port: int) -> bool:
    """Whether something accepts connections on the loopback ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used (all its threads), with its
    descendants' (a Tidal Connect worker's task processes), or ``None`` once it is gone."""
    own = _stat_fields(pid)
    if own is None:
        return None
    # Children already waited for are in fields 13-14 (cutime, cstime); live ones are not.
    total = sum(int(own[i]) for i in (11, 12, 13, 14)) / _CLOCK_TICKS
    return total + sum(_live_cpu(child) for child in _descendants(pid))


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count fields after its ')'.
    return stat[stat.rindex(")") + 2 :].split()


def _live_cpu(pid: int) -> float:
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def machine_cpu_seconds() -> tuple[float, float]:
    """``(busy, elapsed)`` CPU seconds of the whole machine since boot, summed over
    its CPUs (from /proc/stat); deltas give how many cores were busy meanwhile."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user)
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return (total - idle) / _CLOCK_TICKS, total / _CLOCK_TICKS


def wait_until(ready: Callable[[], bool], alive: Callable[[], bool], timeout: float) -> bool:
    """Poll ``ready`` until it holds (``True``), the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if not alive():
            return False
        time.sleep(0.05)
    return False


class BrokerProcess(ABC):
    """One broker, started fresh for each round and stopped after it."""

    #: The name ``--peers`` takes.
    name: str = ""
    #: The name in tables.
    label: str = ""

    def __init__(self) -> None:
        self.bootstrap_servers = ""
        self.pid = 0
        self.log_path: Path | None = None

    @abstractmethod
    def unavailable(self) -> str | None:
        """Why this broker cannot run here (with how to fix it), ``None`` when it can."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Version, command and settings, for the results file."""

    @abstractmethod
    def start(self, work: Path) -> None:
        """Start on free loopback ports, keeping state and logs under ``work``."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the broker and wait for it to exit."""

    def log_tail(self, lines: int = 20) -> str:
        """The end of the broker's output, for error messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class SpawnedBroker(BrokerProcess):
    """A broker that is one child process, started by a command, stopped by SIGTERM."""

    start_timeout = 60.0
    stop_timeout = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self.last_exit_code: int | None = None

    def spawn(
        self, command: Sequence[str], work: Path, port: int, ready: Callable[[str], bool]
    ) -> None:
        """Run ``command`` with its output in ``work/broker.log`` and wait until
        ``ready(log text)`` holds and ``port`` accepts connections."""
        self.log_path = work / "broker.log"
        self._log_file = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            list(command),
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.pid = self._proc.pid
        self.bootstrap_servers = f"127.0.0.1:{port}"
        log_path = self.log_path
        proc = self._proc

        def is_ready() -> bool:
            return ready(log_path.read_text(errors="replace")) and port_open(port)

        if not wait_until(is_ready, lambda: proc.poll() is None, self.start_timeout):
            code = proc.poll()
            self.stop()
            state = "did not get ready in time" if code is None else f"exited with {code}"
            raise PeerStartError(f"{self.label} {state}; its log ends:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after ``stop_timeout``."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.last_exit_code = proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
