"""The SQL sink in a ``tidal connect standalone`` worker killed with SIGKILL in the middle of a
database transaction: after a restart PostgreSQL holds every record exactly once."""

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

from tests.connectors.runtime._helpers import BROKER_CONFIG, wait_for
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient
from tidal.log.client.producer import Producer
from tidal.log.protocol.errors import GroupIdNotFoundError

ROOT = Path(__file__).resolve().parents[3]
_SCHEMA = {
    "type": "struct", "name": "Event", "optional": False,
    "fields": [{"field": "n", "type": "int64", "optional": False},
               {"field": "label", "type": "string", "optional": False}],
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _produce(bootstrap: str, numbers: range) -> None:
    async with Producer(bootstrap_servers=bootstrap) as producer:
        for n in numbers:
            value = {"schema": _SCHEMA, "payload": {"n": n, "label": f"event {n}"}}
            await producer.send("events", json.dumps(value).encode())
        await producer.flush()


def _worker(cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "connect", "standalone", "worker.properties",
         "sink.properties"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _rows(url: str) -> list[int]:
    import psycopg  # noqa: PLC0415 (only after the fixture checked it is installed)

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            return [r[0] for r in conn.execute('SELECT n FROM "events" ORDER BY n').fetchall()]
        except psycopg.errors.UndefinedTable:
            return []


def _waiting_for_lock(url: str) -> bool:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
        return row is not None and row[0] > 0


async def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait, 30)


async def test_sigkill_mid_transaction_leaves_one_row_per_record(
    postgres: Any, tmp_path: Path
) -> None:
    import psycopg  # noqa: PLC0415

    url = postgres.database()
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        (tmp_path / "worker.properties").write_text(
            f"bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{_free_port()}\n"
            f"offset.storage.file.filename={tmp_path / 'connect.offsets'}\n"
            # Kafka's consumer offsets are never committed: only the database knows.
            "offset.flush.interval.ms=600000\n"
            # The killed worker's consumer leaves the group soon, so the restart is quick.
            "consumer.session.timeout.ms=2000\nconsumer.heartbeat.interval.ms=300\n"
            "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
            "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
        )
        (tmp_path / "sink.properties").write_text(
            f"name=events-db\nconnector.class=SqlSink\ntopics=events\nconnection.url={url}\n"
            "auto.create=true\ninsert.mode=insert\npk.mode=none\n"
        )
        await _produce(bootstrap, range(200))
        worker = _worker(tmp_path)
        try:
            await wait_for(lambda: len(_rows(url)) == 200, 60, "the first 200 rows")
            # Hold the table so the next transaction hangs half done, then kill the worker.
            with psycopg.connect(url) as blocker:
                blocker.execute('LOCK TABLE "events" IN ACCESS EXCLUSIVE MODE')
                await _produce(bootstrap, range(200, 400))
                await wait_for(lambda: _waiting_for_lock(url), 30, "the sink's blocked insert")
                await _kill(worker)
                blocker.rollback()
        finally:
            await _kill(worker)
        async with AdminClient(bootstrap_servers=bootstrap) as admin:
            try:
                committed = await admin.list_group_offsets("connect-events-db")
            except GroupIdNotFoundError:
                committed = {}
        assert all(om.offset < 0 for om in committed.values())  # Kafka would restart at 0

        worker = _worker(tmp_path)
        try:
            await wait_for(lambda: len(_rows(url)) >= 400, 60, "all 400 rows")
            await asyncio.sleep(1.0)  # a duplicate would land now
        finally:
            await _kill(worker)
    assert _rows(url) == list(range(400))
