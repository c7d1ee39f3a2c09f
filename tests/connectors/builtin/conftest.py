"""Fixtures of the built-in connector tests: a real PostgreSQL server for the session.

The server comes from Debian's ``postgresql`` package (``apt-get install postgresql``;
binaries under ``/usr/lib/postgresql/<version>/bin``): ``initdb`` into a temporary folder,
then ``pg_ctl start`` on a free port with trust authentication on 127.0.0.1. As root, both
run as the package's ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import glob
import http.server
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# ---- databases and contexts the connector tests share --------------------------------


class Database:
    """A test database either connector can use: ``url``, plus helpers to look inside."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url

    def _connect(self) -> Any:
        if self.kind == "sqlite":
            return contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:")))
        import psycopg  # noqa: PLC0415

        return psycopg.connect(self.url, autocommit=True)

    def sql(self, text: str) -> str:
        """``?`` placeholders in the driver's style."""
        return text if self.kind == "sqlite" else text.replace("?", "%s")

    def execute(self, text: str, *params: Any) -> None:
        with self._connect() as conn:
            conn.execute(self.sql(text), params)
            if self.kind == "sqlite":
                conn.commit()

    def executemany(self, text: str, rows: list[tuple[Any, ...]]) -> None:
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.executemany(self.sql(text), rows)
            cursor.close()
            if self.kind == "sqlite":
                conn.commit()

    def rows(self, text: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._connect() as conn:
            return [tuple(row) for row in conn.execute(self.sql(text), params).fetchall()]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """The same test against SQLite and against the PostgreSQL server."""
    if request.param == "sqlite":
        return Database("sqlite", f"sqlite:{tmp_path / 'test.db'}")
    server: PostgresServer = request.getfixturevalue("postgres")
    return Database("postgresql", server.database())


class FakeSinkContext:
    """A sink task context recording what the task asked for, as the runtime would."""

    def __init__(self, configs: dict[str, str], *, reporter: bool = False) -> None:
        self.configs = configs
        self.rewinds: dict[Any, int] = {}
        self.timeouts: list[int] = []
        self.reported: list[tuple[Any, BaseException]] = []
        self._reporter = self if reporter else None

    def offset(self, offsets: Any) -> None:
        self.rewinds.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        self.timeouts.append(timeout_ms)

    def assignment(self) -> set[Any]:
        return set()

    def pause(self, *partitions: Any) -> None:
        pass

    def resume(self, *partitions: Any) -> None:
        pass

    def request_commit(self) -> None:
        pass

    @property
    def errant_record_reporter(self) -> Any:
        return self._reporter

    def report(self, record: Any, error: BaseException) -> concurrent.futures.Future[None]:
        self.reported.append((record, error))
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done


@pytest.fixture
def sink_context() -> type[FakeSinkContext]:
    """The fake sink context class (test modules cannot import this conftest)."""
    return FakeSinkContext


class FakeOffsetReader:
    """Committed source offsets, as the runtime's reader hands them out."""

    def __init__(self, offsets: dict[Any, Any] | None = None) -> None:
        self.stored: dict[Any, Any] = offsets or {}

    def offset(self, partition: Any) -> Any:
        return self.stored.get(_frozen(partition))

    def offsets(self, partitions: Any) -> list[tuple[Any, Any]]:
        return [(p, self.offset(p)) for p in partitions]

    def commit(self, records: Any) -> None:
        """Store the offsets of ``records`` as the runtime does once they are acked."""
        for record in records:
            if record.source_partition is not None:
                self.stored[_frozen(record.source_partition)] = record.source_offset


class FakeSourceContext:
    """A source task context over a :class:`FakeOffsetReader`."""

    def __init__(self, configs: dict[str, str], reader: FakeOffsetReader) -> None:
        self.configs = configs
        self.offset_storage_reader = reader
        self.transaction_context = None


def _frozen(partition: Any) -> Any:
    return tuple(sorted(partition.items()))


@pytest.fixture
def source_context() -> tuple[type[FakeSourceContext], type[FakeOffsetReader]]:
    """The fake source context and offset reader classes."""
    return FakeSourceContext, FakeOffsetReader


# ---- a real HTTP endpoint for the HTTP sink ------------------------------------------


class Endpoint:
    """What the server received, and the statuses it answers with next."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.statuses: list[int] = []
        self.answered: list[int] = []
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    endpoint: Endpoint

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.endpoint.lock:
            status = self.endpoint.statuses.pop(0) if self.endpoint.statuses else 200
            self.endpoint.answered.append(status)
            self.endpoint.requests.append(
                (self.command, self.path, dict(self.headers), json.loads(body))
            )
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    """A local HTTP server: what it received, and its URL."""
    state = Endpoint()
    handler = type("BoundHandler", (Handler,), {"endpoint": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/ingest?src=tidal"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
