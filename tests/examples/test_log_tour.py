"""The log tour example runs as a user runs it and does what it says."""

import subprocess
import sys
from pathlib import Path

from tidal.log.records import decode_batch
from tidal.log.storage import LogManager

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "log_tour.py"


def test_log_tour(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "orders-0: offsets 0..127" in out
    assert "Compacted 'customers': 21 records -> 4 (latest per key)" in out
    assert "offset 20: b'c3' -> None" in out
    assert "recovery truncated 00000000000000000000.log" in out
    assert "log end offset 86 -> 77; appends continue:" in out
    # What the tour left on disk is a valid log in Kafka's layout.
    assert (tmp_path / "orders-0" / "00000000000000000000.index").is_file()
    with LogManager(tmp_path, start_scheduler=False) as manager:
        log = manager.get_or_create_log("orders", 1)
        assert log.log_end_offset == 78
        data = log.read_bytes(77, 1 << 20)
        assert decode_batch(data).records[0].value == b"after the crash"
