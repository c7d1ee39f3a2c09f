"""``tidal broker start`` as a child process, for whole-program tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

READY = "tidal broker ready on "


class BrokerProcess:
    """One ``python -m tidal broker start`` child on a fixed loopback port."""

    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.data_dir, self.port, self.extra = data_dir, port, extra
        self.proc: subprocess.Popen[str] | None = None
        self.stdout: list[str] = []
        self.log_path = data_dir.parent / f"{data_dir.name}-broker.log"

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start the broker and return its ready line."""
        args = [
            sys.executable, "-m", "tidal", "broker", "start",
            "--data-dir", str(self.data_dir),
            "--listen", f"127.0.0.1:{self.port}",
            *self.extra,
        ]  # fmt: skip
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ}
        )
        log.close()
        ready = threading.Event()
        stdout = self.proc.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                self.stdout.append(line)
                if line.startswith(READY):
                    ready.set()
            stdout.close()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.kill()
            raise AssertionError(f"no ready line; log:\n{self.log_path.read_text()}")
        return next(line for line in self.stdout if line.startswith(READY)).strip()

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[type[BrokerProcess]]:
    """The ``BrokerProcess`` class; every process started is killed after the test."""
    started: list[BrokerProcess] = []

    class Tracked(BrokerProcess):
        def start(self, timeout: float = 30.0) -> str:
            started.append(self)
            return super().start(timeout)

    yield Tracked
    for proc in started:
        proc.kill()
