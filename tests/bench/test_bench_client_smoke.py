"""``bench/client.py`` runs end to end on a tiny workload and writes its JSON.

Only Tidal's own clients run (the peers are the benchmark's business, not the
suite's), against the broker it starts with ``tidal broker start``. No timing
is asserted.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench._smoke import ROOT, positive


def _positive(value: Any) -> bool:
    return positive(value)


def test_client_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "client.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "client.py"),
        "--rounds", "1",
        "--workload", "tiny=300x100",
        "--clients", "tidal",
        "--profile", "--profile-top", "5",
        "--dir", str(tmp_path / "work"),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "msgs/s" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "client"
    assert report["settings"]["clients"] == ["tidal"]
    assert report["settings"]["workloads"] == [{"name": "tiny", "count": 300, "size": 100}]
    assert report["machine"]["cpu_count"] >= 1
    assert set(report["results"]) == {"tiny/produce", "tiny/consume"}
    for runs in report["results"].values():
        assert len(runs["tidal"]) == 1
        assert _positive(runs["tidal"][0])
    assert report["ratios"] == []  # no peer ran
    profile = report["producer_profile"]
    for mode in ("default", "pure_python"):
        assert len(profile[mode]["top_by_self_time"]) == 5
        assert _positive(profile[mode]["profiled_msgs_per_s"])
    for mode in ("default", "pure_python"):
        assert _positive(profile["encode_batch_alone"][mode]["seconds"])
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
