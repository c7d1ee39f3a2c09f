"""The client transactions example runs as a user runs it."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "client_transactions.py"


def test_client_transactions_example(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "aborted (the transform failed half-way); back to offset 5" in out
    assert "the old producer was fenced" in out
    assert "committed offset: 10" in out
    committed = re.search(r"^read_committed: (\d+) records: (.*)$", out, re.MULTILINE)
    assert committed is not None
    assert committed.group(1) == "10"
    # every order doubled exactly once, in order
    assert committed.group(2).split(", ") == [f"order-{i}={i * 20}" for i in range(10)]
    # the aborted attempt (three records) is in the log, hidden from read_committed
    assert re.search(r"^read_uncommitted: 13 records$", out, re.MULTILINE)
