"""``tidal transactions list --state``: states are checked before anything is sent."""

from click.testing import CliRunner

from tidal.cli import main
from tidal.log.broker import EmbeddedBroker


def test_unknown_state_is_a_usage_error() -> None:
    # No broker listens here: the value is refused before any connection.
    result = CliRunner().invoke(
        main, ["-b", "127.0.0.1:1", "--timeout", "2", "transactions", "list", "--state", "Bogus"]
    )
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--state'" in result.stderr
    assert "'Bogus' is not a transaction state: Empty, Ongoing, PrepareCommit," in result.stderr


def test_state_names_are_matched_without_case() -> None:
    with EmbeddedBroker.sync() as broker:
        result = CliRunner().invoke(
            main,
            ["-b", broker.bootstrap_servers, "transactions", "list", "--state", "ongoing",
             "--state", "CompleteCommit"],
        )  # fmt: skip
    # The broker knows the canonical names only: "ongoing" would come back unknown (exit 1).
    assert result.exit_code == 0, result.output
    assert "unknown transaction state" not in result.output
