"""``tidal perf produce|consume`` against a real broker."""

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from tidal.cli import main
from tidal.cli._perf import percentile
from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._embedded import EmbeddedBrokerThread
from tidal.log.client import TopicPartition
from tidal.log.client.admin import NewTopic, OffsetSpec, SyncAdminClient

PRODUCE_SUMMARY = re.compile(
    r"^(\d+) records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, "
    r"[\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$"
)
CONSUME_SUMMARY = re.compile(
    r"^(\d+) records consumed, ([\d.]+) MB, [\d.]+ s, [\d.]+ records/sec \([\d.]+ MB/sec\)\.$"
)


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync() as running:
        yield running


def tidal(broker: EmbeddedBrokerThread, *args: str) -> Result:
    return CliRunner().invoke(main, ["-b", broker.bootstrap_servers, *args])


def total_records(broker: EmbeddedBrokerThread, topic: str) -> int:
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        parts = admin.describe_topics([topic])[topic].partitions
        tps = [TopicPartition(topic, p.partition) for p in parts]
        return sum(
            r.offset for r in admin.list_offsets(dict.fromkeys(tps, OffsetSpec.LATEST)).values()
        )


def test_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51
    assert percentile(values, 0.99) == 100
    assert percentile(values, 1.0) == 100
    assert percentile([], 0.5) == 0


def test_perf_produce_then_consume(broker: EmbeddedBrokerThread) -> None:
    with SyncAdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
        admin.create_topics([NewTopic("bench", 2)])
    produced = tidal(
        broker, "perf", "produce", "--topic", "bench", "--num-records", "3000",
        "--record-size", "100", "--acks", "1", "--compression", "lz4",
    )  # fmt: skip
    assert produced.exit_code == 0, produced.output
    match = PRODUCE_SUMMARY.match(produced.stdout.strip())
    assert match, produced.stdout
    assert match.group(1) == "3000"
    assert total_records(broker, "bench") == 3000

    consumed = tidal(broker, "perf", "consume", "--topic", "bench", "--messages", "3000")
    assert consumed.exit_code == 0, consumed.output
    match = CONSUME_SUMMARY.match(consumed.stdout.strip())
    assert match, consumed.stdout
    assert match.group(1) == "3000"
    assert float(match.group(2)) == pytest.approx(3000 * 100 / 2**20, abs=0.01)


def test_perf_produce_throttles(broker: EmbeddedBrokerThread) -> None:
    result = tidal(
        broker, "perf", "produce", "--topic", "slow", "--num-records", "600",
        "--record-size", "10", "--throughput", "1000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rate = float(result.stdout.split(" records sent, ")[1].split(" ")[0])
    assert rate <= 1000 * 1.1
    assert total_records(broker, "slow") == 600


def test_perf_consume_gives_up_when_short(broker: EmbeddedBrokerThread) -> None:
    tidal(broker, "perf", "produce", "--topic", "short", "--num-records", "5", "--record-size", "1")
    result = tidal(broker, "perf", "consume", "--topic", "short", "--messages", "10",
                   "--timeout-idle", "0.5")  # fmt: skip
    assert result.exit_code == 1
    assert CONSUME_SUMMARY.match(result.stdout.strip())
    assert result.stdout.startswith("5 records consumed")
    assert "Exiting before consuming the expected number of records (10)" in result.stderr
    missing = tidal(broker, "perf", "consume", "--topic", "absent", "--messages", "1")
    assert missing.exit_code == 1
    assert missing.stderr == "Error: topic 'absent' does not exist\n"


def test_perf_in_a_subprocess(broker: EmbeddedBrokerThread) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tidal", "perf", "produce", "--topic", "sub", "--num-records",
         "200", "--record-size", "50", "--bootstrap-server", broker.bootstrap_servers],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert PRODUCE_SUMMARY.match(out.stdout.strip()), out.stdout
    assert out.stderr == ""  # no progress bar when stderr is not a terminal
