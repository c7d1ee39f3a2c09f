"""The broker example runs as a user runs it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka", reason="pip install -e '.[test]' installs confluent-kafka")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "broker_with_kafka_clients.py"


def test_broker_with_kafka_clients(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = re.findall(r"partition (\d) offset (\d+): (account-\d) -> payment (\d)", result.stdout)
    assert sorted(int(n) for *_, n in lines) == list(range(9))
    # keyed records: one account always lands on one partition
    partitions = {account: set() for _, _, account, _ in lines}
    for partition, _, account, _ in lines:
        partitions[account].add(partition)
    assert all(len(p) == 1 for p in partitions.values())
    assert "committed its offsets" in result.stdout
    # the group's commit landed in the compacted offsets topic on disk
    assert any(p.name.startswith("__consumer_offsets-") for p in tmp_path.iterdir())
