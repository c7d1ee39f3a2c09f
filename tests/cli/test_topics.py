"""``tidal topics``: create, list, describe, alter, delete, against a real broker."""

import subprocess
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from tidal.cli import main
from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._embedded import EmbeddedBrokerThread
from tidal.log.client.admin import ConfigResource, ResourceType, SyncAdminClient


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync() as running:
        yield running


def tidal(broker: EmbeddedBrokerThread, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--bootstrap-server", broker.bootstrap_servers])


def topic_configs(broker: EmbeddedBrokerThread, name: str) -> dict[str, str | None]:
    resource = ConfigResource(ResourceType.TOPIC, name)
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        entries = admin.describe_configs([resource])[resource]
    return {e.name: e.value for e in entries.values() if not e.is_default}


def test_create_then_list_and_describe(broker: EmbeddedBrokerThread) -> None:
    result = tidal(
        broker, "topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created topic orders.\n"
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        assert len(admin.describe_topics(["orders"])["orders"].partitions) == 3
    assert topic_configs(broker, "orders") == {"retention.ms": "60000"}

    listed = tidal(broker, "topics", "list")
    assert listed.exit_code == 0
    assert "orders" in listed.stdout.splitlines()

    described = tidal(broker, "topics", "describe", "orders")
    assert described.exit_code == 0, described.output
    lines = described.stdout.splitlines()
    assert lines[0].startswith("Topic: orders  TopicId: ")
    assert lines[0].endswith("PartitionCount: 3  ReplicationFactor: 1")
    assert lines[1] == "Configs: retention.ms=60000"
    assert lines[2].split() == [
        "PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "END-OFFSET",
    ]  # fmt: skip
    assert [row.split() for row in lines[3:]] == [
        [str(p), "1", "1", "1", "0", "0"] for p in range(3)
    ]


def test_describe_shows_offsets_after_produce(broker: EmbeddedBrokerThread) -> None:
    assert tidal(broker, "topics", "create", "counted", "--partitions", "1").exit_code == 0
    produced = CliRunner().invoke(
        main, ["-b", broker.bootstrap_servers, "produce", "counted"], input="a\nb\nc\n"
    )
    assert produced.exit_code == 0, produced.output
    described = tidal(broker, "topics", "describe", "counted")
    assert described.stdout.splitlines()[1] == "Configs: (defaults)"
    assert described.stdout.splitlines()[-1].split() == ["0", "1", "1", "1", "0", "3"]


def test_alter_sets_and_deletes_configs(broker: EmbeddedBrokerThread) -> None:
    tidal(broker, "topics", "create", "altered", "--config", "retention.ms=1000")
    result = tidal(
        broker, "topics", "alter", "altered",
        "--config", "cleanup.policy=compact", "--delete-config", "retention.ms",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Updated configs of topic altered.\n"
    assert topic_configs(broker, "altered") == {"cleanup.policy": "compact"}


def test_delete_removes_the_topic(broker: EmbeddedBrokerThread) -> None:
    tidal(broker, "topics", "create", "doomed")
    result = tidal(broker, "topics", "delete", "doomed")
    assert result.exit_code == 0, result.output
    assert "doomed" not in tidal(broker, "topics", "list").stdout.splitlines()


@pytest.mark.parametrize(
    "args",
    [
        ["topics", "describe", "missing"],
        ["topics", "delete", "missing"],
        ["topics", "alter", "missing", "--config", "retention.ms=1"],
    ],
)
def test_unknown_topic_is_named(broker: EmbeddedBrokerThread, args: list[str]) -> None:
    result = tidal(broker, *args)
    assert result.exit_code == 1
    assert result.stderr == "Error: topic 'missing' does not exist\n"


def test_bad_configs(broker: EmbeddedBrokerThread) -> None:
    unknown = tidal(broker, "topics", "create", "bad", "--config", "no.such.config=1")
    assert unknown.exit_code == 1
    assert unknown.stderr.count("\n") == 1
    assert "no.such.config" in unknown.stderr
    invalid = tidal(broker, "topics", "create", "bad", "--config", "retention.ms=soon")
    assert invalid.exit_code == 1
    assert "retention.ms" in invalid.stderr
    malformed = tidal(broker, "topics", "create", "bad", "--config", "retention.ms")
    assert malformed.exit_code == 2
    assert "'retention.ms' is not key=value" in malformed.stderr
    nothing = tidal(broker, "topics", "alter", "bad")
    assert nothing.exit_code == 2
    assert "bad" not in tidal(broker, "topics", "list").stdout.splitlines()


def test_duplicate_topic_is_an_error(broker: EmbeddedBrokerThread) -> None:
    tidal(broker, "topics", "create", "twice")
    again = tidal(broker, "topics", "create", "twice")
    assert again.exit_code == 1
    assert "twice" in again.stderr


def test_topics_in_a_subprocess_print_plain_text(broker: EmbeddedBrokerThread) -> None:
    env_run = subprocess.run(
        [sys.executable, "-m", "tidal", "topics", "create", "proc", "--partitions", "2"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"TIDAL_BOOTSTRAP_SERVERS": broker.bootstrap_servers, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert env_run.returncode == 0, env_run.stderr
    described = subprocess.run(
        [sys.executable, "-m", "tidal", "topics", "describe", "proc",
         "--bootstrap-server", broker.bootstrap_servers],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert "\x1b" not in described.stdout
    assert not set("─━│┃") & set(described.stdout)
    assert described.stdout.splitlines()[-1].split() == ["1", "1", "1", "1", "0", "0"]
