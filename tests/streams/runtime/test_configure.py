"""App.configure: the overrides `tidal run` applies before the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidal.streams.runtime import App, ConfigurationError


def test_a_new_application_id_renames_the_app_and_its_metrics(tmp_path: Path) -> None:
    app = App("orders", state_dir=tmp_path)
    app.stream("in").to("out")
    app.configure(application_id="orders-eu", commit_interval_ms=500)
    assert app.config.application_id == "orders-eu"
    assert app.config.commit_interval_ms == 500
    assert app.metrics.application_id == "orders-eu"
    # The topology compiles under the new name: internal names follow it.
    assert app.topology().application_id == "orders-eu"


def test_unknown_overrides_are_named(tmp_path: Path) -> None:
    app = App("orders", state_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="commit_intervall_ms"):
        app.configure(commit_intervall_ms=5)
