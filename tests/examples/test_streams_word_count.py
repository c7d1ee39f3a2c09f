"""The streams word count example runs as a user runs it and counts right."""

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "streams_word_count.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("streams_word_count", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_streams_word_count(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    want = Counter(
        word for line in _example().LINES for word in re.findall(r"[a-z-]+", line.lower())
    )
    assert want["the"] == 9
    assert want["sea-sands"] == 1

    section = out.split("counts in store 'counts' (a local query):")[1].split("\n\n")[0]
    got = {word: int(n) for word, n in re.findall(r"^  (\S+)\s+(\d+)$", section, re.MULTILINE)}
    assert got == dict(want)
    # Most frequent first.
    assert section.split()[0:2] == ["the", "9"]
    total = sum(want.values())
    assert f"'word-counts' holds {total} updates; the latest per word agree: True" in out

    # The topology went through a repartition topic into sub-topology 1.
    assert "Sink: KSTREAM-SINK-0000000003 (topic: word-count-counts-repartition)" in out
    assert "(stores: [counts])" in out
    # The store is a RocksDB database in the repartitioned task's directory.
    assert list((tmp_path / "word-count").glob("1_*/counts/CURRENT"))
    assert (tmp_path / "word-count" / "broker" / "word-count-counts-changelog-0").is_dir()
