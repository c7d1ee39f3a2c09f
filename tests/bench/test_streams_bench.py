"""``bench/streams.py`` runs Tidal's half end to end on a tiny input and writes its JSON.

Quix Streams and Faust run from an environment of their own (their pins clash with
the test extra), so only Tidal runs here. No timing is asserted.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.bench._smoke import ROOT, load_bench, positive

SCRIPT = ROOT / "bench" / "streams.py"


def _positive(value: Any) -> bool:
    return positive(value)


def _bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_bench(monkeypatch, SCRIPT, "bench_streams")


def test_streams_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "streams.json"
    command = [
        sys.executable, str(SCRIPT),
        "--records", "3000",
        "--keys", "40",
        "--partitions", "2",
        "--frameworks", "tidal",
        "--brokers", "tidal",
        "--settle", "0",
        "--dir", str(tmp_path / "work"),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "records/s" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "streams"
    assert report["settings"]["records"] == 3000
    assert report["settings"]["frameworks"] == ["tidal"]
    assert report["machine"]["cpu_count"] >= 1
    assert report["brokers"]["tidal"]["version"]
    [run] = report["runs"]
    assert run["framework"] == "tidal"
    assert run["broker"] == "tidal"
    assert run["error"] is None
    assert run["verified"] is True
    assert run["mismatches"] == []
    assert run["outputs_received"] >= 3000
    assert _positive(run["records_per_s"])
    assert _positive(run["seconds"])
    assert run["other_cores"] is not None
    assert run["settled_seconds"] == 0
    assert report["ratios"] == []  # no peer ran
    assert not any((tmp_path / "work").iterdir())


def test_the_input_and_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _bench(monkeypatch)
    keys, values = bench.generate(500, 7)
    assert (keys, values) == bench.generate(500, 7)
    user_key = load_bench(monkeypatch, ROOT / "bench" / "_streams_input.py", "input").user_key
    assert set(keys) <= {user_key(i) for i in range(7)}
    totals = bench.expected_totals(keys, values)
    assert sum(count for count, _ in totals.values()) == 500
    first = json.loads(values[0])
    assert first["user"] == keys[0]
    assert first["seq"] == 0

    outputs = {
        key.encode(): json.dumps({"count": c, "sum": s}).encode() for key, (c, s) in totals.items()
    }
    run = bench.Run("tidal", "tidal", 500)
    bench.verify(outputs, totals, run)
    assert run.verified

    key = keys[0]
    count, total = totals[key]
    outputs[key.encode()] = json.dumps({"count": count - 1, "sum": total}).encode()
    outputs[b"user-99999"] = b'{"count": 1, "sum": 1}'
    run = bench.Run("tidal", "tidal", 500)
    bench.verify(outputs, totals, run)
    assert not run.verified
    assert run.mismatches == [
        f"{key}: expected {(count, total)}, got {(count - 1, total)}",
        "user-99999: not in the input",
    ]
