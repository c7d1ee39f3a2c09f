"""The ``tidal`` command line against a real Apache Kafka broker (JVM), run as
subprocesses the way a user runs it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from tidal.log.client.producer import murmur2_partition

pytestmark = pytest.mark.kafka


def tidal(
    kafka: Any, *args: str, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``tidal ARGS --bootstrap-server KAFKA``: the connection options after the
    command, as most users type them."""
    command = [sys.executable, "-m", "tidal", *args]
    command += ["--bootstrap-server", kafka.bootstrap_servers, "--timeout", "30"]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result.stdout


def failed(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a command that failed with exit status 1."""
    assert result.returncode == 1, (result.args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_topics_create_list_describe_alter_delete(kafka_jvm: Any) -> None:
    topic = _name("cli-topics")
    created = tidal(
        kafka_jvm, "topics", "create", topic,
        "--partitions", "3", "--config", "retention.ms=86400000",
    )  # fmt: skip
    assert ok(created) == f"Created topic {topic}.\n"
    duplicate = failed(tidal(kafka_jvm, "topics", "create", topic))
    assert duplicate.startswith(f"Error: topic '{topic}': ")
    assert "already exists" in duplicate
    assert topic in ok(tidal(kafka_jvm, "topics", "list")).splitlines()

    described = ok(tidal(kafka_jvm, "topics", "describe", topic)).splitlines()
    assert described[0].startswith(f"Topic: {topic}  TopicId: ")
    assert described[0].endswith("PartitionCount: 3  ReplicationFactor: 1")
    # Only what was set on the topic: Kafka 4's cluster-wide min.insync.replicas is not.
    assert described[1] == "Configs: retention.ms=86400000"
    assert described[2].split() == [
        "PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "END-OFFSET",
    ]  # fmt: skip
    assert [row.split() for row in described[3:]] == [
        [str(p), "1", "1", "1", "0", "0"] for p in range(3)
    ]

    altered = tidal(
        kafka_jvm, "topics", "alter", topic,
        "--config", "cleanup.policy=compact", "--delete-config", "retention.ms",
    )  # fmt: skip
    assert ok(altered) == f"Updated configs of topic {topic}.\n"
    described = ok(tidal(kafka_jvm, "topics", "describe", topic)).splitlines()
    assert described[1] == "Configs: cleanup.policy=compact"
    bad = tidal(kafka_jvm, "topics", "alter", topic, "--config", "retention.ms=soon")
    assert failed(bad).startswith(f"Error: topic '{topic}': ")
    assert "retention.ms" in bad.stderr

    assert ok(tidal(kafka_jvm, "topics", "delete", topic)) == f"Deleted topic {topic}.\n"
    assert topic not in ok(tidal(kafka_jvm, "topics", "list")).splitlines()
    missing = f"Error: topic '{topic}' does not exist"
    assert failed(tidal(kafka_jvm, "topics", "describe", topic)) == missing
    assert failed(tidal(kafka_jvm, "topics", "delete", topic)) == missing


def test_produce_then_consume(kafka_jvm: Any) -> None:
    topic = _name("cli-pc")
    ok(tidal(kafka_jvm, "topics", "create", topic, "--partitions", "3"))
    lines = [f"key-{i}:value {i}" for i in range(30)]
    produced = tidal(
        kafka_jvm, "produce", topic, "--key-separator", ":", "--header", "source=cli",
        "--compression", "zstd", "--acks", "all",
        stdin="\n".join(lines) + "\n",
    )  # fmt: skip
    ok(produced)
    assert f"30 records sent to {topic}" in produced.stderr

    consumed = tidal(
        kafka_jvm, "consume", topic, "--from-beginning", "--max-messages", "30",
        "--format", "{partition}|{key}|{value}|{headers}",
    )  # fmt: skip
    out = ok(consumed).splitlines()
    assert "Processed a total of 30 messages" in consumed.stderr
    assert sorted(out) == sorted(
        f"{murmur2_partition(f'key-{i}'.encode(), 3)}|key-{i}|value {i}|source=cli"
        for i in range(30)
    )

    as_json = tidal(
        kafka_jvm, "consume", topic, "--partition", "0", "--offset", "earliest",
        "--max-messages", "2", "--json",
    )  # fmt: skip
    records = [json.loads(line) for line in ok(as_json).splitlines()]
    assert [(r["topic"], r["partition"], r["offset"]) for r in records] == [
        (topic, 0, 0),
        (topic, 0, 1),
    ]
    assert all(r["headers"] == [["source", "cli"]] for r in records)
    assert all(r["value"] == "value " + r["key"].removeprefix("key-") for r in records)

    plain = tidal(kafka_jvm, "consume", topic, "--from-beginning", "--max-messages", "5")
    assert all(line.startswith("value ") for line in ok(plain).splitlines())
    assert len(plain.stdout.splitlines()) == 5
    nosuch = _name("nosuch")
    assert (
        failed(tidal(kafka_jvm, "consume", nosuch, "--max-messages", "1"))
        == f"Error: topic '{nosuch}' does not exist"
    )


def _describe_rows(kafka: Any, group: str) -> list[list[str]]:
    """The per-partition rows of ``groups describe`` (after the header row)."""
    table = rows(ok(tidal(kafka, "groups", "describe", group)))
    start = next(i for i, row in enumerate(table) if row[:2] == ["TOPIC", "PARTITION"])
    return table[start + 1 :]


def _wait_for_members(kafka: Any, group: str, count: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        out = ok(tidal(kafka, "groups", "describe", group))
        if f"Members: {count}" in out.splitlines()[0] and "Stable" in out.splitlines()[0]:
            return out
        assert time.monotonic() < deadline, out
        time.sleep(0.5)


def test_groups_list_describe_reset_delete(kafka_jvm: Any) -> None:
    topic, group = _name("cli-groups"), _name("kitchen")
    ok(tidal(kafka_jvm, "topics", "create", topic, "--partitions", "2"))
    ok(tidal(kafka_jvm, "produce", topic, "--partition", "0", stdin="a\nb\nc\nd\n"))
    ok(tidal(kafka_jvm, "produce", topic, "--partition", "1", stdin="e\nf\n"))

    first = tidal(kafka_jvm, "consume", topic, "--group", group, "--from-beginning",
                  "--max-messages", "6")  # fmt: skip
    assert sorted(ok(first).splitlines()) == ["a", "b", "c", "d", "e", "f"]
    listed = rows(ok(tidal(kafka_jvm, "groups", "list")))
    assert listed[0] == ["GROUP", "STATE", "TYPE"]
    assert [group, "Empty", "consumer"] in listed
    assert _describe_rows(kafka_jvm, group) == [
        [topic, "0", "4", "4", "0", "-"],
        [topic, "1", "2", "2", "0", "-"],
    ]

    # A live member: describe shows it and its partitions; resets are refused.
    member = subprocess.Popen(
        [sys.executable, "-m", "tidal", "consume", topic, "--group", group,
         "--timeout-idle", "120", "--bootstrap-server", kafka_jvm.bootstrap_servers],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        described = _wait_for_members(kafka_jvm, group, 1)
        assert f"{topic}:0,1" in described
        assert all(row[-1] != "-" for row in _describe_rows(kafka_jvm, group))
        refused = tidal(kafka_jvm, "groups", "reset-offsets", group, "--topic", topic,
                        "--to-earliest", "--execute")  # fmt: skip
        assert failed(refused).startswith(f"Error: group '{group}' is active")
    finally:
        member.send_signal(signal.SIGTERM)
        _, err = member.communicate(timeout=60)
    assert member.returncode == 0, err
    assert "Processed a total of 0 messages" in err

    dry = tidal(kafka_jvm, "groups", "reset-offsets", group, "--topic", topic, "--to-earliest")
    assert rows(ok(dry)) == [
        ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
        [group, topic, "0", "4", "0"],
        [group, topic, "1", "2", "0"],
    ]
    assert "Dry run" in dry.stderr
    assert _describe_rows(kafka_jvm, group)[0][2] == "4"  # unchanged

    executed = tidal(kafka_jvm, "groups", "reset-offsets", group, "--topic", f"{topic}:0",
                     "--to-offset", "1", "--execute")  # fmt: skip
    assert rows(ok(executed))[1] == [group, topic, "0", "4", "1"]
    assert _describe_rows(kafka_jvm, group) == [
        [topic, "0", "1", "4", "3", "-"],
        [topic, "1", "2", "2", "0", "-"],
    ]
    again = tidal(kafka_jvm, "consume", topic, "--group", group, "--max-messages", "3")
    assert ok(again).splitlines() == ["b", "c", "d"]

    ok(tidal(kafka_jvm, "groups", "reset-offsets", group, "--topic", topic, "--to-datetime",
             "2000-01-01T00:00:00Z", "--execute"))  # fmt: skip
    assert [row[2] for row in _describe_rows(kafka_jvm, group)] == ["0", "0"]

    assert ok(tidal(kafka_jvm, "groups", "delete", group)) == f"Deleted group {group}.\n"
    assert group not in ok(tidal(kafka_jvm, "groups", "list"))
    missing = f"Error: group '{group}' does not exist"
    assert failed(tidal(kafka_jvm, "groups", "describe", group)) == missing
    assert failed(tidal(kafka_jvm, "groups", "delete", group)) == missing


def test_bootstrap_server_before_the_command(kafka_jvm: Any) -> None:
    topic = _name("cli-root")
    command = [sys.executable, "-m", "tidal", "-b", kafka_jvm.bootstrap_servers,
               "--timeout", "30", "topics", "create", topic]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert ok(result) == f"Created topic {topic}.\n"
    ok(tidal(kafka_jvm, "topics", "delete", topic))
