"""``tidal connect standalone`` as a subprocess: a file pipeline stopped with SIGTERM resumes
from its stored offsets without duplicates; bad files are one line naming file and key."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
import zlib
from pathlib import Path

import pytest

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    STRING,
    http,
    lines,
    read_available,
    read_topic,
    wait_for,
)
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def connect(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "connect", "standalone", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


async def _running(url: str, name: str) -> bool:
    try:
        status, body = await asyncio.to_thread(http, "GET", f"{url}/connectors/{name}/status")
    except OSError:
        return False
    return status == 200 and [t["state"] for t in body["tasks"]] == ["RUNNING"]


async def _put(url: str, count: int) -> bool:
    def get() -> str:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text: str = response.read().decode()
            return text

    try:
        metrics = await asyncio.to_thread(get)
    except OSError:
        return False
    line = 'tidal_connect_sink_record_send_total{connector="file-sink",task="0"} '
    return f"{line}{count}.0" in metrics


async def test_sigterm_commits_and_a_restart_resumes_without_duplicates(tmp_path: Path) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"record {i}\n" for i in range(50)))
    port = _free_port()
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        (tmp_path / "worker.properties").write_text(
            f"# a standalone worker\n"
            f"bootstrap.servers={broker.bootstrap_servers}\n"
            f"listeners=http://127.0.0.1:{port}\n"
            f"offset.storage.file.filename={tmp_path / 'connect.offsets'}\n"
            "offset.flush.interval.ms=600000\n"  # only the final commit commits
            f"key.converter={STRING}\nvalue.converter={STRING}\n"
            "plugin.path=/usr/share/java\n"
        )
        (tmp_path / "source.properties").write_text(
            f"name=file-source\nconnector.class=FileStreamSource\nfile={source}\ntopic=lines\n"
        )
        (tmp_path / "sink.json").write_text(json.dumps({"name": "file-sink", "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "file": str(sink), "topics": "lines", "tasks.max": 1}}))  # fmt: skip
        args = ("worker.properties", "source.properties", "sink.json")
        url = f"http://127.0.0.1:{port}"

        proc = connect(tmp_path, *args)
        try:
            # The sink's lines reach the file at put (as Kafka's do); its offsets
            # are committed only by the final commit.
            await wait_for(lambda: _put(url, 50), 30, "the first 50 records put")
            assert await _running(url, "file-source")
            assert lines(sink) == [f"record {i}" for i in range(50)]
            assert not (tmp_path / "connect.offsets").exists()
        finally:
            stdout, stderr = await _stop(proc)
        assert proc.returncode == 0, stderr
        assert f"Tidal Connect standalone worker on {url}" in stdout
        stored = json.loads((tmp_path / "connect.offsets").read_text())
        assert stored == [
            [["file-source", {"filename": str(source)}], {"position": source.stat().st_size}]
        ]

        with source.open("a") as f:
            f.write("".join(f"record {i}\n" for i in range(50, 70)))
        proc = connect(tmp_path, *args)
        try:
            await wait_for(lambda: _put(url, 20), 30, "the next 20 records put")
            await asyncio.sleep(0.5)
        finally:
            _, stderr = await _stop(proc)
        assert proc.returncode == 0, stderr
        assert sink.read_text() == source.read_text()
        records = await read_topic(broker.bootstrap_servers, "lines", 70)
        assert [r.value.decode() for r in records] == lines(source)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("worker", "connector", "message"),
    [
        ("offset.flush.interval.ms=soon\n", None,
         "worker.properties: Invalid value soon for configuration offset.flush.interval.ms"),
        ("listeners=https://127.0.0.1:8443\n", None,
         "worker.properties: Invalid value https://127.0.0.1:8443 for configuration listeners"),
        ("", "connector.class=FileStreamSource\n",
         "connector.properties: key 'name': a connector file must name the connector"),
        ("", "name=x\nconnector.class=FileStreamSink\nfile=/tmp/x\n",
         "connector.properties: Connector configuration is invalid and contains the following 2 "
         "error(s):; Invalid value  for configuration topics: Must configure one of topics"),
        ("", "name=x\nconnector.class=NoSuchThing\n", "connector.properties: Failed to find"),
        ("", "{not json", "connector.properties: not valid JSON"),
        ("exactly.once.source.support=enabled\n", None,
         "worker.properties: key 'exactly.once.source.support': enabled needs distributed mode"),
    ],
)  # fmt: skip
async def test_bad_files_are_one_line_and_exit_2(
    tmp_path: Path, worker: str, connector: str | None, message: str
) -> None:
    (tmp_path / "worker.properties").write_text(
        f"bootstrap.servers=127.0.0.1:1\nlisteners=http://127.0.0.1:{_free_port()}\n{worker}"
    )
    args = ["worker.properties"]
    if connector is not None:
        (tmp_path / "connector.properties").write_text(connector)
        args.append("connector.properties")
    proc = connect(tmp_path, *args)
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 2, stderr
    error_lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, stderr
    assert error_lines[0].startswith(f"Error: {message}"), stderr


async def test_missing_worker_file(tmp_path: Path) -> None:
    proc = connect(tmp_path, "nope.properties")
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
    assert (proc.returncode, stderr.strip()) == (2, "Error: nope.properties: no such file")


COUNTER_MODULE = """
import logging
import time

from tidal.connectors.api import Schema, SourceConnector, SourceRecord, SourceTask
from tidal.connectors.config import ConfigDef


class CounterTask(SourceTask):
    def version(self):
        return "1"

    def start(self, props):
        self.topic, self.n = props["topic"], 0

    def poll(self):
        if self.n >= 3:
            time.sleep(0.05)
            return None
        self.n += 1
        return [SourceRecord(topic=self.topic, value=str(self.n), value_schema=Schema.STRING_SCHEMA,
                             source_partition={"c": 0}, source_offset={"n": self.n})]

    def stop(self):
        return


class CounterConnector(SourceConnector):
    def version(self):
        return "1"

    def start(self, props):
        self.props = dict(props)
        logging.getLogger("counter").warning("counter connector started")

    def task_class(self):
        return CounterTask

    def task_configs(self, max_tasks):
        return [dict(self.props)]

    def stop(self):
        return

    def config(self):
        return ConfigDef()
"""


async def _run_counter(tmp_path: Path) -> tuple[str, list[str]]:
    """A standalone worker whose connector class is ``counter.CounterConnector`` of
    ``./counter.py``; its stderr and the values the connector wrote."""
    (tmp_path / "counter.py").write_text(COUNTER_MODULE)
    port = _free_port()
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        (tmp_path / "worker.properties").write_text(
            f"bootstrap.servers={broker.bootstrap_servers}\n"
            f"listeners=http://127.0.0.1:{port}\n"
            f"key.converter={STRING}\nvalue.converter={STRING}\n"
        )
        (tmp_path / "counter.properties").write_text(
            "name=counter\nconnector.class=counter.CounterConnector\ntopic=counts\n"
        )
        # -P: no working directory on sys.path, as when the `tidal` console script runs.
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "tidal", "connect", "standalone",
             "worker.properties", "counter.properties"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            records = await read_topic(broker.bootstrap_servers, "counts", 3, timeout=30)
        finally:
            _, stderr = await _stop(proc)
        assert proc.returncode == 0, stderr
        return stderr, [r.value.decode() for r in records]  # type: ignore[union-attr]


async def test_connector_class_found_in_the_working_directory(tmp_path: Path) -> None:
    stderr, values = await _run_counter(tmp_path)
    assert "could not be found" not in stderr
    assert values == ["1", "2", "3"]


async def test_log_lines_use_the_broker_timestamp_format(tmp_path: Path) -> None:
    stderr, _ = await _run_counter(tmp_path)
    line = next(line for line in stderr.splitlines() if "counter connector started" in line)
    # As `tidal broker start` and `tidal run` log: ISO 8601 in UTC, milliseconds, "Z".
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING counter: counter connector started"
    assert re.fullmatch(pattern, line), line


def _distributed(cwd: Path, worker: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "connect", "distributed", worker],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def _up(url: str) -> bool:
    try:
        status, _ = await asyncio.to_thread(http, "GET", url + "/")
    except OSError:
        return False
    return status == 200


async def test_distributed_worker_killed_hands_its_connectors_over(tmp_path: Path) -> None:
    slots = 4
    names: dict[int, str] = {}
    i = 0
    while len(names) < slots:  # one connector per slot: both workers get some
        names.setdefault(zlib.crc32(f"src{i}".encode()) % slots, f"src{i}")
        i += 1
    connectors = sorted(names.values())
    ports = [_free_port(), _free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        for n, port in enumerate(ports):
            (tmp_path / f"worker{n}.properties").write_text(
                f"bootstrap.servers={broker.bootstrap_servers}\ngroup.id=cluster\n"
                f"listeners=http://127.0.0.1:{port}\noffset.flush.interval.ms=200\n"
                f"key.converter={STRING}\nvalue.converter={STRING}\n"
                f"session.timeout.ms=3000\nheartbeat.interval.ms=300\n"
                f"offset.storage.partitions={slots}\n"
            )
        procs = [_distributed(tmp_path, f"worker{n}.properties") for n in range(2)]
        try:
            for url in urls:
                await wait_for(lambda url=url: _up(url), 30, f"{url} to serve")
            for name in connectors:
                (tmp_path / f"{name}.txt").write_text("".join(f"{name} {k}\n" for k in range(20)))
                config = {"connector.class": "FileStreamSource",
                          "file": str(tmp_path / f"{name}.txt"), "topic": "lines"}  # fmt: skip
                status, body = await asyncio.to_thread(
                    http, "POST", urls[0] + "/connectors", {"name": name, "config": config}
                )
                assert status == 201, body
            owners: dict[str, str] = {}

            async def running_on(url: str, allowed: set[str]) -> bool:
                for name in connectors:
                    _, body = await asyncio.to_thread(
                        http, "GET", f"{url}/connectors/{name}/status"
                    )
                    tasks = body["tasks"]
                    if [t["state"] for t in tasks] != ["RUNNING"] or tasks[0][
                        "worker_id"
                    ] not in allowed:
                        return False
                    owners[name] = tasks[0]["worker_id"]
                return True

            both = {f"127.0.0.1:{p}" for p in ports}
            await wait_for(lambda: running_on(urls[0], both), 30, "every connector running")
            assert set(owners.values()) == both
            for name in connectors:
                with (tmp_path / f"{name}.txt").open("a") as f:
                    f.write("".join(f"{name} {k}\n" for k in range(20, 40)))
            procs[1].kill()  # SIGKILL: no final commit, no LeaveGroup
            procs[1].communicate(timeout=30)
            for name in connectors:
                with (tmp_path / f"{name}.txt").open("a") as f:
                    f.write("".join(f"{name} {k}\n" for k in range(40, 50)))
            await wait_for(
                lambda: running_on(urls[0], {f"127.0.0.1:{ports[0]}"}), 60, "the hand-over"
            )
            expected = {f"{name} {k}" for name in connectors for k in range(50)}
            seen: set[str] = set()

            async def everything() -> bool:
                records = await read_available(broker.bootstrap_servers, "lines")
                seen.update(r.value.decode() for r in records)  # type: ignore[union-attr]
                return expected <= seen

            await wait_for(everything, 30, "every line in the topic")
            assert seen == expected
        finally:
            _, stderr = await _stop(procs[0])
            if procs[1].poll() is None:
                procs[1].kill()
                procs[1].communicate()
        assert procs[0].returncode == 0, stderr


async def _committed_values(bootstrap: str, topic: str) -> list[bytes]:
    """What a read_committed consumer sees in partition 0 of ``topic``."""
    async with Consumer(bootstrap_servers=bootstrap, isolation_level="read_committed") as consumer:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        values: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                values.extend(r.value for r in records if r.value is not None)
        return values


async def test_exactly_once_source_survives_a_killed_worker(tmp_path: Path) -> None:
    """SIGKILL mid-stream: the open transaction is aborted when the task starts elsewhere,
    and read_committed consumers see every line exactly once."""
    source = tmp_path / "in.txt"
    lines_in = [f"line {k}" for k in range(5000)]
    source.write_text("".join(f"{x}\n" for x in lines_in))
    ports = [_free_port(), _free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        for n, port in enumerate(ports):
            (tmp_path / f"worker{n}.properties").write_text(
                f"bootstrap.servers={bootstrap}\ngroup.id=eos\nexactly.once.source.support=enabled\n"
                f"listeners=http://127.0.0.1:{port}\nkey.converter={STRING}\n"
                f"value.converter={STRING}\nsession.timeout.ms=3000\nheartbeat.interval.ms=300\n"
                "offset.storage.partitions=2\n"
            )
        procs = [_distributed(tmp_path, f"worker{n}.properties") for n in range(2)]
        try:
            for url in urls:
                await wait_for(lambda url=url: _up(url), 30, f"{url} to serve")
            config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "eos",
                      "batch.size": "50", "exactly.once.support": "required"}  # fmt: skip
            status, body = await asyncio.to_thread(
                http, "POST", urls[0] + "/connectors", {"name": "eos-source", "config": config}
            )
            assert status == 201, body
            owner: list[str] = []

            async def running() -> bool:
                _, body = await asyncio.to_thread(
                    http, "GET", urls[0] + "/connectors/eos-source/status"
                )
                tasks = body["tasks"]
                if [t["state"] for t in tasks] == ["RUNNING"]:
                    owner[:] = [tasks[0]["worker_id"]]
                    return True
                return False

            await wait_for(running, 30, "the source to run")
            victim = ports.index(int(owner[0].rsplit(":", 1)[1]))
            survivor = 1 - victim
            await wait_for(lambda: _some_committed(bootstrap), 30, "the first transactions")
            procs[victim].kill()  # mid-stream, no final commit, a transaction likely open
            procs[victim].communicate(timeout=30)
            assert len(await _committed_values(bootstrap, "eos")) < len(lines_in)
            with source.open("a") as f:
                f.write("after the kill\n")
            expected = [x.encode() for x in [*lines_in, "after the kill"]]

            async def complete() -> bool:
                return len(await _committed_values(bootstrap, "eos")) >= len(expected)

            await wait_for(complete, 90, "every line committed")
            await asyncio.sleep(1)  # anything extra would show up now
            assert await _committed_values(bootstrap, "eos") == expected
            _, body = await asyncio.to_thread(
                http, "GET", urls[survivor] + "/connectors/eos-source/status"
            )
            assert body["tasks"][0]["worker_id"] == f"127.0.0.1:{ports[survivor]}"
        finally:
            for proc in procs:
                if proc.poll() is None:
                    await _stop(proc)


async def _some_committed(bootstrap: str) -> bool:
    try:
        return len(await _committed_values(bootstrap, "eos")) > 0
    except Exception:  # noqa: BLE001 (the topic may not exist yet)
        return False
