"""``bench/transactions.py`` runs end to end against Tidal's broker alone on a tiny load,
checks what it wrote with a ``read_committed`` consumer, and writes its JSON.

No timing is asserted: benchmarks are measured by running them, not in tests.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.bench._smoke import ROOT, load_bench, positive

SCRIPT = ROOT / "bench" / "transactions.py"


def _positive(value: Any) -> bool:
    return positive(value)


def _bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_bench(monkeypatch, SCRIPT, "bench_transactions")


def test_transactions_benchmark_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "transactions.json"
    command = [
        sys.executable, str(SCRIPT),
        "--brokers", "tidal",
        "--workloads", "small=20x10,large=2x300",
        "--partitions", "3",
        "--settle", "0",
        "--dir", str(tmp_path / "work"),
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "records/s" in result.stdout

    report = json.loads(output.read_text())
    assert report["benchmark"] == "transactions"
    assert report["settings"]["partitions"] == 3
    assert [w["name"] for w in report["settings"]["workloads"]] == ["small", "large"]
    assert report["machine"]["cpu_count"] >= 1
    assert report["brokers"]["tidal"]["version"]
    assert report["client"]["librdkafka"]
    assert report["failures"] == 0
    small, large = report["runs"]
    assert (small["workload"], small["transactions"], small["records"]) == ("small", 20, 200)
    assert (large["workload"], large["transactions"], large["records"]) == ("large", 2, 600)
    for run in (small, large):
        assert run["broker"] == "tidal"
        assert run["error"] is None
        assert run["verified"] is True
        # 10 records round-robin over 3 partitions: 4, 3 and 3 a transaction.
        per_txn = {"small": [4, 3, 3], "large": [100, 100, 100]}[run["workload"]]
        expected = {str(p): n * run["transactions"] for p, n in enumerate(per_txn)}
        assert run["expected_by_partition"] == expected
        assert run["read_committed_by_partition"] == expected
        for key in ("records_per_s", "transactions_per_s", "mb_per_s"):
            assert _positive(run[key]), (key, run)
        # /proc counts CPU in clock ticks: a tiny run may show none.
        assert run["broker_cpu_seconds"] >= 0
        assert run["commit_ms"]["p50"] <= run["commit_ms"]["p99"] <= run["commit_ms"]["max"]
    assert report["ratios"] == []  # no Apache Kafka in this run
    assert not any((tmp_path / "work").iterdir())


def test_workloads_and_ratios(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _bench(monkeypatch)
    small, large = bench._workloads("small=2000x100, large=100x10000")
    assert (small.name, small.transactions, small.records, small.total) == (
        "small",
        2000,
        100,
        200_000,
    )
    assert large.total == 1_000_000
    for bad in ("small", "small=10", "small=0x5", "=3x3", "a=1x1,a=2x2"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench._workloads(bad)

    runs = []
    for broker, seconds in (("tidal", 2.0), ("kafka", 4.0)):
        run = bench.Run(broker, small, 1, 100)
        run.seconds = seconds
        runs.append(run)
    failed = bench.Run("kafka", large, 1, 100)
    failed.error = "broken"
    runs.append(failed)
    medians = bench.medians(runs)
    assert medians == {"small": {"tidal": 100_000.0, "kafka": 50_000.0}}
    assert bench.ratios([small, large], medians) == [
        {
            "workload": "small",
            "tidal_records_per_s": 100_000.0,
            "kafka_records_per_s": 50_000.0,
            "ratio_tidal_over_kafka": 2.0,
        }
    ]
