"""The transactions example runs as a user runs it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka", reason="pip install -e '.[test]' installs confluent-kafka")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transactions_with_confluent.py"


def test_transactions_with_confluent(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    counts = dict(re.findall(r"^(read_\w+): (\d+) records", result.stdout, re.MULTILINE))
    assert counts == {"read_committed": "3", "read_uncommitted": "5"}
    committed = re.search(r"^read_committed: 3 records: (.*)$", result.stdout, re.MULTILINE)
    assert committed is not None
    assert committed.group(1) == "order 0 placed, order 1 placed, order 2 placed"
    # the coordinator's state is on disk, in the compacted internal topic
    assert any(p.name.startswith("__transaction_state-") for p in tmp_path.iterdir())
    assert list(tmp_path.glob("orders-*/*.txnindex")), "the abort was indexed"
