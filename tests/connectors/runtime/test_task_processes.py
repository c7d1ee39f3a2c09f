"""``task.processes``: a worker's tasks run in child processes (``_task_host``) while the
worker keeps REST, statuses, metrics and the standalone offsets file.

Plugins a task process loads must be importable in a fresh interpreter, so the plugins of
these tests are the built-in file connectors or modules written to ``tmp_path`` (the worker
hands its ``sys.path`` to its task processes).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, TextIO

import pytest

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    STRING,
    call,
    lines,
    read_available,
    read_topic,
    wait_for,
    worker_props,
)
from tidal.connectors.builtin import FileStreamSourceConnector
from tidal.connectors.config import ConfigError
from tidal.connectors.plugins import Plugins
from tidal.connectors.rest import ConnectWorker
from tidal.connectors.runtime import Herder, State, WorkerConfig, WorkerPlugins
from tidal.connectors.runtime._processes import ProcessTask, TaskProcesses
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition

ROOT = Path(__file__).resolve().parents[3]
TASK_HOST = "tidal.connectors.runtime._task_host"


def _numbered(start: int, stop: int) -> str:
    return "".join(f"line {i}\n" for i in range(start, stop))


def _append(path: Path, start: int, stop: int) -> None:
    with path.open("a") as f:
        f.write(_numbered(start, stop))


def _source(path: Path, topic: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSource", "file": str(path), "topic": topic}


def _sink(path: Path, topic: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSink", "file": str(path), "topics": topic}


def _is_task_host(pid: int) -> bool:
    """A live (not yet reaped) task process."""
    try:
        return TASK_HOST in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    except OSError:
        return False


def _processes(herder: Herder) -> TaskProcesses:
    assert herder.env.processes is not None
    return herder.env.processes


def _process_task(herder: Herder, name: str) -> ProcessTask:
    task = herder.runner(name).tasks[0]
    assert isinstance(task, ProcessTask)
    return task


async def _values(bootstrap: str, topic: str) -> list[str]:
    return [r.value.decode() for r in await read_available(bootstrap, topic)]


async def _metrics(url: str) -> str:
    """``GET /metrics``: the worker's Prometheus text."""

    def get() -> str:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(get)


async def _states(url: str, name: str) -> tuple[str, list[str]]:
    _, body = await call("GET", f"{url}/connectors/{name}/status")
    return body["connector"]["state"], [t["state"] for t in body["tasks"]]


async def _is(url: str, name: str, state: str) -> bool:
    """The connector and its one task are in ``state``."""
    return await _states(url, name) == (state, [state])


async def test_a_file_pipeline_runs_in_two_task_processes(tmp_path: Path) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text(_numbered(0, 20))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        props = worker_props(bootstrap, tmp_path, task_processes="2")
        async with ConnectWorker(props) as worker:
            url, herder = worker.url, worker.herder
            for name, config in (("src", _source(source)), ("sink", _sink(sink))):
                status, body = await call("POST", url + "/connectors",
                                          {"name": name, "config": config})  # fmt: skip
                assert status == 201, body
            await wait_for(lambda: len(lines(sink)) == 20, 30, "20 lines in the sink file")
            assert sink.read_text() == source.read_text()

            # One task per process, neither of them this one.
            pids = {_process_task(herder, "src").pid, _process_task(herder, "sink").pid}
            assert len(pids) == 2
            assert os.getpid() not in pids
            assert pids == set(_processes(herder).pids)
            assert all(_is_task_host(pid) for pid in pids if pid is not None)
            for name in ("src", "sink"):
                _, body = await call("GET", f"{url}/connectors/{name}/status")
                assert [(t["state"], t["worker_id"]) for t in body["tasks"]] == [
                    ("RUNNING", herder.worker_id)
                ]

            # Metrics and topics counted in the task processes, served by the worker.
            wanted = [
                f'tidal_connect_{metric}_total{{connector="{name}",task="0"}} 20.0'
                for name, metric in (("src", "source_record_poll"), ("src", "source_record_write"),
                                     ("sink", "sink_record_read"), ("sink", "sink_record_send"))
            ]  # fmt: skip

            async def counted() -> bool:
                text = await _metrics(url)
                return all(line in text for line in wanted)

            await wait_for(counted, 10, "the task processes' counts")
            for name in ("src", "sink"):
                assert await call("GET", f"{url}/connectors/{name}/topics") == (
                    200, {name: {"connector": name, "topics": ["lines"]}},
                )  # fmt: skip

            # A paused sink writes nothing: the new lines reach the topic (and the source's
            # write count, forwarded a second later) but not the file.
            assert (await call("PUT", url + "/connectors/sink/pause"))[0] == 202
            await wait_for(lambda: _is(url, "sink", "PAUSED"), 10, "the sink PAUSED")
            _append(source, 20, 25)
            await read_topic(bootstrap, "lines", 25)
            written = 'tidal_connect_source_record_write_total{connector="src",task="0"} 25.0'
            await wait_for(lambda: written in herder.metrics.render().decode(), 10, "25 written")
            assert len(lines(sink)) == 20
            assert await _states(url, "src") == ("RUNNING", ["RUNNING"])
            assert (await call("PUT", url + "/connectors/sink/resume"))[0] == 202
            await wait_for(lambda: len(lines(sink)) == 25, 10, "the paused lines")
            assert await _states(url, "sink") == ("RUNNING", ["RUNNING"])

            # A restarted source task resumes from its committed position.
            before = _process_task(herder, "src")
            assert (await call("POST", url + "/connectors/src/tasks/0/restart"))[0] == 204
            after = _process_task(herder, "src")
            assert after is not before
            assert before.done
            await wait_for(lambda: _is(url, "src", "RUNNING"), 10, "the source running again")
            assert after.pid in _processes(herder).pids
            _append(source, 25, 30)
            await wait_for(lambda: len(lines(sink)) == 30, 10, "the lines after the restart")
            assert sink.read_text() == source.read_text()

            # A deleted connector's task ends in its process, which goes on.
            sink_task = _process_task(herder, "sink")
            assert await call("DELETE", url + "/connectors/sink") == (204, None)
            assert sink_task.done
            # Its process said it ended (the worker did not give up on it after a timeout).
            assert sink_task._ended.done()
            assert sink_task._ended.exception() is None
            assert sink_task.status.state is State.UNASSIGNED
            assert sink_task.pid in _processes(herder).pids
        # The worker stopped: so did its task processes.
        assert _processes(herder).pids == []
        assert not any(_is_task_host(pid) for pid in pids if pid is not None)


async def test_a_standalone_workers_offsets_file_resumes_a_task_process(tmp_path: Path) -> None:
    source, offsets = tmp_path / "in.txt", tmp_path / "connect.offsets"
    source.write_text(_numbered(0, 10))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        props = worker_props(bootstrap, tmp_path, task_processes="2")
        herder = Herder(WorkerConfig(props), worker_id="w1")
        await herder.start()
        try:
            await herder.create_connector("src", _source(source))
            await read_topic(bootstrap, "lines", 10)
        finally:
            await herder.stop()
        # The task process asked the worker, which wrote the file.
        assert json.loads(offsets.read_text()) == [
            [["src", {"filename": str(source)}], {"position": source.stat().st_size}]
        ]
        # What a task counted before it stopped reached the worker's metrics.
        text = herder.metrics.render().decode()
        for metric in ("source_record_poll", "source_record_write"):
            assert f'tidal_connect_{metric}_total{{connector="src",task="0"}} 10.0' in text

        _append(source, 10, 15)
        herder = Herder(WorkerConfig(props), worker_id="w2")
        await herder.start()
        try:
            await herder.create_connector("src", _source(source))
            await read_topic(bootstrap, "lines", 15)
        finally:
            await herder.stop()
        assert await _values(bootstrap, "lines") == lines(source)


async def test_a_task_process_is_the_workers_to_stop(tmp_path: Path) -> None:
    """SIGTERM or SIGINT sent to a task process alone does not stop its tasks behind the
    worker's back (they would end and show UNASSIGNED while the worker thinks them
    running): the worker stops them, as it does on its own SIGTERM."""
    source = tmp_path / "in.txt"
    source.write_text(_numbered(0, 10))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        herder = Herder(WorkerConfig(worker_props(bootstrap, tmp_path, task_processes="1")),
                        worker_id="w")  # fmt: skip
        await herder.start()
        try:
            await herder.create_connector("src", _source(source))
            await read_topic(bootstrap, "lines", 10)
            pid = _process_task(herder, "src").pid
            assert pid is not None
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGINT)
            _append(source, 10, 15)
            await read_topic(bootstrap, "lines", 15)
            assert _is_task_host(pid)
            assert herder.task_status("src", 0)["state"] == "RUNNING"
            assert _process_task(herder, "src").pid == pid
        finally:
            await herder.stop()
        assert not _is_task_host(pid)


async def test_a_killed_task_process_fails_its_task_and_a_restart_runs_it_again(
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.txt"
    source.write_text(_numbered(0, 10))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        herder = Herder(WorkerConfig(worker_props(bootstrap, tmp_path, task_processes="1")),
                        worker_id="w")  # fmt: skip
        await herder.start()
        try:
            await herder.create_connector("src", _source(source))
            await read_topic(bootstrap, "lines", 10)
            position = {"position": source.stat().st_size}
            await wait_for(
                lambda: [o for _, o in herder.offsets.offsets("src")] == [position],
                10, "the committed position",
            )  # fmt: skip
            killed = _process_task(herder, "src")
            pid = killed.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)

            def failed() -> bool:
                return herder.runner("src").task_status(0).state is State.FAILED

            await wait_for(failed, 10, "the task FAILED")
            trace = herder.task_status("src", 0)["trace"]
            assert f"task process {pid} closed its channel" in trace
            assert f"exited with code {-signal.SIGKILL}" in trace
            assert _processes(herder).pids == []
            assert not _is_task_host(pid)
            # Its end of the channel is closed now, not left to the garbage collector.
            assert killed._host is not None
            assert killed._host._channel is not None
            assert killed._host._channel._writer.is_closing()

            _append(source, 10, 15)
            await herder.restart_task("src", 0)
            await wait_for(lambda: herder.task_status("src", 0)["state"] == "RUNNING", 10,
                           "the task RUNNING again")  # fmt: skip
            new_pid = _process_task(herder, "src").pid
            assert new_pid != pid
            assert _processes(herder).pids == [new_pid]
            await read_topic(bootstrap, "lines", 15)
        finally:
            await herder.stop()
        assert await _values(bootstrap, "lines") == lines(source)


class WorkerOnlySource(FileStreamSourceConnector):
    """Known to the worker's plugins only: a task process cannot find it."""


def _source_plugin(task: str) -> str:
    """The text of a plugin module whose ``Source`` connector runs ``Task``, a source task
    with the given ``start``/``poll``/``stop`` bodies (each one indented line), for a task
    process to import from ``tmp_path``."""
    start, poll, stop = task.strip("\n").split("\n")
    return f"""
import time
from pathlib import Path

from tidal.connectors.api import SourceConnector, SourceTask
from tidal.connectors.config import ConfigDef


class Task(SourceTask):
    def version(self):
        return "1"

    def start(self, props):
{start}

    def poll(self):
{poll}

    def stop(self):
{stop}


class Source(SourceConnector):
    def version(self):
        return "1"

    def start(self, props):
        self.props = dict(props)

    def task_class(self):
        return Task

    def task_configs(self, max_tasks):
        return [dict(self.props)]

    def stop(self):
        return

    def config(self):
        return ConfigDef()
"""


#: Fails its first poll.
BOOM_MODULE = _source_plugin("""
        return
        raise RuntimeError("boom in a task process")
        return
""")


async def test_a_task_that_fails_in_its_process_shows_failed_with_the_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tp_boom_plugin.py").write_text(BOOM_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        props = worker_props(broker.bootstrap_servers, tmp_path, task_processes="1")
        plugins = WorkerPlugins(Plugins([WorkerOnlySource]))
        herder = Herder(WorkerConfig(props), worker_id="w", plugins=plugins)
        await herder.start()
        try:
            await herder.create_connector("nowhere", {
                **_source(tmp_path / "in.txt"), "connector.class": "WorkerOnlySource",
            })  # fmt: skip
            await herder.create_connector("boom", {"connector.class": "tp_boom_plugin.Source"})

            def failed() -> bool:
                return all(
                    herder.task_status(n, 0)["state"] == "FAILED" for n in ("nowhere", "boom")
                )

            await wait_for(failed, 15, "both tasks FAILED")
            nowhere, boom = herder.task_status("nowhere", 0), herder.task_status("boom", 0)
            assert "LookupError" in nowhere["trace"]
            assert "WorkerOnlySource" in nowhere["trace"]
            assert "RuntimeError: boom in a task process" in boom["trace"]
            for name in ("nowhere", "boom"):  # the connectors themselves run in the worker
                assert herder.connector_status(name)["connector"]["state"] == "RUNNING"
            assert len(_processes(herder).pids) == 1  # the process serves on
        finally:
            await herder.stop()


@pytest.mark.parametrize(
    ("value", "why"), [("-1", "Value must be at least 0"), ("two", "Not a number of type INT")]
)
def test_a_bad_task_processes_value_is_refused(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as refused:
        WorkerConfig({"task.processes": value})
    assert str(refused.value) == f"Invalid value {value} for configuration task.processes: {why}"


def _standalone(
    cwd: Path, *args: str, session: bool = False, log: TextIO | None = None
) -> subprocess.Popen[str]:
    """``tidal connect standalone ARGS`` in ``cwd``; its output piped, or into ``log`` (a
    task process outliving its worker would hold the pipes open)."""
    out = subprocess.PIPE if log is None else log
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "connect", "standalone", *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
        stdout=out, stderr=subprocess.PIPE if log is None else subprocess.STDOUT,
        start_new_session=session,
    )  # fmt: skip


def _worker_file(tmp_path: Path, bootstrap: str, task_processes: int, *extra: str) -> None:
    """``tmp_path/worker.properties``: a standalone worker with an offsets file, string
    converters, ``task.processes`` and the ``extra`` lines."""
    (tmp_path / "worker.properties").write_text(
        f"bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:0\n"
        f"offset.storage.file.filename={tmp_path / 'connect.offsets'}\n"
        f"key.converter={STRING}\nvalue.converter={STRING}\ntask.processes={task_processes}\n"
        + "".join(line + "\n" for line in extra)
    )


async def test_the_command_line_refuses_a_bad_task_processes_value(tmp_path: Path) -> None:
    (tmp_path / "worker.properties").write_text(
        "bootstrap.servers=127.0.0.1:1\nlisteners=http://127.0.0.1:0\ntask.processes=-1\n"
    )
    proc = _standalone(tmp_path, "worker.properties")
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 2, stderr
    assert [line for line in stderr.splitlines() if line.startswith("Error: ")] == [
        "Error: worker.properties: Invalid value -1 for configuration task.processes: "
        "Value must be at least 0"
    ], stderr


def _task_hosts_of(parent: int) -> list[int]:
    """The task processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and _is_task_host(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


@pytest.mark.parametrize("group", [False, True], ids=["worker", "process-group"])
async def test_standalone_command_with_task_processes_stops_cleanly_on_sigterm(
    tmp_path: Path, group: bool
) -> None:
    """SIGTERM to the worker, or to its whole process group (as systemd stops a service):
    every task stops with its final commit, at once and with nothing logged as failed."""
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text(_numbered(0, 20))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        _worker_file(
            tmp_path, broker.bootstrap_servers, 2,
            "offset.flush.interval.ms=600000",  # only the final commit commits
            # A stop that waited for this timeout would outlast communicate()'s.
            "task.shutdown.graceful.timeout.ms=60000",
        )  # fmt: skip
        (tmp_path / "src.properties").write_text(
            f"name=src\nconnector.class=FileStreamSource\nfile={source}\ntopic=lines\n"
        )
        (tmp_path / "sink.properties").write_text(
            f"name=sink\nconnector.class=FileStreamSink\nfile={sink}\ntopics=lines\n"
        )
        args = ("worker.properties", "src.properties", "sink.properties")
        proc = _standalone(tmp_path, *args, session=group)
        try:
            await wait_for(lambda: len(lines(sink)) == 20, 30, "20 lines in the sink file")
            hosts = _task_hosts_of(proc.pid)
            assert len(hosts) == 2
            _append(source, 20, 25)
            await wait_for(lambda: len(lines(sink)) == 25, 10, "the appended lines")
        finally:
            if group:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGTERM)
            try:
                _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode == 0, stderr
        assert " ERROR " not in stderr, stderr
        assert not any(_is_task_host(pid) for pid in hosts)
        assert sink.read_text() == source.read_text()
        assert json.loads((tmp_path / "connect.offsets").read_text()) == [
            [["src", {"filename": str(source)}], {"position": source.stat().st_size}]
        ]


def _distributed_props(bootstrap: str) -> dict[str, str]:
    return {
        "bootstrap.servers": bootstrap, "listeners": "http://127.0.0.1:0", "group.id": "tp",
        "offset.flush.interval.ms": "200", "key.converter": STRING, "value.converter": STRING,
        "session.timeout.ms": "3000", "heartbeat.interval.ms": "300",
        "offset.storage.partitions": "2", "status.storage.partitions": "1",
        "config.storage.replication.factor": "1", "task.processes": "1",
    }  # fmt: skip


async def _stored_offsets(bootstrap: str) -> dict[str, Any]:
    """The latest value per key of the offsets topic."""
    latest: dict[str, Any] = {}
    for record in await read_available(bootstrap, "connect-offsets"):
        assert record.key is not None
        latest[record.key.decode()] = json.loads(record.value) if record.value else None
    return latest


async def test_a_distributed_worker_runs_its_task_in_a_task_process(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text(_numbered(0, 10))
    key = json.dumps(["src", {"filename": str(source)}], separators=(",", ":"))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        async with ConnectWorker(_distributed_props(bootstrap), distributed=True) as worker:
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": "src", "config": _source(source)})  # fmt: skip
            assert status == 201, body
            await read_topic(bootstrap, "lines", 10, timeout=30)
            pids = _processes(worker.herder).pids
            assert len(pids) == 1
            assert pids[0] != os.getpid()
            assert await _states(worker.url, "src") == ("RUNNING", ["RUNNING"])
            position = {"position": source.stat().st_size}

            async def stored() -> bool:
                return (await _stored_offsets(bootstrap)).get(key) == position

            await wait_for(stored, 10, "the position in the offsets topic")
        assert not _is_task_host(pids[0])

        _append(source, 10, 15)
        async with ConnectWorker(_distributed_props(bootstrap), distributed=True) as worker:
            await read_topic(bootstrap, "lines", 15, timeout=30)
        assert await _values(bootstrap, "lines") == lines(source)
        assert (await _stored_offsets(bootstrap))[key] == {"position": source.stat().st_size}


async def test_an_exactly_once_source_runs_in_a_task_process(tmp_path: Path) -> None:
    """``exactly.once.source.support=enabled``: the task process writes each poll's records
    and its source offsets in one transaction of its own transactional producer."""
    source = tmp_path / "in.txt"
    source.write_text(_numbered(0, 10))
    key = json.dumps(["src", {"filename": str(source)}], separators=(",", ":"))
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        props = {**_distributed_props(bootstrap), "exactly.once.source.support": "enabled"}
        async with ConnectWorker(props, distributed=True) as worker:
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": "src", "config": _source(source)})  # fmt: skip
            assert status == 201, body
            position = {"position": source.stat().st_size}

            async def stored() -> bool:
                return (await _stored_offsets(bootstrap)).get(key) == position

            await wait_for(stored, 30, "the position in the offsets topic")
            assert len(_processes(worker.herder).pids) == 1
            async with Consumer(
                bootstrap_servers=bootstrap, isolation_level="read_committed"
            ) as consumer:
                tp = TopicPartition("lines", 0)
                end = (await consumer.end_offsets([tp]))[tp]
            # Ten records and at least one transaction marker after them.
            assert end > 10
            assert await _values(bootstrap, "lines") == lines(source)


#: Writes ``started`` into its ``folder`` when it starts and ``stopped`` when it stops.
MARKER_MODULE = _source_plugin("""
        self.folder = Path(props["folder"]); (self.folder / "started").write_text("")
        time.sleep(0.01); return []
        (self.folder / "stopped").write_text("")
""")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
async def test_the_tasks_of_a_killed_worker_die_with_it(tmp_path: Path, how: str) -> None:
    """A worker killed with SIGKILL takes its task processes with it, as a JVM takes its
    task threads: at once (not after ``task.shutdown.graceful.timeout.ms``), and no task
    goes on to stop, flush or commit while a replacement worker may already be starting.
    A worker stopped with SIGTERM stops its tasks first."""
    (tmp_path / "tp_marker_plugin.py").write_text(MARKER_MODULE)
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        _worker_file(tmp_path, broker.bootstrap_servers, 1,
                     "task.shutdown.graceful.timeout.ms=60000")  # fmt: skip
        (tmp_path / "marker.properties").write_text(
            f"name=marker\nconnector.class=tp_marker_plugin.Source\nfolder={tmp_path}\n"
        )
        with (tmp_path / "worker.log").open("w") as log:
            proc = _standalone(tmp_path, "worker.properties", "marker.properties", log=log)
        try:
            await wait_for((tmp_path / "started").exists, 30, "the task to start")
            hosts = _task_hosts_of(proc.pid)
            assert len(hosts) == 1
            proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 30)
        finally:
            if proc.poll() is None:
                proc.kill()
                await asyncio.to_thread(proc.wait, 30)
        await wait_for(lambda: not _is_task_host(hosts[0]), 15, "the task process to exit")
    assert (tmp_path / "stopped").exists() == (how == "SIGTERM")
