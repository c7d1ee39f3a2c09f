"""``bench/broker.py`` runs end to end against Tidal alone on a tiny load and
writes its JSON.

No timing is asserted: benchmarks are measured by running them, not in tests.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bench._smoke import ROOT, positive

pytest.importorskip("confluent_kafka", reason="pip install -e '.[test]' installs confluent-kafka")

SCENARIOS = ["produce 100 B", "consume 100 B", "produce 1 KiB", "consume 1 KiB"]


def _positive(value: Any) -> bool:
    return positive(value)


def test_broker_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "broker.json"
    data_dir = tmp_path / "data"
    command = [
        sys.executable,
        str(ROOT / "bench" / "broker.py"),
        "--peers", "tidal",
        "--messages", "2000",
        "--rounds", "1",
        "--settle", "0",
        "--dir", str(data_dir),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "msgs/s" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "broker"
    assert report["settings"]["messages"] == 2000
    assert report["settings"]["value_sizes"] == [100, 1024]
    assert report["settings"]["producer"]["acks"] == "all"
    assert report["machine"]["cpu_count"] >= 1
    assert report["peers"]["tidal"]["version"]
    assert report["load_generator"]["librdkafka"]
    assert report["failures"] == 0
    [only_round] = report["rounds"]
    assert only_round["order"] == ["tidal"]
    measurements = only_round["measurements"]
    assert [m["scenario"] for m in measurements] == SCENARIOS
    for m in measurements:
        assert m["peer"] == "tidal"
        assert m["messages"] == 2000
        assert _positive(m["msgs_per_s"]), m
        assert _positive(m["mb_per_s"]), m
    for scenario in SCENARIOS:
        assert _positive(report["medians"][scenario]["tidal"]["msgs_per_s"])
    # Tidal alone: no ratio, so no goal can be judged.
    assert report["goals"] == []
    assert report["all_goals_met"] is None
    # The run directory is removed; only the parent given with --dir remains.
    assert list(data_dir.iterdir()) == []
