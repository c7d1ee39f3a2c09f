"""``tidal broker start`` as users run it: ready line, clients, metrics,
signals and a clean shutdown; bad flags exit 2 naming the problem."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed: pip install confluent-kafka"
)

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from tidal.log.storage import CLEAN_SHUTDOWN_FILE  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def produce_and_consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(count):
        producer.produce(topic, key=b"k", value=b"m%d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cli-test"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(values) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            values.append(msg.value())
    consumer.close()
    return values


def test_start_serve_metrics_and_stop_on_sigterm(tmp_path: Path, broker_process: Any) -> None:
    data_dir = tmp_path / "data"
    metrics_port = _free_port()
    broker = broker_process(data_dir, _free_port(), "--metrics-port", str(metrics_port))
    ready = broker.start()
    assert ready == f"tidal broker ready on {broker.bootstrap_servers}"
    assert produce_and_consume(broker.bootstrap_servers, "cli-topic", 50) == [
        b"m%d" % i for i in range(50)
    ]
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    assert 'tidal_requests_total{api="Produce"}' in text
    assert 'tidal_request_seconds_count{api="Fetch"}' in text
    assert 'tidal_network_bytes_total{direction="in"}' in text
    assert 'tidal_log_end_offset{partition="0",topic="cli-topic"} 50.0' in text
    assert "tidal_connections" in text
    assert (data_dir / CLEAN_SHUTDOWN_FILE).exists() is False
    assert broker.terminate() == 0
    assert (data_dir / CLEAN_SHUTDOWN_FILE).exists()
    log = broker.log()
    assert "shutting down" in log
    assert "Traceback" not in log

    again = broker_process(data_dir, _free_port())
    again.start()
    assert produce_and_consume(again.bootstrap_servers, "cli-topic", 50)[:1] == [b"m0"]
    assert again.terminate() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "no.such.setting=1"], "no.such.setting"),
        (["--set", "num.partitions=many"], "num.partitions"),
        (["--set", "justakey"], "--set"),
        (["--listen", "localhost:http"], "--listen"),
        (["--advertise", "host:99999"], "--advertise"),
        (["--config", "/does/not/exist.properties"], "--config"),
        (["--metrics-port", "-1"], "--metrics-port"),
        (["--bogus-flag"], "--bogus-flag"),
    ],
)
def test_bad_flags_exit_2_naming_them(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tidal", "broker", "start", "--data-dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_bad_config_file_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "server.properties"
    config.write_text("log.retention.hours=forever\n")
    result = subprocess.run(
        [sys.executable, "-m", "tidal", "broker", "start", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "log.retention.hours" in result.stderr


def test_second_broker_on_a_locked_data_dir_exits_1(tmp_path: Path, broker_process: Any) -> None:
    """Two brokers over one directory would share (and corrupt) its state:
    the second is refused, and touches nothing in the directory."""
    data_dir = tmp_path / "data"
    first = broker_process(data_dir, _free_port())
    first.start()
    second = subprocess.run(
        [
            sys.executable, "-m", "tidal", "broker", "start",
            "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{_free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert second.returncode == 1, second.stderr
    errors = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, second.stderr
    assert f"another process is using this directory: {data_dir}" in errors[0]
    assert "ready" not in second.stdout
    # The refused broker wrote no clean-shutdown marker into the running one's directory.
    assert not (data_dir / CLEAN_SHUTDOWN_FILE).exists()
    assert produce_and_consume(first.bootstrap_servers, "locked", 5) == [
        b"m%d" % i for i in range(5)
    ]
    assert first.terminate() == 0
    # Once the first has stopped, the directory is free again.
    again = broker_process(data_dir, _free_port())
    again.start()
    assert again.terminate() == 0
