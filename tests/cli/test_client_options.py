"""Options every client command shares: where the cluster is, how long to
wait for it, and how output looks on a terminal versus a pipe."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tidal.cli import _common, main
from tidal.cli._common import CliError, Connection
from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._embedded import EmbeddedBrokerThread

SLACK = 3.0  # seconds on top of --timeout for a slow CI machine


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync() as running:
        yield running


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


def test_bootstrap_from_the_environment(broker: EmbeddedBrokerThread) -> None:
    runner = CliRunner(env={"TIDAL_BOOTSTRAP_SERVERS": broker.bootstrap_servers})
    assert runner.invoke(main, ["topics", "create", "from-env"]).exit_code == 0
    listed = runner.invoke(main, ["topics", "list"])
    assert "from-env" in listed.stdout.splitlines()


def test_the_command_option_wins_over_the_root_and_environment(
    broker: EmbeddedBrokerThread, closed_port: int
) -> None:
    dead = f"127.0.0.1:{closed_port}"
    runner = CliRunner(env={"TIDAL_BOOTSTRAP_SERVERS": dead})
    result = runner.invoke(
        main, ["-b", dead, "--timeout", "0.3", "topics", "list", "-b", broker.bootstrap_servers]
    )
    assert result.exit_code == 0, result.output
    root_wins = runner.invoke(main, ["-b", broker.bootstrap_servers, "topics", "list"])
    assert root_wins.exit_code == 0, root_wins.output


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["topics", "list"], None),
        (["topics", "describe", "t"], None),
        (["produce", "t"], "a\n"),
        (["consume", "t"], None),
        (["groups", "list"], None),
        (["groups", "describe", "g"], None),
        (["perf", "produce", "--topic", "t", "--num-records", "1", "--record-size", "1"], None),
        (["perf", "consume", "--topic", "t", "--messages", "1"], None),
    ],
)
def test_unreachable_bootstrap_fails_within_the_timeout(
    closed_port: int, args: list[str], stdin: str | None
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(
        main, [*args, "--bootstrap-server", f"127.0.0.1:{closed_port}", "--timeout", "0.5"],
        input=stdin,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no bootstrap server reachable (127.0.0.1:{closed_port}) within 500 ms\n"
    )
    assert result.stdout == ""
    assert elapsed < 0.5 + SLACK


def test_unreachable_bootstrap_in_a_subprocess(closed_port: int) -> None:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "tidal", "--bootstrap-server", f"127.0.0.1:{closed_port}",
         "--timeout", "1", "groups", "list"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"Error: no bootstrap server reachable (127.0.0.1:{closed_port}) within 1000 ms"
    ]
    assert time.monotonic() - started < 1 + SLACK + 2  # interpreter start-up too


def test_the_default_bootstrap_is_localhost_9092(monkeypatch: pytest.MonkeyPatch) -> None:
    # Observed where the command builds its client, so whatever may listen on
    # localhost:9092 on this machine cannot change the outcome.
    seen: list[str] = []

    def record(self: Connection) -> dict[str, object]:
        seen.append(self.bootstrap_servers)
        raise CliError("stopped before connecting")

    monkeypatch.setattr(Connection, "client_settings", record)
    result = CliRunner(env={"TIDAL_BOOTSTRAP_SERVERS": None}).invoke(main, ["topics", "list"])
    assert result.exit_code == 1
    assert seen == ["localhost:9092"]


@pytest.mark.parametrize(
    "args",
    [
        ["-b", "host:notaport", "topics", "list"],
        ["topics", "list", "--bootstrap-server", "host:99999"],
        ["--timeout", "0", "topics", "list"],
        ["topics", "list", "--timeout", "-1"],
    ],
)
def test_bad_connection_options_are_usage_errors(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "Invalid value for" in result.stderr


def test_a_bad_environment_address_troubles_only_client_commands() -> None:
    runner = CliRunner(env={"TIDAL_BOOTSTRAP_SERVERS": "host:bad"})
    assert runner.invoke(main, ["--version"]).exit_code == 0
    assert runner.invoke(main, ["topics", "list"]).exit_code == 2


def test_tables_are_rich_on_a_terminal_and_plain_on_a_pipe(
    broker: EmbeddedBrokerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["-b", broker.bootstrap_servers, "topics", "describe", "drawn"]
    CliRunner().invoke(main, ["-b", broker.bootstrap_servers, "topics", "create", "drawn"])
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert "\x1b[" not in plain.stdout
    assert "─" not in plain.stdout
    assert "PARTITION  LEADER" in plain.stdout

    monkeypatch.setattr(_common, "is_terminal", lambda: True)
    drawn = CliRunner().invoke(main, args)
    assert drawn.exit_code == 0, drawn.output
    assert "─" in drawn.stdout  # the rule under the header
    assert "Partition" in drawn.stdout
    assert "\x1b[" in drawn.stdout


def test_help_lists_the_client_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("topics", "produce", "consume", "groups", "perf"):
        assert command in result.stdout
    assert "TIDAL_BOOTSTRAP_SERVERS" in result.stdout
