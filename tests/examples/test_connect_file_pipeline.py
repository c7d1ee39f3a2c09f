"""The Connect file pipeline example runs as a user runs it and copies the file exactly."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "connect_file_pipeline.py"


@pytest.mark.parametrize("task_processes", [0, 2])
def test_connect_file_pipeline(tmp_path: Path, task_processes: int) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path), "--task-processes", str(task_processes)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "POST /connectors -> 201" in out
    assert "copied 25 lines: True" in out
    assert "PUT /connectors/orders-sink/pause -> 202" in out
    assert "PUT /connectors/orders-source/stop -> 204" in out
    assert '"offset": {"position": ' in out
    assert "The offsets for this connector have been reset successfully" in out
    assert "after the rewind the copy holds each line twice: True" in out
    placed = re.search(r"worker process (\d+), task processes \[(\d+), (\d+)\]", out)
    if task_processes:
        assert placed is not None, out  # the two tasks in two processes, not the worker
        assert len({placed.group(1), placed.group(2), placed.group(3)}) == 3
    else:
        assert placed is None
    copy = (tmp_path / "orders-copy.txt").read_text().splitlines()
    assert copy == (tmp_path / "orders.txt").read_text().splitlines() * 2
