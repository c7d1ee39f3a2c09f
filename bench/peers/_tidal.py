"""Tidal's broker, as users start it: ``tidal broker start`` in its own process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import tidal
import tidal.log.records
from peers._base import PeerStartError, SpawnedBroker, free_port

__all__ = ["TidalBroker"]

READY_LINE = "tidal broker ready on "


class TidalBroker(SpawnedBroker):
    """``python -m tidal broker start --data-dir WORK/data --listen 127.0.0.1:PORT``,
    with every other setting at its default (no fsync: the page cache, as Kafka)."""

    name = "tidal"
    label = "Tidal"

    def __init__(self, extra_args: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.extra_args = extra_args

    def unavailable(self) -> str | None:
        """Tidal is the package under test: always there."""
        return None

    def command(self, work: Path, port: int) -> list[str]:
        """The command line that starts the broker."""
        return [
            sys.executable, "-m", "tidal", "broker", "start",
            "--data-dir", str(work / "data"),
            "--listen", f"127.0.0.1:{port}",
            *self.extra_args,
        ]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """Version, whether the compiled record code is in use, the command."""
        return {
            "version": tidal.__version__,
            "record_speedups": tidal.log.records.SPEEDUPS,
            "python": sys.version.split()[0],
            "command": " ".join(self.command(Path("WORK"), 0)).replace(":0", ":PORT"),
            "storage": "segment files on disk under WORK/data (page cache, no fsync)",
        }

    def start(self, work: Path) -> None:
        """Start on a free port; returns once it has printed its ready line."""
        port = free_port()
        self.spawn(self.command(work, port), work, port, lambda text: READY_LINE in text)

    def stop(self) -> None:
        """SIGTERM; Tidal exits 0 after a clean shutdown, anything else is an error."""
        super().stop()
        if self.last_exit_code not in (None, 0):
            raise PeerStartError(
                f"Tidal's broker exited with {self.last_exit_code} on SIGTERM; "
                f"its log ends:\n{self.log_tail()}"
            )
