"""A partition directory written by Apache Kafka opens, reads and indexes the same.

The capture lives in ``vectors/kafka-segment`` (``manifest.json`` describes
it). Kafka's own ``.index`` and ``.timeindex`` are the oracle for the index
entries Tidal builds from the same ``.log`` with the same
``index.interval.bytes``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tidal.log.records import decode_batch, iter_batches
from tidal.log.storage import LogConfig, PartitionLog

VECTORS = Path(__file__).parent / "vectors" / "kafka-segment"
BASE = "00000000000000000000"

pytestmark = pytest.mark.skipif(
    not (VECTORS / "manifest.json").exists(),
    reason=f"Kafka segment capture not present in {VECTORS}",
)


@pytest.fixture
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text())
    return data


@pytest.fixture
def partition(tmp_path: Path) -> Path:
    target = tmp_path / "kafka-segment-0"
    shutil.copytree(VECTORS, target)
    (target / "manifest.json").unlink()
    return target


def config(manifest: dict[str, Any]) -> LogConfig:
    return LogConfig.from_properties(manifest["topic_config"])


def kafka_file(ext: str) -> bytes:
    return (VECTORS / f"{BASE}{ext}").read_bytes()


def test_reads_every_batch_kafka_wrote(manifest: dict[str, Any], partition: Path) -> None:
    log = PartitionLog(partition, config(manifest), recovery_point=10**9, had_clean_shutdown=True)
    assert log.recovery_report.recovered == []  # Kafka's indexes pass our checks
    batches = manifest["batches"]
    assert log.log_end_offset == batches[-1]["last_offset"] + 1
    assert log.leader_epoch_cache.entries() == [(0, 0)]
    raw = (partition / f"{BASE}.log").read_bytes()
    for expected in batches:
        for offset in range(expected["base_offset"], expected["last_offset"] + 1):
            rng = log.read(offset, 1)
            assert (rng.position, rng.length) == (expected["position"], expected["size"])
        data = log.read_bytes(expected["base_offset"], expected["size"])
        assert data == raw[expected["position"] : expected["position"] + expected["size"]]
        records = decode_batch(data).records
        assert [(r.offset, r.timestamp, r.key, r.value) for r in records] == [
            (r["offset"], r["timestamp"], bytes.fromhex(r["key"]), bytes.fromhex(r["value"]))
            for r in expected["records"]
        ]
    assert len(list(iter_batches(log.read_bytes(0, 1 << 20)))) == len(batches)
    log.close()


@pytest.mark.parametrize("how", ["rebuilt at open", "recovered", "appended"])
def test_our_indexes_equal_kafkas(manifest: dict[str, Any], partition: Path, how: str) -> None:
    if how == "rebuilt at open":
        (partition / f"{BASE}.index").unlink()
        (partition / f"{BASE}.timeindex").unlink()
        log = PartitionLog(
            partition, config(manifest), recovery_point=10**9, had_clean_shutdown=True
        )
    elif how == "recovered":
        log = PartitionLog(partition, config(manifest))  # unclean: full scan
        assert log.recovery_report.recovered == [partition / f"{BASE}.log"]
    else:
        data = (partition / f"{BASE}.log").read_bytes()
        shutil.rmtree(partition)
        log = PartitionLog(partition, config(manifest))
        log.append_raw(data)
    log.close()
    assert (partition / f"{BASE}.index").read_bytes() == kafka_file(".index")
    assert (partition / f"{BASE}.timeindex").read_bytes() == kafka_file(".timeindex")


def test_offset_for_timestamp_against_kafka_data(manifest: dict[str, Any], partition: Path) -> None:
    log = PartitionLog(partition, config(manifest), recovery_point=10**9, had_clean_shutdown=True)
    records = [r for b in manifest["batches"] for r in b["records"]]
    for target in (0, 1700000004500, 1700000012000, 1700000013000, 1700000019003):
        expected = next((r for r in records if r["timestamp"] >= target), None)
        found = log.offset_for_timestamp(target)
        assert found is not None
        assert expected is not None
        assert (found.timestamp, found.offset) == (expected["timestamp"], expected["offset"])
    assert log.offset_for_timestamp(1700000019004) is None
    log.close()
