"""``kill -9`` under idempotent, acks=all load from librdkafka, then restart:
every acknowledged record is in the log exactly once.

The page cache survives a process kill, so acknowledged appends survive;
recovery rebuilds the idempotent-producer state from the log, so batches
the producer retries after the restart (their answer was lost with the
process) are recognised as duplicates instead of being appended again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

TOPIC = "crash-load"
PARTITIONS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Load:
    """An idempotent producer sending numbered values until stopped."""

    def __init__(self, bootstrap: str) -> None:
        self.acked: list[bytes] = []
        self.errors: list[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "message.timeout.ms": 120_000,
                "reconnect.backoff.ms": 50,
                "reconnect.backoff.max.ms": 500,
            }
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is None:
            self.acked.append(msg.value())
        else:
            self.errors.append(str(err))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.producer.produce(
                    TOPIC, key=b"%d" % (self.sent % 97), value=b"v%08d" % self.sent,
                    on_delivery=self._on_delivery,
                )  # fmt: skip
                self.sent += 1
            except BufferError:
                self.producer.poll(0.05)
                continue
            if self.sent % 50 == 0:
                self.producer.poll(0.002)

    def wait_for_acks(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"{len(self.acked)} acked, {self.errors[:3]}"
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(30)
        remaining = self.producer.flush(120)
        assert remaining == 0, f"{remaining} records never delivered"


def read_all(bootstrap: str) -> Counter[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "crash-check"})
    ends = [consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1]
            for p in range(PARTITIONS)]  # fmt: skip
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    seen: Counter[bytes] = Counter()
    total, deadline = sum(ends), time.monotonic() + 60
    while sum(seen.values()) < total and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            seen[msg.value()] += 1
    consumer.close()
    assert sum(seen.values()) == total
    return seen


@pytest.mark.slow
def test_kill_9_under_load_loses_and_duplicates_nothing_acked(
    tmp_path: Path, broker_process: Any
) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    broker = broker_process(data_dir, port, "--set", f"num.partitions={PARTITIONS}")
    broker.start()
    load = Load(broker.bootstrap_servers)
    load.thread.start()
    for round_ in range(3):
        load.wait_for_acks(3000 * (round_ + 1), timeout=60)
        broker.kill()  # SIGKILL: no shutdown, no flush beyond the page cache
        time.sleep(0.3)
        broker = broker_process(data_dir, port, "--set", f"num.partitions={PARTITIONS}")
        broker.start()
    load.wait_for_acks(len(load.acked) + 2000, timeout=60)
    load.stop()
    assert load.errors == []
    seen = read_all(broker.bootstrap_servers)
    assert set(load.acked) <= set(seen)
    duplicates = {v: n for v, n in seen.items() if n > 1}
    assert duplicates == {}
    assert len(seen) == load.sent
    assert broker.terminate() == 0
