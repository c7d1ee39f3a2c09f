"""The file → topic → PostgreSQL pipeline pieces shared by the Connect kill tests: the
input rows, the standalone worker process and the sink table's reads."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.connectors.runtime._helpers import STRING

ROOT = Path(__file__).resolve().parents[2]
JSON = "org.apache.kafka.connect.json.JsonConverter"
SCHEMA = {
    "type": "struct", "name": "Row", "optional": False,
    "fields": [{"field": "id", "type": "int64", "optional": False},
               {"field": "value", "type": "string", "optional": False}],
}  # fmt: skip


def value_of(k: int) -> str:
    return f"row {k} {k * 7919 % 100_003:05d}"


def line(k: int) -> str:
    """One input line: a JSON envelope the sink's JsonConverter turns into a Struct."""
    return json.dumps({"schema": SCHEMA, "payload": {"id": k, "value": value_of(k)}}) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def standalone_worker(
    cwd: Path, bootstrap: str, port: int, log: Path, *, session_ms: int, heartbeat_ms: int
) -> subprocess.Popen[bytes]:
    """``tidal connect standalone`` on ``source.properties`` and ``sink.properties`` in
    ``cwd``, its sink consumer with the given session timeout and heartbeat interval."""
    (cwd / "worker.properties").write_text(
        f"bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{port}\n"
        f"offset.storage.file.filename={cwd / 'connect.offsets'}\n"
        # Source offsets flushed often enough that kills land both before and after a flush.
        "offset.flush.interval.ms=300\n"
        f"consumer.session.timeout.ms={session_ms}\n"
        f"consumer.heartbeat.interval.ms={heartbeat_ms}\n"
        f"key.converter={STRING}\nvalue.converter={STRING}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tidal", "connect", "standalone", "worker.properties",
             "source.properties", "sink.properties"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait, 30)


def count(url: str, table: str = "rows") -> int:
    import psycopg  # noqa: PLC0415 (only after the fixture checked it is installed)

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def rows(url: str, table: str = "rows") -> list[tuple[Any, ...]]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(f'SELECT id, value FROM "{table}" ORDER BY id')]
