"""``tidal produce`` and ``tidal consume`` against a real broker, with
confluent-kafka (librdkafka) as an independent producer and consumer."""

import base64
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import confluent_kafka
import pytest
from click.testing import CliRunner, Result

from tidal.cli import main
from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._embedded import EmbeddedBrokerThread
from tidal.log.client import TopicPartition
from tidal.log.client.admin import NewTopic, OffsetSpec, SyncAdminClient


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(config={"group.initial.rebalance.delay.ms": "0"}) as running:
        yield running


def tidal(broker: EmbeddedBrokerThread, *args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["-b", broker.bootstrap_servers, *args], input=input)


def create(broker: EmbeddedBrokerThread, name: str, partitions: int = 1) -> None:
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        admin.create_topics([NewTopic(name, partitions)])


def end_offsets(broker: EmbeddedBrokerThread, name: str, partitions: int) -> list[int]:
    tps = [TopicPartition(name, p) for p in range(partitions)]
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        answer = admin.list_offsets(dict.fromkeys(tps, OffsetSpec.LATEST))
    return [answer[tp].offset for tp in tps]


def confluent_read(broker: EmbeddedBrokerThread, topic: str, count: int) -> list[object]:
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": broker.bootstrap_servers, "group.id": f"oracle-{topic}",
         "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )  # fmt: skip
    try:
        consumer.subscribe([topic])
        out: list[object] = []
        deadline = time.monotonic() + 30
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(msg)
        return out
    finally:
        consumer.close()


def test_produce_lines_with_keys_and_headers_read_by_confluent(
    broker: EmbeddedBrokerThread,
) -> None:
    create(broker, "keyed")
    result = tidal(
        broker, "produce", "keyed", "--key-separator", "|", "--header", "src=cli",
        "--header", "n=1", input="k1|v1\nk2|v|2\n|empty-key\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == "3 records sent to keyed\n"
    got = confluent_read(broker, "keyed", 3)
    assert [(m.key(), m.value()) for m in got] == [  # type: ignore[attr-defined]
        (b"k1", b"v1"), (b"k2", b"v|2"), (b"", b"empty-key"),
    ]  # fmt: skip
    assert got[0].headers() == [("src", b"cli"), ("n", b"1")]  # type: ignore[attr-defined]


def test_one_record_is_counted_in_the_singular(broker: EmbeddedBrokerThread) -> None:
    create(broker, "single")
    result = tidal(broker, "produce", "single", input="only\n")
    assert result.exit_code == 0, result.output
    assert result.stderr == "1 record sent to single\n"
    assert end_offsets(broker, "single", 1) == [1]


def test_consume_reads_what_confluent_produced(broker: EmbeddedBrokerThread) -> None:
    create(broker, "oracle", partitions=2)
    producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap_servers})
    for i in range(6):
        producer.produce("oracle", f"value-{i}".encode(), key=f"k{i}".encode(), partition=i % 2,
                         headers=[("h", b"x")])  # fmt: skip
    assert producer.flush(30) == 0
    result = tidal(broker, "consume", "oracle", "--from-beginning", "--max-messages", "6")
    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.splitlines()) == [f"value-{i}" for i in range(6)]
    assert result.stderr == "Processed a total of 6 messages\n"

    as_json = tidal(
        broker, "consume", "oracle", "--partition", "1", "--offset", "1", "--max-messages", "1",
        "--json",
    )  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    record = json.loads(as_json.stdout)
    assert {k: v for k, v in record.items() if k != "timestamp"} == {
        "topic": "oracle", "partition": 1, "offset": 1, "key": "k3", "value": "value-3",
        "headers": [["h", "x"]],
    }  # fmt: skip
    assert isinstance(record["timestamp"], int)

    formatted = tidal(
        broker, "consume", "oracle", "--partition", "0", "--from-beginning", "--max-messages", "2",
        "--format", "{topic}/{partition}@{offset}\\t{key}={value} [{headers}]",
    )  # fmt: skip
    assert formatted.stdout.splitlines() == [
        "oracle/0@0\tk0=value-0 [h=x]", "oracle/0@1\tk2=value-2 [h=x]",
    ]  # fmt: skip


def test_produce_to_one_partition_with_options(broker: EmbeddedBrokerThread) -> None:
    create(broker, "placed", partitions=3)
    for acks, codec in (("0", "gzip"), ("1", "lz4"), ("all", "zstd")):
        result = tidal(
            broker, "produce", "placed", "--partition", "2", "--acks", acks,
            "--compression", codec, input=f"{codec}-a\n{codec}-b\n",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert end_offsets(broker, "placed", 3) == [0, 0, 6]
    read = tidal(broker, "consume", "placed", "--from-beginning", "--max-messages", "6",
                 "--isolation-level", "read_committed")  # fmt: skip
    assert read.stdout.splitlines() == [
        "gzip-a", "gzip-b", "lz4-a", "lz4-b", "zstd-a", "zstd-b",
    ]  # fmt: skip


def test_a_failed_record_is_reported_and_the_rest_sent(broker: EmbeddedBrokerThread) -> None:
    create(broker, "partial")
    big = "x" * 1_100_000
    result = tidal(
        broker, "produce", "partial", "--key-separator", ":", input=f"a:1\nnokey\nb:{big}\nc:3\n"
    )
    assert result.exit_code == 1
    assert "line 2: record failed: no key separator ':'" in result.stderr
    assert "line 3: record failed: the record is" in result.stderr
    assert result.stderr.endswith("2 records sent to partial, 2 failed\n")
    assert end_offsets(broker, "partial", 1) == [2]


def test_produce_errors(broker: EmbeddedBrokerThread) -> None:
    create(broker, "small")
    bad_partition = tidal(broker, "produce", "small", "--partition", "7", input="a\n")
    assert bad_partition.exit_code == 1
    assert "partition 7 of topic 'small' does not exist" in bad_partition.stderr
    bad_header = tidal(broker, "produce", "small", "--header", "novalue", input="a\n")
    assert bad_header.exit_code == 2
    assert "--header" in bad_header.stderr
    bad_acks = tidal(broker, "produce", "small", "--acks", "2", input="a\n")
    assert bad_acks.exit_code == 2


def test_consume_stops_when_idle(broker: EmbeddedBrokerThread) -> None:
    create(broker, "idle")
    tidal(broker, "produce", "idle", input="one\ntwo\n")
    started = time.monotonic()
    result = tidal(broker, "consume", "idle", "--from-beginning", "--timeout-idle", "0.5")
    assert result.exit_code == 0, result.output
    assert result.stdout == "one\ntwo\n"
    assert time.monotonic() - started < 10


def test_consume_in_a_group_commits_what_it_printed(broker: EmbeddedBrokerThread) -> None:
    create(broker, "grouped")
    tidal(broker, "produce", "grouped", input="".join(f"m{i}\n" for i in range(5)))
    first = tidal(broker, "consume", "grouped", "--group", "readers", "--from-beginning",
                  "--max-messages", "2")  # fmt: skip
    assert first.exit_code == 0, first.output
    assert first.stdout == "m0\nm1\n"
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        committed = admin.list_group_offsets("readers")
    assert committed[TopicPartition("grouped", 0)].offset == 2
    rest = tidal(broker, "consume", "grouped", "--group", "readers", "--max-messages", "3")
    assert rest.stdout == "m2\nm3\nm4\n"


def test_consume_errors(broker: EmbeddedBrokerThread) -> None:
    create(broker, "checked", partitions=2)
    unknown = tidal(broker, "consume", "nothere", "--max-messages", "1")
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: topic 'nothere' does not exist\n"
    partition = tidal(broker, "consume", "checked", "--partition", "5", "--offset", "0")
    assert partition.exit_code == 1
    assert "partition 5 of topic 'checked' does not exist (it has 2)" in partition.stderr
    for args, message in [
        (["--format", "{nope}"], "unknown field {nope}"),
        (["--offset", "3"], "--offset needs --partition"),
        (["--offset", "-3", "--partition", "0"], "is not a non-negative offset"),
        (["--group", "g", "--partition", "0"], "cannot be used with --group"),
        (["--json", "--format", "{value}"], "exclude each other"),
        (["--isolation-level", "dirty"], "Invalid value for '--isolation-level'"),
    ]:
        result = tidal(broker, "consume", "checked", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr, (args, result.stderr)


def test_produce_and_consume_in_subprocesses_with_ctrl_c(broker: EmbeddedBrokerThread) -> None:
    create(broker, "piped")
    base = [sys.executable, "-m", "tidal", "--bootstrap-server", broker.bootstrap_servers]
    produced = subprocess.run(
        [*base, "produce", "piped"], input="p0\np1\np2\n", capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    assert produced.stderr == "3 records sent to piped\n"
    reader = subprocess.Popen(
        [*base, "consume", "piped", "--group", "interrupted", "--from-beginning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout is not None
        lines = [reader.stdout.readline() for _ in range(3)]
        assert lines == ["p0\n", "p1\n", "p2\n"]
        reader.send_signal(signal.SIGINT)
        _, err = reader.communicate(timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, err
    assert err == "Processed a total of 3 messages\n"
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        assert admin.list_group_offsets("interrupted")[TopicPartition("piped", 0)].offset == 3


def test_consume_json_keeps_bytes_that_are_not_utf8(broker: EmbeddedBrokerThread) -> None:
    """``--json`` prints UTF-8 as text and any other bytes as ``{"base64": ...}``,
    so every key, value and header value can be decoded back exactly."""
    create(broker, "binary")
    sent = [
        (b"\xff\xfe-key", b"\x00\x80\xc3(binary", [("raw", b"\xc0\xaf"), ("text", b"ok")]),
        ("clé".encode(), "värde €".encode(), [("empty", b""), ("none", None)]),
        (None, None, []),
    ]
    producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap_servers})
    for key, value, headers in sent:
        producer.produce("binary", value, key=key, headers=headers)
    assert producer.flush(30) == 0
    result = tidal(broker, "consume", "binary", "--from-beginning", "--max-messages", "3", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["key"] == {"base64": "//4ta2V5"}
    assert records[1]["value"] == "värde €"

    def decode(field: str | dict[str, str] | None) -> bytes | None:
        if isinstance(field, dict):
            return base64.b64decode(field["base64"])
        return None if field is None else field.encode()

    got = [
        (decode(r["key"]), decode(r["value"]), [(k, decode(v)) for k, v in r["headers"]])
        for r in records
    ]
    assert got == sent
