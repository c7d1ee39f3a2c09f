"""``tidal groups`` against a real broker, with a confluent-kafka (librdkafka)
member so that assignments are decoded from another client's bytes."""

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import confluent_kafka
import pytest
from click.testing import CliRunner, Result

from tidal.cli import main
from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._embedded import EmbeddedBrokerThread
from tidal.log.client import TopicPartition
from tidal.log.client.admin import NewTopic, SyncAdminClient
from tidal.log.client.producer import SyncProducer


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(config={"group.initial.rebalance.delay.ms": "0"}) as running:
        yield running


def tidal(broker: EmbeddedBrokerThread, *args: str) -> Result:
    return CliRunner().invoke(main, ["-b", broker.bootstrap_servers, *args])


def fill(broker: EmbeddedBrokerThread, topic: str, partitions: int, per_partition: int) -> None:
    """``per_partition`` records in each partition, timestamps 1000, 2000, ..."""
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        admin.create_topics([NewTopic(topic, partitions)])
    with SyncProducer(bootstrap_servers=broker.bootstrap_servers) as producer:
        for p in range(partitions):
            for i in range(per_partition):
                producer.send(topic, b"v", partition=p, timestamp_ms=(i + 1) * 1000)
        producer.flush()


def commit(broker: EmbeddedBrokerThread, group: str, offsets: dict[TopicPartition, int]) -> None:
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        admin.alter_group_offsets(group, offsets)


def committed(broker: EmbeddedBrokerThread, group: str) -> dict[TopicPartition, int]:
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        return {tp: om.offset for tp, om in admin.list_group_offsets(group).items()}


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


@pytest.fixture(scope="module")
def member(broker: EmbeddedBrokerThread) -> Iterator[confluent_kafka.Consumer]:
    fill(broker, "watched", 2, 3)
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": broker.bootstrap_servers, "group.id": "live",
         "client.id": "oracle", "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "partition.assignment.strategy": "range"}
    )  # fmt: skip
    consumer.subscribe(["watched"])
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(0.2)
    assert consumer.assignment()
    consumer.commit(offsets=[confluent_kafka.TopicPartition("watched", 0, 1)], asynchronous=False)
    try:
        yield consumer
    finally:
        consumer.close()


def test_list_and_describe_an_active_group(
    broker: EmbeddedBrokerThread, member: confluent_kafka.Consumer
) -> None:
    listed = tidal(broker, "groups", "list")
    assert listed.exit_code == 0, listed.output
    assert ["live", "Stable", "consumer"] in rows(listed.stdout)

    described = tidal(broker, "groups", "describe", "live")
    assert described.exit_code == 0, described.output
    lines = described.stdout.splitlines()
    assert lines[0] == "Group: live  State: Stable  Protocol: consumer/range  Members: 1"
    assert lines[1].split() == ["MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]
    member_row = lines[2].split()
    assert member_row[1:3] == ["-", "oracle"]
    assert member_row[-1] == "watched:0,1"  # decoded from librdkafka's assignment bytes
    member_id = member_row[0]
    table = rows("\n".join(lines[3:]))
    assert table[0] == [
        "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
    ]  # fmt: skip
    assert table[1:] == [
        ["watched", "0", "1", "3", "2", member_id],
        ["watched", "1", "-", "3", "-", member_id],
    ]


def test_reset_refuses_an_active_group(
    broker: EmbeddedBrokerThread, member: confluent_kafka.Consumer
) -> None:
    for extra in ([], ["--execute"]):
        result = tidal(broker, "groups", "reset-offsets", "live", "--topic", "watched",
                       "--to-earliest", *extra)  # fmt: skip
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: group 'live' is active (state Stable, 1 members); "
            "offsets can only be reset while it has no members\n"
        )
    assert committed(broker, "live") == {TopicPartition("watched", 0): 1}


def test_reset_offsets_plans_then_executes(broker: EmbeddedBrokerThread) -> None:
    fill(broker, "replay", 2, 4)
    tp0, tp1 = TopicPartition("replay", 0), TopicPartition("replay", 1)
    commit(broker, "resetters", {tp0: 3, tp1: 4})

    dry = tidal(broker, "groups", "reset-offsets", "resetters", "--topic", "replay",
                "--to-earliest")  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert rows(dry.stdout) == [
        ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
        ["resetters", "replay", "0", "3", "0"],
        ["resetters", "replay", "1", "4", "0"],
    ]
    assert "add --execute" in dry.stderr
    assert committed(broker, "resetters") == {tp0: 3, tp1: 4}

    cases: list[tuple[list[str], dict[TopicPartition, int]]] = [
        (["--to-earliest"], {tp0: 0, tp1: 0}),
        (["--to-latest"], {tp0: 4, tp1: 4}),
        (["--to-offset", "2"], {tp0: 2, tp1: 2}),
        (["--to-offset", "99"], {tp0: 4, tp1: 4}),  # kept within the log
        (["--to-datetime", datetime.fromtimestamp(2.5, UTC).isoformat()], {tp0: 2, tp1: 2}),
        (["--to-datetime", "2100-01-01T00:00:00Z"], {tp0: 4, tp1: 4}),  # none after: the end
    ]
    for args, expected in cases:
        done = tidal(broker, "groups", "reset-offsets", "resetters", "--topic", "replay",
                     *args, "--execute")  # fmt: skip
        assert done.exit_code == 0, (args, done.output)
        assert committed(broker, "resetters") == expected, args

    one = tidal(broker, "groups", "reset-offsets", "resetters", "--topic", "replay:1",
                "--to-earliest", "--execute")  # fmt: skip
    assert one.exit_code == 0, one.output
    assert committed(broker, "resetters") == {tp0: 4, tp1: 0}


def test_reset_offsets_bad_input(broker: EmbeddedBrokerThread) -> None:
    base = ["groups", "reset-offsets", "anyone"]
    unknown = tidal(broker, *base, "--topic", "ghost", "--to-latest")
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: topic 'ghost' does not exist\n"
    for args in (
        ["--topic", "replay"],
        ["--topic", "replay", "--to-earliest", "--to-latest"],
        ["--topic", "replay", "--to-datetime", "yesterday"],
        ["--topic", "replay:x", "--to-latest"],
    ):
        result = tidal(broker, *base, *args)
        assert result.exit_code == 2, args


def test_describe_and_delete_groups(broker: EmbeddedBrokerThread) -> None:
    fill(broker, "kept", 1, 2)
    commit(broker, "finished", {TopicPartition("kept", 0): 1})
    described = tidal(broker, "groups", "describe", "finished")
    assert described.exit_code == 0, described.output
    assert described.stdout.splitlines()[0].startswith("Group: finished  State: Empty")
    assert rows(described.stdout)[-1] == ["kept", "0", "1", "2", "1", "-"]

    deleted = tidal(broker, "groups", "delete", "finished")
    assert deleted.exit_code == 0, deleted.output
    assert deleted.stdout == "Deleted group finished.\n"
    assert committed(broker, "finished") == {}

    for command in ("describe", "delete"):
        missing = tidal(broker, "groups", command, "finished")
        assert missing.exit_code == 1
        assert missing.stderr == "Error: group 'finished' does not exist\n"


def test_groups_in_a_subprocess(broker: EmbeddedBrokerThread) -> None:
    fill(broker, "sub", 1, 1)
    commit(broker, "subgroup", {TopicPartition("sub", 0): 1})
    out = subprocess.run(
        [sys.executable, "-m", "tidal", "groups", "describe", "subgroup",
         "--bootstrap-server", broker.bootstrap_servers],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout
    assert rows(out.stdout)[-1] == ["sub", "0", "1", "1", "0", "-"]
