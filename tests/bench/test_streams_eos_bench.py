"""``bench/streams_eos.py`` runs both guarantees end to end on a tiny input and
writes its JSON. No timing is asserted."""

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "streams_eos.py"


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_streams_eos_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "streams_eos.json"
    command = [
        sys.executable, str(SCRIPT),
        "--records", "2000",
        "--keys", "30",
        "--partitions", "2",
        "--timeout", "120",
        "--dir", str(tmp_path / "work"),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "exactly-once costs" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "streams_eos"
    assert (report["records"], report["keys"], report["partitions"]) == (2000, 30, 2)
    runs = {run["guarantee"]: run for run in report["runs"]}
    assert set(runs) == {"at_least_once", "exactly_once_v2"}
    assert runs["at_least_once"]["commit_interval_ms"] == 30_000
    assert runs["exactly_once_v2"]["commit_interval_ms"] == 100
    for run in runs.values():
        assert run["error"] is None
        assert run["verified"] is True
        assert run["outputs_received"] == 2000
        assert _positive(run["records_per_s"])
    eos, alos = runs["exactly_once_v2"]["records_per_s"], runs["at_least_once"]["records_per_s"]
    assert abs(report["exactly_once_cost"] - (1 - eos / alos)) < 0.002
    assert report["goal_met"] is (report["exactly_once_cost"] <= 0.20)
    assert not any((tmp_path / "work").iterdir())  # the broker and state are removed
