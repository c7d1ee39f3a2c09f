"""``tidal run MODULE:APP`` as a subprocess: settings from flags and the
environment, a final commit on SIGTERM, one-line errors for bad targets."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    committed,
    create_topic,
    latest_counts,
    produce,
    read_all,
    read_to_end,
    wait_for,
)
from tests.streams.runtime._topology import INPUT, OUTPUT
from tidal.cli import main
from tidal.log.broker import EmbeddedBroker
from tidal.streams import App
from tidal.streams.runtime import AppConfig

ROOT = Path(__file__).resolve().parents[2]

APP_MODULE = """
from tests.streams.runtime._helpers import FAST_CLIENT, FAST_CONSUMER
from tests.streams.runtime._topology import CountTopology, open_file_store
from tidal.streams import App

app = App(
    "wc",
    "127.0.0.1:1",  # replaced by --bootstrap-server
    state_dir="unused",
    topology=CountTopology("wc"),
    store_opener=open_file_store,
    client_config=FAST_CLIENT,
    consumer_config=FAST_CONSUMER,
)
not_an_app = 42


def make_app():
    return App("made", state_dir="unused", topology=CountTopology("made"))
"""


def tidal(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{cwd}", **(env or {})}
    environment.pop("TIDAL_BOOTSTRAP_SERVERS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tidal", "run", *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "wcapp.py").write_text(textwrap.dedent(APP_MODULE))
    return tmp_path


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as b:
        await create_topic(b.bootstrap_servers, INPUT, 2)
        yield b.bootstrap_servers


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signals_stop_after_a_final_commit(
    app_dir: Path, broker: str, sig: signal.Signals
) -> None:
    records = [(w, b"x") for w in (b"a", b"b", b"c", b"a")]
    await produce(broker, records)
    # A commit interval far beyond the test: only the final commit commits.
    proc = tidal(
        app_dir,
        "wcapp:app",
        "--bootstrap-server",
        broker,
        "--commit-interval-ms",
        "600000",
        env={"TIDAL_STATE_DIR": str(app_dir / "state")},
    )
    try:
        out = await read_all(broker, OUTPUT, expected=4, timeout=30)
        assert latest_counts(out) == {b"a": 2, b"b": 1, b"c": 1}
        assert await committed(broker, "wc") == {}
        proc.send_signal(sig)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "stopped after a final commit" in stderr
    offsets = await committed(broker, "wc")
    assert sum(om.offset for om in offsets.values()) == 4
    assert any((app_dir / "state" / "wc").glob("0_*/counts.json"))


async def test_application_id_override_needs_an_uncompiled_topology(app_dir: Path) -> None:
    proc = tidal(app_dir, "wcapp:app", "--application-id", "other")
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 2
    assert "application_id" in stderr
    assert "'wc'" in stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("wcapp", "'wcapp' is not MODULE:APP (for example: wordcount:app)"),
        ("nosuchmodule:app", "no module named 'nosuchmodule'"),
        ("wcapp:missing", "module 'wcapp' has no attribute 'missing'"),
        (
            "wcapp:not_an_app",
            "'wcapp:not_an_app' is a int, not a tidal.streams.App (or a function returning one)",
        ),
    ],
)
def test_bad_targets_are_one_line_and_exit_2(app_dir: Path, target: str, message: str) -> None:
    proc = tidal(app_dir, target)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert stderr.strip().splitlines() == [f"Error: {message}"]


def test_bad_setting_from_the_environment_exits_2(app_dir: Path) -> None:
    proc = tidal(app_dir, "wcapp:app", env={"TIDAL_PROCESSING_GUARANTEE": "exactly_once"})
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "'exactly_once' is not one of" in stderr


def test_flags_and_environment_override_the_apps_settings(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[AppConfig] = []
    monkeypatch.setattr(App, "run", lambda self, **_: seen.append(self.config))
    monkeypatch.chdir(app_dir)
    (app_dir / "wcapp_flags.py").write_text(textwrap.dedent(APP_MODULE))
    monkeypatch.setenv("TIDAL_STATE_DIR", str(app_dir / "from-env"))
    monkeypatch.setenv("TIDAL_COMMIT_INTERVAL_MS", "1234")
    result = CliRunner().invoke(
        main,
        ["-b", "root:9092", "run", "wcapp_flags:app", "--commit-interval-ms", "77"],
    )
    assert result.exit_code == 0, result.output
    [config] = seen
    assert config.bootstrap_servers == "root:9092"  # the root's -b counts
    assert config.state_dir == app_dir / "from-env"
    assert config.commit_interval_ms == 77  # the flag wins over the environment
    assert config.application_id == "wc"  # not given: the App's own


async def test_kill_9_then_restart_loses_nothing(app_dir: Path, broker: str) -> None:
    words = [b"w%d" % (i % 50) for i in range(200_000)]
    await produce(broker, [(w, b"x") for w in words])
    args = ("wcapp:app", "--bootstrap-server", broker, "--commit-interval-ms", "100")
    env = {"TIDAL_STATE_DIR": str(app_dir / "state")}
    proc = tidal(app_dir, *args, env=env)
    try:
        # Kill it once a commit went through, mid-way.
        await wait_for(lambda: _committed_any(broker), timeout=30, what="a first commit")
    finally:
        proc.kill()  # no final commit, no clean close
        await asyncio.to_thread(proc.communicate, timeout=30)
    done = sum(om.offset for om in (await committed(broker, "wc")).values())
    assert 0 < done < len(words), "the kill must land mid-way for the restart to matter"
    again = tidal(app_dir, *args, env=env)
    try:
        offsets: dict[object, object] = {}

        async def all_committed() -> bool:
            nonlocal offsets
            offsets = await committed(broker, "wc")
            return sum(om.offset for om in offsets.values()) == len(words)

        await wait_for(all_committed, timeout=60, what="every input offset committed")
        again.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(again.communicate, timeout=30)
    finally:
        if again.poll() is None:
            again.kill()
            again.communicate()
    assert again.returncode == 0, stderr
    # At-least-once: every record counted, some perhaps twice after the kill.
    counts = latest_counts(await read_to_end(broker, OUTPUT))
    assert set(counts) == set(words)
    short = {w: (counts[w], words.count(w)) for w in counts if counts[w] < words.count(w)}
    assert not short, short


async def test_sigterm_while_the_app_loads_exits_cleanly(app_dir: Path, broker: str) -> None:
    """SIGTERM before App.run() took the signal over: a clean stop, exit 0."""
    (app_dir / "slowapp.py").write_text(
        "import time\n"
        "from pathlib import Path\n"
        "Path('loading').write_text('yes')\n"
        "time.sleep(30)\n"
        "from wcapp import app\n"
    )
    proc = tidal(app_dir, "slowapp:app", "--bootstrap-server", broker)
    try:
        await wait_for(lambda: _exists(app_dir / "loading"), timeout=30, what="the module loading")
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr


async def _exists(path: Path) -> bool:
    return path.exists()


def test_a_bad_gc_threshold_is_a_bad_setting(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(app_dir)
    monkeypatch.setenv("TIDAL_GC_THRESHOLD", "lots")
    result = CliRunner().invoke(main, ["run", "wcapp:app"])
    assert result.exit_code == 2, result.output
    assert "TIDAL_GC_THRESHOLD='lots'" in result.output


def test_app_may_be_a_factory(app_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(App, "run", lambda self, **_: seen.append(self.application_id))
    monkeypatch.chdir(app_dir)
    (app_dir / "wcapp_factory.py").write_text(textwrap.dedent(APP_MODULE))
    result = CliRunner().invoke(main, ["run", "wcapp_factory:make_app"])
    assert result.exit_code == 0, result.output
    assert seen == ["made"]


async def _committed_any(broker: str) -> bool:
    return any(om.offset > 0 for om in (await committed(broker, "wc")).values())


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        (
            "App",
            "'classes:App' is a class, not an App instance: name an instance "
            "(app = App(...) in classes) or a function returning one",
        ),
        (
            "MyApp",
            "'classes:MyApp' is a class, not an App instance: name an instance "
            "(app = MyApp(...) in classes) or a function returning one",
        ),
        (
            "make_app",
            "'classes:make_app' cannot be called without arguments (missing a required "
            "argument: 'name'): name an App instance or a function taking none that returns one",
        ),
    ],
)
def test_a_class_or_a_factory_needing_arguments_is_one_line_and_exit_2(
    app_dir: Path, attr: str, message: str
) -> None:
    (app_dir / "classes.py").write_text(
        textwrap.dedent(
            """
            from tidal.streams import App


            class MyApp(App):
                pass


            def make_app(name):
                return App(name)
            """
        )
    )
    proc = tidal(app_dir, f"classes:{attr}")
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2, stderr
    assert stderr.strip().splitlines() == [f"Error: {message}"]
