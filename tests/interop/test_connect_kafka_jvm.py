"""``tidal connect standalone`` against Apache Kafka (JVM broker): file → topic → PostgreSQL
ends with exactly the input rows, through one SIGKILL of the worker, and the worker's REST
API reports both connectors RUNNING.

The construction is the one of ``tests/connectors/system/test_file_to_postgres_kill.py``:
the FileStreamSource is at least once into the topic (a kill can re-send lines whose file
positions were not flushed yet), the SQL sink is exactly once per topic record (rows and
consumed offsets in one database transaction), and ``insert.mode=upsert`` keyed by the
line's own ``id`` makes a re-sent line rewrite the same row.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.connectors._pipeline import JSON, line, standalone_worker, value_of
from tests.connectors._pipeline import count as _count
from tests.connectors._pipeline import free_port as _free_port
from tests.connectors._pipeline import kill as _kill
from tests.connectors._pipeline import rows as _table
from tests.connectors._postgres import postgres
from tests.connectors.runtime._helpers import http, wait_for
from tidal.log.client.admin import AdminClient, NewTopic

pytestmark = pytest.mark.kafka

__all__ = ["postgres"]  # the session's PostgreSQL server, a fixture of this module

N = 10_000


def _worker(cwd: Path, bootstrap: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    # Kafka's smallest session timeout by default (group.min.session.timeout.ms): the
    # killed worker's sink consumer is out of the group 6 s later.
    return standalone_worker(cwd, bootstrap, port, log, session_ms=6000, heartbeat_ms=1000)


async def _status(port: int, name: str) -> tuple[int, Any]:
    return await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port}/connectors/{name}/status")


async def _running(port: int, names: list[str]) -> bool:
    for name in names:
        try:
            status, body = await _status(port, name)
        except OSError:
            return False
        if status != 200 or [t["state"] for t in body["tasks"]] != ["RUNNING"]:
            return False
    return True


async def test_file_to_postgres_through_kafka_jvm(
    kafka_jvm: Any, postgres: Any, tmp_path: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    suffix = uuid.uuid4().hex[:8]
    topic, source_name, sink_name = f"rows-{suffix}", f"lines-{suffix}", f"rows-db-{suffix}"
    names = [source_name, sink_name]
    bootstrap = kafka_jvm.bootstrap_servers
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    url = postgres.database()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line(k) for k in range(N)))
    log = tmp_path / "worker.log"
    (tmp_path / "source.properties").write_text(
        f"name={source_name}\nconnector.class=FileStreamSource\nfile={source}\ntopic={topic}\n"
        "batch.size=500\n"
    )
    (tmp_path / "sink.properties").write_text(
        f"name={sink_name}\nconnector.class=SqlSink\ntopics={topic}\nconnection.url={url}\n"
        "auto.create=true\ninsert.mode=upsert\npk.mode=record_value\npk.fields=id\n"
        f"value.converter={JSON}\nvalue.converter.schemas.enable=true\n"
    )
    context = f"seed {seed}; worker log {log}"
    worker = _worker(tmp_path, bootstrap, port := _free_port(), log)
    try:
        await wait_for(lambda: _running(port, names), 60, f"both connectors ({context})")
        # The REST API as a user checks a worker.
        status, listed = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port}/connectors")
        assert status == 200, listed
        assert sorted(listed) == sorted(names), listed
        for name, kind in ((source_name, "source"), (sink_name, "sink")):
            status, body = await _status(port, name)
            assert status == 200, body
            assert body["name"] == name, body
            assert body["type"] == kind, body
            assert body["connector"]["state"] == "RUNNING", body
            assert [t["state"] for t in body["tasks"]] == ["RUNNING"], body
            assert body["tasks"][0]["worker_id"] == body["connector"]["worker_id"], body

        target = rng.randint(N // 10, N // 2)
        await wait_for(lambda: _count(url, topic) >= target, 60, f"{target} rows ({context})")
        await _kill(worker)
        assert _count(url, topic) < N, f"the kill came after the end ({context})"
        worker = _worker(tmp_path, bootstrap, port := _free_port(), log)
        await wait_for(lambda: _running(port, names), 60, f"the restarted worker ({context})")
        await wait_for(lambda: _count(url, topic) >= N, 60, f"{N} rows ({context})")
        await asyncio.sleep(1.5)  # a duplicate or a late write would land now
        assert _count(url, topic) == N, context
    finally:
        await _kill(worker)
    assert _table(url, topic) == [(k, value_of(k)) for k in range(N)], context
