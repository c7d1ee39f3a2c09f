"""``bench/connect.py`` runs end to end on a tiny input and writes its JSON.

Tidal Connect always runs; Kafka Connect runs when Java and its jars (Maven Central,
through ``tests/peers/kafka-connect/fetch.sh``) are there, and its absence fails the test
under ``TIDAL_REQUIRE_PEERS=1``. Both run on Tidal's broker. No timing is asserted:
benchmarks are measured by running them, not in tests.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bench._smoke import ROOT, positive
from tests.conftest import peer_unavailable

pytest.importorskip("confluent_kafka", reason="pip install -e '.[test]' installs confluent-kafka")

SCRIPT = ROOT / "bench" / "connect.py"
FETCH = ROOT / "tests" / "peers" / "kafka-connect" / "fetch.sh"
RECORDS = 1500
LINE_SIZE = 60


def _positive(value: Any) -> bool:
    return positive(value)


def _run_bench(tmp_path: Path, frameworks: str) -> dict[str, Any]:
    output = tmp_path / "connect.json"
    work = tmp_path / "work"
    command = [
        sys.executable, str(SCRIPT),
        "--records", str(RECORDS),
        "--line-size", str(LINE_SIZE),
        "--brokers", "tidal",
        "--frameworks", frameworks,
        "--flush-interval-ms", "200",
        "--warm-up", "2000",
        "--timeout", "240",
        "--dir", str(work),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "records/s" in result.stdout
    # The run folder (input, outputs, broker data) is removed; --dir itself stays.
    assert list(work.iterdir()) == []
    assert "warm-up: 2,000 records through it" in result.stdout
    report: dict[str, Any] = json.loads(output.read_text())
    assert report["settings"]["warm_up_records"] == 2000
    return report


def _check_run(run: dict[str, Any], framework: str, clean_exit: tuple[int, ...]) -> None:
    assert run["framework"] == framework
    assert run["broker"] == "tidal"
    assert run["records"] == RECORDS
    assert "error" not in run, run
    # The sink's file is the source's file, byte for byte.
    assert run["output_matches_input"] is True
    assert run["worker_exit_code"] in clean_exit
    assert _positive(run["end_to_end_records_per_s"]), run
    # A phase shorter than the script's polling interval has no rate (None): at this
    # size the whole topic may be written between two looks at its end offset.
    for key in ("source_records_per_s", "sink_records_per_s"):
        assert run[key] is None or _positive(run[key]), (key, run)
    # Records reach the topic before the output file is complete.
    assert 0 < run["seconds_to_first_record_in_topic"] <= run["seconds_to_all_records_in_topic"]
    assert run["seconds_to_all_records_in_topic"] <= run["seconds_to_complete_output"]
    assert _positive(run["worker_cpu_seconds"])


def _check_report(report: dict[str, Any], frameworks: list[str]) -> dict[str, Any]:
    assert report["benchmark"] == "connect"
    assert report["failures"] == 0
    settings = report["settings"]
    assert settings["records"] == RECORDS
    assert settings["input_bytes"] == RECORDS * (LINE_SIZE + 1)
    worker = settings["worker"]
    assert worker["value.converter"] == "org.apache.kafka.connect.storage.StringConverter"
    assert worker["offset.flush.interval.ms"] == "200"
    assert worker["producer.batch.size"] == "16384"
    assert settings["source_connector"] == {
        "connector.class": "FileStreamSource",
        "batch.size": "2000",
    }
    assert report["peers"]["broker_tidal"]["version"]
    assert [r["framework"] for r in report["runs"]] == frameworks
    [row] = report["summary"]
    assert row["broker"] == "tidal"
    summary: dict[str, Any] = row
    return summary


def test_tidal_connect_moves_the_file_through_the_topic(tmp_path: Path) -> None:
    report = _run_bench(tmp_path, "tidal")
    row = _check_report(report, ["tidal"])
    [run] = report["runs"]
    _check_run(run, "tidal", (0,))
    assert report["peers"]["framework_tidal"]["command"].startswith("python -m tidal connect")
    assert _positive(row["tidal"]["end_to_end_records_per_s"])
    # Tidal alone: no ratio, so the goal is not judged.
    assert row["ratio_end_to_end"] is None
    assert row["met"] is None


@pytest.mark.kafka
def test_tidal_connect_and_kafka_connect_side_by_side(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        peer_unavailable("Kafka Connect needs Java 17 (apt-get install openjdk-17-jre-headless)")
    fetched = subprocess.run(
        [str(FETCH)], capture_output=True, text=True, timeout=1800, check=False
    )
    if fetched.returncode != 0:
        peer_unavailable(f"cannot fetch the Kafka Connect jars (needs Maven): {fetched.stderr}")
    report = _run_bench(tmp_path, "tidal,kafka")
    row = _check_report(report, ["tidal", "kafka"])
    tidal_run, kafka_run = report["runs"]
    _check_run(tidal_run, "tidal", (0,))
    # The JVM ends with 128 + SIGTERM after its shutdown hooks ran.
    _check_run(kafka_run, "kafka", (0, 143))
    assert report["peers"]["framework_kafka"]["version"] == "4.1.1"
    assert "ConnectStandalone" in report["peers"]["framework_kafka"]["command"]
    ratio = row["ratio_end_to_end"]
    expected = row["tidal"]["end_to_end_records_per_s"] / row["kafka"]["end_to_end_records_per_s"]
    assert ratio == pytest.approx(expected, rel=1e-2)
    assert row["met"] is (ratio >= 1.0)
