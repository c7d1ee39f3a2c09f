"""The Connect transforms example runs as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "connect_transforms.py"


def test_connect_transforms_example() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True, timeout=60
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "offset 0: topic=orders-clean"
    assert lines[3] == "offset 1: topic=orders-clean"
    assert lines[6] == "offset 2: dropped"
    struct_key = json.loads(lines[1].split(maxsplit=1)[1])
    struct_value = json.loads(lines[2].split(maxsplit=1)[1])
    assert struct_key["payload"] == {"order_id": 1001}
    assert struct_value["payload"] == {
        "order_id": 1001,
        "card": "****",
        "amount": 12.5,
        "source_offset": 0,
    }
    assert struct_value["schema"]["name"] == "shop.Order"
    assert struct_value["schema"]["fields"][-1] == {
        "type": "int64",
        "optional": True,
        "field": "source_offset",
    }
    schemaless = json.loads(lines[5].split(maxsplit=1)[1])
    assert schemaless == {
        "schema": None,
        "payload": {"order_id": 1002, "card": "****", "source_offset": 1},
    }
