"""File → topic → PostgreSQL through ``tidal connect standalone``, the worker killed with
SIGKILL at random moments mid-run and restarted each time: the table ends with exactly the
input rows, each id once with its value, none missing.

Why this construction is exactly-once end to end: the two connectors give different
guarantees. The SQL sink is exactly once on its own: every ``put`` writes the rows and the
next offset of each partition it consumed in one database transaction, and a restarted task
resumes from those offsets, so each *topic record* becomes at most one write. The
FileStreamSource in a standalone worker is at least once into the topic: its file positions
are flushed to ``offset.storage.file.filename`` every ``offset.flush.interval.ms``, and a
SIGKILL between a send and the next flush makes the restarted task send those lines again,
so a line can be *several* topic records. Exactly the input rows therefore needs the table
to be keyed by something the line itself carries: ``insert.mode=upsert`` with
``pk.mode=record_value`` and ``pk.fields=id`` turns a re-sent line into an idempotent write
of the same row. Topic duplicates are then harmless, and a lost line would show as a
missing id — which the test checks as well as the count and every value.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.connectors.runtime._helpers import BROKER_CONFIG, STRING, http, wait_for
from tidal.log.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[3]
JSON = "org.apache.kafka.connect.json.JsonConverter"
N = 20_000
CHUNK = 1_000
KILLS = 3
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _worker(cwd: Path, bootstrap: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    (cwd / "worker.properties").write_text(
        f"bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{port}\n"
        f"offset.storage.file.filename={cwd / 'connect.offsets'}\n"
        # Source offsets flushed often enough that kills land both before and after a flush.
        "offset.flush.interval.ms=300\n"
        # The killed worker's sink consumer leaves the group soon, so restarts are quick.
        "consumer.session.timeout.ms=2000\nconsumer.heartbeat.interval.ms=300\n"
        f"key.converter={STRING}\nvalue.converter={STRING}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tidal", "connect", "standalone", "worker.properties",
             "source.properties", "sink.properties"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait, 30)


def _count(url: str) -> int:
    import psycopg  # noqa: PLC0415 (only after the fixture checked it is installed)

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute('SELECT count(*) FROM "rows"').fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def _table(url: str) -> list[tuple[Any, ...]]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute('SELECT id, value FROM "rows" ORDER BY id')]


def _consumed(url: str) -> int:
    """The sink's stored next offsets, summed over the topic's partitions."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            'SELECT coalesce(sum(next_offset), 0) FROM "__tidal_connect_offsets" '
            "WHERE connector = 'rows-db'"
        ).fetchone()
    return int(row[0]) if row else 0


async def _running(port: int) -> bool:
    for name in ("lines", "rows-db"):
        try:
            status, body = await asyncio.to_thread(
                http, "GET", f"http://127.0.0.1:{port}/connectors/{name}/status"
            )
        except OSError:
            return False
        if status != 200 or [t["state"] for t in body["tasks"]] != ["RUNNING"]:
            return False
    return True


async def _append(path: Path) -> None:
    """Write the input in chunks while the worker runs, so kills also land mid-source."""
    for start in range(CHUNK, N, CHUNK):
        await asyncio.sleep(0.25)
        with path.open("a") as f:
            f.write("".join(line(k) for k in range(start, min(start + CHUNK, N))))


async def test_sigkilled_worker_ends_with_exactly_the_input_rows(
    postgres: Any, tmp_path: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    url = postgres.database()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line(k) for k in range(CHUNK)))
    log = tmp_path / "worker.log"
    (tmp_path / "source.properties").write_text(
        f"name=lines\nconnector.class=FileStreamSource\nfile={source}\ntopic=rows\nbatch.size=500\n"
    )
    (tmp_path / "sink.properties").write_text(
        f"name=rows-db\nconnector.class=SqlSink\ntopics=rows\nconnection.url={url}\n"
        "auto.create=true\ninsert.mode=upsert\npk.mode=record_value\npk.fields=id\n"
        f"value.converter={JSON}\nvalue.converter.schemas.enable=true\n"
    )
    context = f"seed {seed}; worker log {log}"
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        appender = asyncio.create_task(_append(source))
        worker = _worker(tmp_path, bootstrap, port := _free_port(), log)
        try:
            await wait_for(lambda: _running(port), 40, f"both connectors running ({context})")
            rows_at_kill: list[int] = []
            for kill in range(KILLS):
                if kill == 0:
                    # Early, while the file is still growing: source and sink both mid-run.
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
                else:
                    target = rng.randint(N * kill // (KILLS + 1), N * (kill + 1) // (KILLS + 1))
                    what = f"{target} rows ({context})"
                    await wait_for(lambda t=target: _count(url) >= t, 40, what)
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                await _kill(worker)
                rows_at_kill.append(_count(url))
                worker = _worker(tmp_path, bootstrap, port := _free_port(), log)
                await wait_for(lambda: _running(port), 40, f"the restarted worker ({context})")
            assert rows_at_kill[-1] < N, f"every kill came after the end ({context})"
            await asyncio.wait_for(appender, 30)
            await wait_for(lambda: _count(url) >= N, 60, f"{N} rows ({context})")
            await asyncio.sleep(1.5)  # a duplicate or a late write would land now
            assert _count(url) == N, context
        finally:
            appender.cancel()
            await _kill(worker)
    assert _table(url) == [(k, value_of(k)) for k in range(N)], context
    # Every topic record, re-sent lines included, was consumed by the sink exactly once.
    assert _consumed(url) >= N, context


# ---- distributed mode with exactly-once sources: no key needed ---------------------------


def _distributed(cwd: Path, bootstrap: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    (cwd / "worker.properties").write_text(
        f"bootstrap.servers={bootstrap}\ngroup.id=file-to-postgres\n"
        f"listeners=http://127.0.0.1:{port}\nexactly.once.source.support=enabled\n"
        "offset.flush.interval.ms=300\nsession.timeout.ms=3000\nheartbeat.interval.ms=300\n"
        # The sink reads only committed source transactions: an aborted one is never a row.
        "consumer.isolation.level=read_committed\n"
        "consumer.session.timeout.ms=2000\nconsumer.heartbeat.interval.ms=300\n"
        f"key.converter={STRING}\nvalue.converter={STRING}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tidal", "connect", "distributed", "worker.properties"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def _running_here(port: int) -> bool:
    """Both connectors' tasks RUNNING on the worker at ``port`` (not a stale status of the
    killed one)."""
    for name in ("lines", "rows-db"):
        try:
            status, body = await asyncio.to_thread(
                http, "GET", f"http://127.0.0.1:{port}/connectors/{name}/status"
            )
        except OSError:
            return False
        if status != 200 or [(t["state"], t["worker_id"]) for t in body["tasks"]] != [
            ("RUNNING", f"127.0.0.1:{port}")
        ]:
            return False
    return True


async def test_sigkilled_distributed_worker_with_exactly_once_source_writes_each_line_once(
    postgres: Any, tmp_path: Path
) -> None:
    """The strongest form: ``exactly.once.source.support=enabled`` (distributed mode) writes
    each batch of lines and its file position in one transaction, a killed worker's open
    transaction is aborted when the task restarts (fencing), and the sink reads
    ``read_committed``. So every line is exactly one topic record, and the SQL sink — plain
    ``insert.mode=insert`` with ``pk.mode=none``, where any duplicate WOULD be an extra row —
    still ends with exactly one row per line."""
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    url = postgres.database()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line(k) for k in range(CHUNK)))
    log = tmp_path / "worker.log"
    context = f"seed {seed}; worker log {log}"
    configs = {
        "lines": {"connector.class": "FileStreamSource", "file": str(source), "topic": "rows",
                  "batch.size": "500", "exactly.once.support": "required"},
        "rows-db": {"connector.class": "SqlSink", "topics": "rows", "connection.url": url,
                    "auto.create": "true", "insert.mode": "insert", "pk.mode": "none",
                    "value.converter": JSON, "value.converter.schemas.enable": "true"},
    }  # fmt: skip
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        appender: asyncio.Task[None] | None = None
        worker = _distributed(tmp_path, bootstrap, port := _free_port(), log)
        try:

            async def up() -> bool:
                try:
                    status, _ = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port}/")
                except OSError:
                    return False
                return status == 200

            await wait_for(up, 40, f"the worker's REST API ({context})")
            for name, config in configs.items():
                status, body = await asyncio.to_thread(
                    http, "POST", f"http://127.0.0.1:{port}/connectors",
                    {"name": name, "config": config},
                )  # fmt: skip
                assert status == 201, body
            appender = asyncio.create_task(_append(source))
            await wait_for(lambda: _running_here(port), 40, f"both connectors ({context})")
            rows_at_kill: list[int] = []
            for kill in range(KILLS):
                if kill == 0:
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
                else:
                    target = rng.randint(N * kill // (KILLS + 1), N * (kill + 1) // (KILLS + 1))
                    what = f"{target} rows ({context})"
                    await wait_for(lambda t=target: _count(url) >= t, 40, what)
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                await _kill(worker)
                rows_at_kill.append(_count(url))
                worker = _distributed(tmp_path, bootstrap, port := _free_port(), log)
                await wait_for(lambda: _running_here(port), 40, f"the restarted worker ({context})")
            assert rows_at_kill[-1] < N, f"every kill came after the end ({context})"
            await asyncio.wait_for(appender, 30)
            await wait_for(lambda: _count(url) >= N, 60, f"{N} rows ({context})")
            await asyncio.sleep(1.5)  # a duplicate would land now
            assert _count(url) == N, context
        finally:
            if appender is not None:
                appender.cancel()
            await _kill(worker)
    # ORDER BY id puts a duplicate next to its original: the lists would differ.
    assert _table(url) == [(k, value_of(k)) for k in range(N)], context
