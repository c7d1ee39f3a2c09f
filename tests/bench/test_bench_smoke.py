"""``bench/storage.py`` runs end to end on a tiny size and writes its JSON.

No timing is asserted: benchmarks are measured by running them, not in tests.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench._smoke import ROOT, positive

PHASES = [
    "append",
    "append small records",
    "read (sendfile)",
    "read (preadv)",
    "recovery scan",
    "append + fsync",
]


def _positive(value: Any) -> bool:
    return positive(value)


def test_storage_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "storage.json"
    data_dir = tmp_path / "data"
    command = [
        sys.executable,
        str(ROOT / "bench" / "storage.py"),
        "--size-mib", "8",
        "--segment-mib", "3",  # several segments, so reads and recovery cross them
        "--fsync",
        "--dir", str(data_dir),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ratio" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "storage"
    assert report["settings"]["size_mib"] == 8
    assert report["machine"]["cpu_count"] >= 1
    assert report["machine"]["filesystem"]["type"]
    assert [phase["name"] for phase in report["phases"]] == PHASES
    for phase in report["phases"]:
        assert phase["tidal"]["bytes"] > 0
        assert _positive(phase["tidal"]["mb_per_s"]), phase
        assert _positive(phase["dd"]["mb_per_s"]), phase
        assert _positive(phase["ratio"]), phase
        assert isinstance(phase["met"], bool), phase
        assert phase["goal"]
    assert report["phases"][4]["segments_scanned"] >= 3
    assert isinstance(report["all_goals_met"], bool)
    # The run directory is removed; only the parent given with --dir remains.
    assert list(data_dir.iterdir()) == []
