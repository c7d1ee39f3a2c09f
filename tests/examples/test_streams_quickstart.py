"""The code in docs/streams-quickstart.md runs and says what the page says."""

import importlib
import re
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "streams-quickstart.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_the_first_app_and_its_test_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app_code, test_code = _python_blocks()
    (tmp_path / "clicks.py").write_text(app_code)
    (tmp_path / "test_clicks.py").write_text(test_code)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("clicks", "test_clicks"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        clicks = importlib.import_module("clicks")
        test_clicks = importlib.import_module("test_clicks")
        test_clicks.test_counts_pages_and_skips_bots()

        described = clicks.app.describe()
        assert "Sub-topology: 1" in described
        assert "(topics: [clicks])" in described
        assert "clicks-by-page-repartition" in described
        assert "(stores: [clicks-per-page])" in described
        assert "(topic: page-counts)" in described
        internal = {t.name for t in clicks.app.topology().internal_topics(lambda _: 4)}
        assert internal == {"clicks-by-page-repartition", "clicks-clicks-per-page-changelog"}
    finally:
        for name in ("clicks", "test_clicks"):
            sys.modules.pop(name, None)


def test_the_demo_options_table_matches_the_command() -> None:
    from tidal.cli._demo import demo  # noqa: PLC0415

    text = DOC.read_text()
    defaults = {p.name: p.default for p in demo.params}
    assert defaults["records"] == 100_000
    assert defaults["users"] == 2_000
    assert defaults["partitions"] == 4
    assert defaults["seed"] == 7
    assert "| `--records N` | 100,000 |" in text
    assert "| `--users N` | 2,000 |" in text
    assert "| `--partitions N` | 4 |" in text
    assert "| `--seed N` | 7 |" in text
