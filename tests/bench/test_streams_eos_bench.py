"""``bench/streams_eos.py`` runs both guarantees end to end on a tiny input and
writes its JSON. No timing is asserted."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench._smoke import ROOT, positive

SCRIPT = ROOT / "bench" / "streams_eos.py"


def _positive(value: Any) -> bool:
    return positive(value)


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
    runs = {(run["guarantee"], run["commit_interval_ms"]): run for run in report["runs"]}
    assert set(runs) == {
        ("at_least_once", 30_000),  # each guarantee at its default interval...
        ("at_least_once", 100),  # ...and at-least-once at exactly-once's
        ("exactly_once_v2", 100),
    }
    for run in runs.values():
        assert run["error"] is None
        assert run["verified"] is True
        assert run["outputs_received"] == 2000
        assert _positive(run["records_per_s"])
    eos = runs["exactly_once_v2", 100]["records_per_s"]
    same, default = runs["at_least_once", 100], runs["at_least_once", 30_000]
    assert abs(report["exactly_once_cost"] - (1 - eos / same["records_per_s"])) < 0.002
    cost_default = report["exactly_once_cost_vs_default_at_least_once"]
    assert abs(cost_default - (1 - eos / default["records_per_s"])) < 0.002
    assert report["goal_met"] is (report["exactly_once_cost"] <= 0.20)
    assert not any((tmp_path / "work").iterdir())  # the broker and state are removed
