"""docs/connectors.md documents the FileStream connectors' settings, links to them
rather than in a circle, and says what datagen's time fields do."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from tidal.connectors import builtin
from tidal.connectors.builtin._datagen import QUICKSTARTS
from tidal.connectors.config import ConfigDef

DOCS = Path(__file__).resolve().parents[3] / "docs"
_BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z, as the page says


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


@pytest.mark.parametrize(
    ("alias", "cls"),
    [
        ("FileStreamSource", builtin.FileStreamSourceConnector),
        ("FileStreamSink", builtin.FileStreamSinkConnector),
    ],
)
def test_the_filestream_section_has_every_setting(alias: str, cls: type) -> None:
    section = _section((DOCS / "connectors.md").read_text(), "FileStream source and sink")
    assert f"connector.class={alias}" in section
    for key in cls().config().config_keys.values():
        if key.default_value is ConfigDef.NO_DEFAULT_VALUE:
            default = "| required |"
        elif key.default_value is None:
            default = "| (none) |"
        else:
            default = f"| `{key.default_value}` |"
        rows = re.findall(rf"^\| `{re.escape(key.name)}` \| .*$", section, re.MULTILINE)
        assert any(key.documentation in row and default in row for row in rows), key.name
    assert "`topics`" in section
    assert "`topics.regex`" in section


def test_the_pages_link_to_the_filestream_settings() -> None:
    connectors = (DOCS / "connectors.md").read_text()
    connect = (DOCS / "connect.md").read_text()
    assert "connectors.md#filestream-source-and-sink" in connect
    assert "(#filestream-source-and-sink)" in connectors
    intro = connectors[: connectors.index("\n## ")]
    assert "FileStream" in intro
    assert "see [connect.md]" not in intro.split("| alias |")[0]


@pytest.mark.parametrize(
    ("quickstart", "field"), [("orders", "ordertime"), ("pageviews", "viewtime")]
)
def test_datagen_times_are_seconds_plus_a_random_part_as_documented(
    quickstart: str, field: str
) -> None:
    section = _section((DOCS / "connectors.md").read_text(), "Datagen source")
    assert "plus *n* seconds plus a random 0-999 ms" in section
    times = [QUICKSTARTS[quickstart](random.Random(n), n)[2].get(field) for n in range(200)]
    offsets = [t - _BASE_MS - n * 1000 for n, t in enumerate(times)]
    assert all(0 <= ms <= 999 for ms in offsets)
    assert len(set(offsets)) > 100  # random, not a whole second each
    assert times == sorted(times)
