"""``kill -9`` of the broker while a librdkafka transactional producer works.

The producer runs transactions of records spread over three partitions and
notes those whose ``commit_transaction`` returned. The broker is killed
with SIGKILL at arbitrary moments (between a transaction's records, during
EndTxn, with markers half written...) and restarted on the same data
directory. Afterwards a read_committed consumer must see every confirmed
transaction, no record twice, and every transaction whole or not at all:
no aborted transaction ever visible: the coordinator completes a
transaction it had decided (Prepare* in ``__transaction_state``) and aborts
one it had not, by timeout.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

TOPIC = "txn-crash"
PARTITIONS = 3
PER_TXN = 12
KILLS = 4
SETTINGS = (
    "--set", f"num.partitions={PARTITIONS}",
    "--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _producer(bootstrap: str) -> Producer:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": "crash-app",
            "transaction.timeout.ms": 5000,
            "linger.ms": 2,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
        }
    )
    producer.init_transactions(60)
    return producer


class TxnLoad:
    """Transactions numbered 0, 1, ...: every fourth is aborted. ``confirmed``
    are those whose commit returned, ``aborted`` those whose abort did."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.confirmed: set[int] = set()
        self.aborted: set[int] = set()
        self.started = 0
        self.stop = threading.Event()
        self.failures: list[str] = []

    def run(self) -> None:
        producer = _producer(self.bootstrap)
        while not self.stop.is_set():
            number = self.started
            self.started += 1
            try:
                producer.begin_transaction()
                for i in range(PER_TXN):
                    producer.produce(TOPIC, key=b"%d" % i, value=b"t%06d-%02d" % (number, i))
                if number % 4 == 3:
                    producer.flush(30)  # the records reach the log, then the abort
                    producer.abort_transaction(30)
                    self.aborted.add(number)
                else:
                    producer.commit_transaction(30)
                    self.confirmed.add(number)
            except KafkaException as exc:
                error = exc.args[0]
                self.failures.append(str(error))
                if error.txn_requires_abort():
                    try:
                        producer.abort_transaction(30)
                        continue
                    except KafkaException as again:
                        self.failures.append(str(again.args[0]))
                producer = _producer(self.bootstrap)  # fatal: a new instance fences the old
        producer.flush(30)


def _read_committed(bootstrap: str) -> Counter[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "crash-check",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    seen: Counter[bytes] = Counter()
    at_end: set[int] = set()
    deadline = time.monotonic() + 60
    try:
        while len(at_end) < PARTITIONS and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                at_end.add(message.partition())
                continue
            seen[message.value()] += 1
    finally:
        consumer.close()
    assert len(at_end) == PARTITIONS
    return seen


@pytest.mark.slow
def test_kill_9_keeps_transactions_atomic(tmp_path: Path, broker_process: Any) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    broker = broker_process(data_dir, port, *SETTINGS)
    broker.start()
    load = TxnLoad(broker.bootstrap_servers)
    worker = threading.Thread(target=load.run, daemon=True)
    worker.start()
    for _ in range(KILLS):
        target = load.started + 15
        deadline = time.monotonic() + 60
        while load.started < target and time.monotonic() < deadline:
            time.sleep(0.02)
        broker.kill()
        time.sleep(0.2)
        broker = broker_process(data_dir, port, *SETTINGS)
        broker.start()
    target = len(load.confirmed) + 10
    deadline = time.monotonic() + 60
    while len(load.confirmed) < target and time.monotonic() < deadline:
        time.sleep(0.05)
    load.stop.set()
    worker.join(120)
    assert not worker.is_alive()
    assert len(load.confirmed) >= 10, load.failures[:5]

    time.sleep(6)  # an undecided transaction times out (5 s) and is aborted
    seen = _read_committed(broker.bootstrap_servers)
    assert {v: n for v, n in seen.items() if n > 1} == {}
    by_txn: dict[int, int] = defaultdict(int)
    for value in seen:
        match = re.fullmatch(rb"t(\d{6})-\d{2}", value)
        assert match is not None, value
        by_txn[int(match.group(1))] += 1
    partial = {t: n for t, n in by_txn.items() if n != PER_TXN}
    assert partial == {}, "transactions seen in part"
    missing = load.confirmed - set(by_txn)
    assert missing == set(), "confirmed transactions lost"
    assert load.aborted, "no transaction was aborted"
    assert load.aborted & set(by_txn) == set(), "aborted transactions visible"
    assert broker.terminate() == 0
