"""``tidal transactions list | describe`` against transactions a librdkafka
producer leaves open, commits and aborts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Producer  # noqa: E402

from tidal.cli import main  # noqa: E402
from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread  # noqa: E402


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(config={"num.partitions": 2}) as running:
        yield running


def tidal(broker: EmbeddedBrokerThread, *args: str) -> Result:
    return CliRunner().invoke(main, ["-b", broker.bootstrap_servers, *args])


@pytest.fixture(scope="module")
def producers(broker: EmbeddedBrokerThread) -> Iterator[None]:
    made = []
    for tid, end in (("cli-open", None), ("cli-committed", True), ("cli-aborted", False)):
        producer = Producer(
            {"bootstrap.servers": broker.bootstrap_servers, "transactional.id": tid}
        )
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.produce("cli-topic", key=b"k", value=tid.encode())
        producer.flush(30)
        if end is True:
            producer.commit_transaction(30)
        elif end is False:
            producer.abort_transaction(30)
        made.append(producer)
    yield
    made[0].abort_transaction(30)


def test_list_shows_every_transactional_id(broker: EmbeddedBrokerThread, producers: None) -> None:
    result = tidal(broker, "transactions", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"]
    states = {line.split()[0]: line.split()[3] for line in lines[1:]}
    assert states == {
        "cli-aborted": "CompleteAbort",
        "cli-committed": "CompleteCommit",
        "cli-open": "Ongoing",
    }


def test_list_filters_by_state(broker: EmbeddedBrokerThread, producers: None) -> None:
    result = tidal(broker, "transactions", "list", "--state", "Ongoing")
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()[1:]] == ["cli-open"]
    bad = tidal(broker, "transactions", "list", "--state", "Sleeping")
    assert bad.exit_code == 2  # a bad option value is a usage error
    assert "'Sleeping' is not a transaction state" in bad.output


def test_describe_an_open_transaction(broker: EmbeddedBrokerThread, producers: None) -> None:
    result = tidal(broker, "transactions", "describe", "cli-open")
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split()[:5] == [
        "COORDINATOR", "TRANSACTIONAL-ID", "PRODUCER-ID", "PRODUCER-EPOCH", "STATE",
    ]  # fmt: skip
    cells = row.split()
    assert cells[1] == "cli-open"
    assert cells[4] == "Ongoing"
    assert cells[5] == "60000"  # librdkafka's default transaction.timeout.ms
    assert cells[-1].startswith("cli-topic-")


def test_describe_an_unknown_id(broker: EmbeddedBrokerThread, producers: None) -> None:
    result = tidal(broker, "transactions", "describe", "nobody")
    assert result.exit_code == 1
    assert "transactional id 'nobody' does not exist" in result.output
