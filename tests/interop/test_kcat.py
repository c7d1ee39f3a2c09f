"""kcat (librdkafka's command-line client) against a Tidal broker: -L, -P, -C."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
pytestmark = pytest.mark.skipif(
    KCAT is None, reason="kcat is not installed: apt-get install -y kcat"
)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBrokerThread]:
    with EmbeddedBroker.sync(tmp_path_factory.mktemp("kcat"), {"num.partitions": 2}) as b:
        yield b


def kcat(broker: EmbeddedBrokerThread, *args: str, stdin: str | None = None) -> str:
    assert KCAT is not None
    result = subprocess.run(
        [KCAT, "-b", broker.bootstrap_servers, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_metadata_listing(broker: EmbeddedBrokerThread) -> None:
    kcat(broker, "-P", "-t", "kcat-listed", stdin="x\n")
    listing = json.loads(kcat(broker, "-L", "-J"))
    assert [(b["id"], b["name"]) for b in listing["brokers"]] == [
        (broker.broker.node_id, broker.bootstrap_servers)
    ]
    topics = {t["topic"]: t for t in listing["topics"]}
    assert [p["partition"] for p in topics["kcat-listed"]["partitions"]] == [0, 1]
    assert all(p["leader"] == broker.broker.node_id for p in topics["kcat-listed"]["partitions"])
    text = kcat(broker, "-L", "-t", "kcat-listed")
    assert 'topic "kcat-listed" with 2 partitions' in text


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_produce_and_consume(broker: EmbeddedBrokerThread, codec: str) -> None:
    topic = f"kcat-{codec}"
    lines = [f"key{i}:value {i}" for i in range(100)]
    kcat(broker, "-P", "-t", topic, "-p", "0", "-K", ":", "-z", codec,
         "-H", "origin=kcat", stdin="\n".join(lines) + "\n")  # fmt: skip
    out = kcat(broker, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-J")
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(r["offset"], r["key"], r["payload"]) for r in records] == [
        (i, f"key{i}", f"value {i}") for i in range(100)
    ]
    assert all(r["headers"] == ["origin", "kcat"] for r in records)
    tail = kcat(broker, "-C", "-t", topic, "-p", "0", "-o", "-3", "-e", "-f", "%o %s\\n")
    assert tail.split("\n")[:3] == ["97 value 97", "98 value 98", "99 value 99"]


def test_query_offsets_by_time(broker: EmbeddedBrokerThread, tmp_path: Path) -> None:
    kcat(broker, "-P", "-t", "kcat-times", "-p", "1", stdin="a\nb\n")
    out = kcat(broker, "-Q", "-t", "kcat-times:1:-1")
    assert "kcat-times [1] offset 2" in out
    out = kcat(broker, "-Q", "-t", "kcat-times:1:-2")
    assert "kcat-times [1] offset 0" in out
