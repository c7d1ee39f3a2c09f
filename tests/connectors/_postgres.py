"""A real PostgreSQL server for the session, shared by the connector tests.

The server comes from Debian's ``postgresql`` package (``apt-get install postgresql``;
binaries under ``/usr/lib/postgresql/<version>/bin``): ``initdb`` into a temporary folder,
then ``pg_ctl start`` on a free port with trust authentication on 127.0.0.1. As root, both
run as the package's ``postgres`` user, since PostgreSQL refuses to run as root.

``tests/connectors/conftest.py`` provides the ``postgres`` fixture to every connector test; a
test module elsewhere imports it from here (``from tests.connectors._postgres import
postgres``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import peer_unavailable

INSTALL_HINT = "apt-get install -y postgresql (and pip install 'tidal[postgres]')"


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server; ``database()`` makes a fresh database per test."""

    port: int
    bin_dir: Path
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self) -> str:
        """A new empty database; its URL in the form the SQL connectors take."""
        import psycopg  # noqa: PLC0415 (optional dependency)

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def _pg_bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, stopped at the end."""
    try:
        import psycopg  # noqa: F401, PLC0415
    except ImportError:
        peer_unavailable(f"needs psycopg: {INSTALL_HINT}")
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        peer_unavailable(f"needs the PostgreSQL server binaries: {INSTALL_HINT}")
        return
    run_as: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="tidal-pg-"))
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, "postgres", "postgres")
    server = PostgresServer(_free_port(), bin_dir, run_as)
    pgdata = data / "data"
    try:
        _run([*run_as, str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres",
              "-A", "trust", "-E", "UTF8", "--no-sync"])  # fmt: skip
        options = f"-p {server.port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-o", options,
              "-l", str(data / "server.log"), "-w", "-t", "60", "start"])  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        log = data / "server.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        shutil.rmtree(data, ignore_errors=True)
        peer_unavailable(f"PostgreSQL did not start ({exc}) {tail}; {INSTALL_HINT}")
    try:
        yield server
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate",
                  "-w", "stop"])  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)
