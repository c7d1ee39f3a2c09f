"""Fixtures of the built-in connector tests: databases, fake task contexts, an HTTP endpoint.

The ``postgres`` session fixture (a real PostgreSQL server) comes from
``tests/connectors/conftest.py``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.connectors._postgres import PostgresServer

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
