"""The processes Tidal owns raise the garbage-collector thresholds (``tidal._gc``):
a ``tidal connect standalone`` worker and a blocking ``App.run()``; ``TIDAL_GC_THRESHOLD``
sets others or keeps Python's, and a bad value is refused naming the variable."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.runtime._helpers import BROKER_CONFIG, wait_for
from tests.streams.runtime._helpers import BROKER_CONFIG as STREAMS_BROKER_CONFIG
from tests.streams.runtime._helpers import count_app
from tidal._gc import (
    ENV_VAR,
    THROUGHPUT_THRESHOLDS,
    GcThresholdError,
    parse_gc_threshold,
    throughput_gc,
)
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.producer import SyncProducer

ROOT = Path(__file__).resolve().parents[2]

# A connector that writes the worker's collector thresholds to a file when it starts.
PROBE_MODULE = """
import gc
import json
from pathlib import Path

from tidal.connectors.api import SourceConnector, SourceTask
from tidal.connectors.config import ConfigDef


class ProbeTask(SourceTask):
    def version(self):
        return "1"

    def start(self, props):
        pass

    def poll(self):
        return None

    def stop(self):
        pass


class ProbeConnector(SourceConnector):
    def version(self):
        return "1"

    def start(self, props):
        Path(props["out"]).write_text(json.dumps(gc.get_threshold()))

    def task_class(self):
        return ProbeTask

    def task_configs(self, max_tasks):
        return [{}]

    def stop(self):
        pass

    def config(self):
        return ConfigDef()
"""


@pytest.fixture
def python_defaults() -> Iterator[tuple[int, int, int]]:
    """The thresholds of this test process, put back whatever a test does."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def _worker(cwd: Path, gc_env: str | None, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{cwd}"
    if gc_env is not None:
        env[ENV_VAR] = gc_env
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "connect", "standalone", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("gc_env", "expected"),
    [
        (None, list(THROUGHPUT_THRESHOLDS)),
        ("", list(THROUGHPUT_THRESHOLDS)),
        ("5000,7,9", [5000, 7, 9]),
        ("off", [700, 10, 10]),
        ("0", [700, 10, 10]),
    ],
)
async def test_standalone_worker_thresholds(
    tmp_path: Path, gc_env: str | None, expected: list[int]
) -> None:
    (tmp_path / "gcprobe.py").write_text(PROBE_MODULE)
    out = tmp_path / "thresholds.json"
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
        (tmp_path / "worker.properties").write_text(
            f"bootstrap.servers={broker.bootstrap_servers}\n"
            f"listeners=http://127.0.0.1:{_free_port()}\n"
            f"offset.storage.file.filename={tmp_path / 'connect.offsets'}\n"
        )
        (tmp_path / "probe.properties").write_text(
            f"name=probe\nconnector.class=gcprobe.ProbeConnector\nout={out}\n"
        )
        proc = _worker(tmp_path, gc_env, "worker.properties", "probe.properties")
        try:
            await wait_for(lambda: _exists(out, proc), 60, "the probe connector started")
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 0, stderr
    assert json.loads(out.read_text()) == expected


async def _exists(path: Path, proc: subprocess.Popen[str]) -> bool:
    assert proc.poll() is None, "the worker exited"
    return path.exists()


@pytest.mark.parametrize("bad", ["abc", "100,x", "1,2,3,4", "-5", "0,10,10", "7e5"])
async def test_bad_value_is_refused_naming_the_variable(tmp_path: Path, bad: str) -> None:
    (tmp_path / "worker.properties").write_text(
        f"bootstrap.servers=127.0.0.1:1\nlisteners=http://127.0.0.1:{_free_port()}\n"
    )
    proc = _worker(tmp_path, bad, "worker.properties")
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 2, stderr
    assert stderr.startswith(f"Error: TIDAL_GC_THRESHOLD={bad!r}: "), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_parse() -> None:
    assert parse_gc_threshold("700,10,10") == (700, 10, 10)
    assert parse_gc_threshold(" 50000 ") == (50000,)
    assert parse_gc_threshold("50000, 5") == (50000, 5)
    assert parse_gc_threshold("OFF") is None
    assert parse_gc_threshold("0") is None
    with pytest.raises(GcThresholdError, match="TIDAL_GC_THRESHOLD='x'"):
        parse_gc_threshold("x")


def test_throughput_gc_sets_then_restores(python_defaults: tuple[int, int, int]) -> None:
    gc.set_threshold(701, 11, 12)
    with throughput_gc({}) as applied:
        assert applied == THROUGHPUT_THRESHOLDS
        assert gc.get_threshold() == THROUGHPUT_THRESHOLDS
    assert gc.get_threshold() == (701, 11, 12)
    with throughput_gc({ENV_VAR: "off"}) as applied:
        assert applied is None
        assert gc.get_threshold() == (701, 11, 12)


def test_app_run_raises_thresholds_and_restores_them(
    tmp_path: Path, python_defaults: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    seen: list[tuple[int, int, int]] = []
    with EmbeddedBroker.sync(tmp_path / "broker", STREAMS_BROKER_CONFIG) as broker:
        with SyncProducer(bootstrap_servers=broker.bootstrap_servers) as producer:
            producer.send("words", b"x", key=b"a").result(timeout=10)  # creates the topic
        app = count_app(broker.bootstrap_servers, tmp_path / "state")

        def look_then_stop() -> None:
            seen.append(gc.get_threshold())
            app.stop()

        stopper = threading.Timer(2.0, look_then_stop)
        stopper.start()
        try:
            app.run(timeout=30)
        finally:
            stopper.cancel()
    assert seen == [THROUGHPUT_THRESHOLDS]
    assert gc.get_threshold() == python_defaults
