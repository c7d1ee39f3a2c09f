"""The Connect file pipeline example runs as a user runs it and copies the file exactly."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "connect_file_pipeline.py"


def test_connect_file_pipeline(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
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
    copy = (tmp_path / "orders-copy.txt").read_text().splitlines()
    assert copy == (tmp_path / "orders.txt").read_text().splitlines() * 2
