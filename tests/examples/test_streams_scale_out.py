"""The scale-out example: two worker processes split the tasks and the result is whole."""

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "streams_scale_out.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("streams_scale_out", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_streams_scale_out(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    example = _example()
    views = example.generate_views(example.VIEWS)
    want = Counter(page for _, page in views)

    # Both workers got tasks; together they run all 8, none twice.
    tasks = dict(re.findall(r"^worker ([AB]) runs tasks (.+)$", out, re.MULTILINE))
    assert set(tasks) == {"A", "B"}
    a, b = set(tasks["A"].split()), set(tasks["B"].split())
    assert a
    assert b
    assert not a & b
    assert a | b == {f"{sub}_{p}" for sub in (0, 1) for p in range(4)}

    # Both read input, and between them every view once.
    read = dict(re.findall(r"^worker ([AB]) read (\d+) views", out, re.MULTILINE))
    assert int(read["A"]) > 0
    assert int(read["B"]) > 0
    assert int(read["A"]) + int(read["B"]) == len(views)

    # Each page is counted in exactly one worker's store, with the full count.
    held: dict[str, int] = {}
    for worker in ("A", "B"):
        line = re.search(rf"^worker {worker} read .* holds (.+)$", out, re.MULTILINE)
        assert line is not None, out
        for page, n in re.findall(r"(\S+)=(\d+)", line.group(1)):
            assert page not in held
            held[page] = int(n)
    assert held == dict(want)

    # The output topic, read back by the coordinator, agrees.
    listed = dict(re.findall(r"^  (/\S*)\s+(\d+)$", out, re.MULTILINE))
    assert {page: int(n) for page, n in listed.items()} == dict(want)
    assert f"total {len(views)} views; matches the input" in out
    assert (tmp_path / "state-A" / "page-views").is_dir()
    assert (tmp_path / "state-B" / "page-views").is_dir()
