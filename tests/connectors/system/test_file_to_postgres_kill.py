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

The second test removes the key: a distributed worker with exactly-once sources makes each
line exactly one topic record, so a plain-insert sink without a primary key must still end
with one row per line.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.connectors._pipeline import JSON, ROOT, line, standalone_worker, value_of
from tests.connectors._pipeline import count as _count
from tests.connectors._pipeline import free_port as _free_port
from tests.connectors._pipeline import kill as _kill
from tests.connectors._pipeline import rows as _table
from tests.connectors.runtime._helpers import BROKER_CONFIG, STRING, http, wait_for
from tidal.log.broker import EmbeddedBroker

N = 20_000
CHUNK = 1_000
KILLS = 3


def _worker(cwd: Path, bootstrap: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    # The killed worker's sink consumer leaves the group soon, so restarts are quick.
    return standalone_worker(cwd, bootstrap, port, log, session_ms=2000, heartbeat_ms=300)


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


async def _feed_and_kill(
    source: Path, rng: random.Random, restart: Callable[[], Awaitable[None]]
) -> None:
    """Append the rest of the input chunk by chunk while the worker runs, killing and
    restarting it ``KILLS`` times: 0-0.5 s after a random chunk of each third of the input,
    and always before the last chunk, so every kill lands with lines still to be read and
    rows still to be written (with source and sink busy or idle, as chance has it)."""
    chunks = N // CHUNK
    span = (chunks - 2) // KILLS
    kill_after = {1 + kill * span + rng.randrange(span) for kill in range(KILLS)}
    for chunk in range(1, chunks):
        with source.open("a") as f:
            f.write("".join(line(k) for k in range(chunk * CHUNK, (chunk + 1) * CHUNK)))
        if chunk in kill_after:
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await restart()
        else:
            await asyncio.sleep(0.2)


async def test_sigkilled_worker_ends_with_exactly_the_input_rows(
    postgres: Any, tmp_path: Path
) -> None:
    """Standalone worker, at-least-once source, upsert keyed by the line's id (see the
    module docstring for why that is exactly once end to end)."""
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
        workers: list[subprocess.Popen[bytes]] = []
        ports: list[int] = []

        async def start() -> None:
            ports.append(_free_port())
            workers.append(_worker(tmp_path, bootstrap, ports[-1], log))
            await wait_for(lambda: _running(ports[-1]), 40, f"both connectors ({context})")

        async def restart() -> None:
            await _kill(workers[-1])
            await start()

        try:
            await start()
            await _feed_and_kill(source, rng, restart)
            await wait_for(lambda: _count(url) >= N, 60, f"{N} rows ({context})")
            await asyncio.sleep(1.5)  # a duplicate or a late write would land now
            assert _count(url) == N, context
        finally:
            for worker in workers:
                await _kill(worker)
        assert len(workers) == KILLS + 1
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
        workers: list[subprocess.Popen[bytes]] = []
        ports: list[int] = []

        async def start() -> None:
            ports.append(_free_port())
            workers.append(_distributed(tmp_path, bootstrap, ports[-1], log))

        async def restart() -> None:
            await _kill(workers[-1])
            await start()
            what = f"the restarted worker ({context})"
            await wait_for(lambda: _running_here(ports[-1]), 40, what)

        async def up() -> bool:
            try:
                status, _ = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{ports[-1]}/")
            except OSError:
                return False
            return status == 200

        try:
            await start()
            await wait_for(up, 40, f"the worker's REST API ({context})")
            for name, config in configs.items():
                status, body = await asyncio.to_thread(
                    http, "POST", f"http://127.0.0.1:{ports[-1]}/connectors",
                    {"name": name, "config": config},
                )  # fmt: skip
                assert status == 201, body
            await wait_for(lambda: _running_here(ports[-1]), 40, f"both connectors ({context})")
            await _feed_and_kill(source, rng, restart)
            await wait_for(lambda: _count(url) >= N, 60, f"{N} rows ({context})")
            await asyncio.sleep(1.5)  # a duplicate would land now
            assert _count(url) == N, context
        finally:
            for worker in workers:
                await _kill(worker)
        assert len(workers) == KILLS + 1
    # ORDER BY id puts a duplicate next to its original: the lists would differ.
    assert _table(url) == [(k, value_of(k)) for k in range(N)], context
