"""Bad App settings fail at construction with a ConfigurationError naming the
setting, not later at start (or with a raw TypeError/ValueError)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tidal.streams.runtime import App, ConfigurationError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bootstrap_servers": 9092}, "setting 'bootstrap_servers': 9092 must be a str"),
        ({"bootstrap_servers": "host:notaport"}, "setting 'bootstrap_servers': bad port"),
        (
            {"consumer_config": {"sesion_timeout_ms": 1000}},
            "setting 'consumer_config': setting 'sesion_timeout_ms': unknown setting for "
            "ConsumerConfig; did you mean 'session_timeout_ms'?",
        ),
        (
            {"producer_config": {"lingr_ms": 5}},
            "setting 'producer_config': setting 'lingr_ms': unknown setting for "
            "ProducerConfig; did you mean 'linger_ms'?",
        ),
        (
            {"producer_config": {"linger.ms": -1}},
            "setting 'producer_config': setting 'linger_ms'",
        ),
        (
            {"client_config": {"retry_backof_ms": 5}},
            "setting 'client_config': setting 'retry_backof_ms': unknown setting",
        ),
        ({"metrics_port": "abc"}, "setting 'metrics_port': 'abc' must be a port number"),
        ({"metrics_port": 70000}, "setting 'metrics_port': 70000 must be a port number"),
        ({"state_dir": 5}, "setting 'state_dir': 5 must be a path"),
        ({"client_config": "x"}, "setting 'client_config': 'x' must be a mapping"),
        ({"consumer_config": [("a", 1)]}, "setting 'consumer_config': [('a', 1)] must be"),
        ({"broker_config": "x"}, "setting 'broker_config': 'x' must be a mapping"),
        ({"dead_letter_topic": 5}, "setting 'dead_letter_topic': 5 is not a legal topic"),
        ({"processing_guarantee": ["x"]}, "setting 'processing_guarantee': ['x'] is not one"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_setting(
    kwargs: dict[str, Any], message: str, tmp_path: Path
) -> None:
    kwargs.setdefault("state_dir", tmp_path)
    with pytest.raises(ConfigurationError) as raised:
        App("x", **kwargs)
    assert str(raised.value).startswith(message), str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"state_dir": 5}, "setting 'state_dir': 5 must be a path"),
        ({"client_config": "x"}, "setting 'client_config': 'x' must be a mapping"),
        ({"bootstrap_servers": 9092}, "setting 'bootstrap_servers': 9092 must be a str"),
        (
            {"consumer_config": {"sesion_timeout_ms": 1000}},
            "setting 'consumer_config': setting 'sesion_timeout_ms': unknown setting",
        ),
    ],
)
def test_configure_checks_the_same(overrides: dict[str, Any], message: str, tmp_path: Path) -> None:
    app = App("x", state_dir=tmp_path)
    with pytest.raises(ConfigurationError) as raised:
        app.configure(**overrides)
    assert str(raised.value).startswith(message), str(raised.value)


def test_good_client_settings_pass(tmp_path: Path) -> None:
    app = App(
        "x",
        "a:9092,b:9093",
        state_dir=str(tmp_path),
        client_config={"retry.backoff.ms": 20},
        consumer_config={"session_timeout_ms": 3000, "heartbeat_interval_ms": 100},
        producer_config={"linger_ms": 5, "acks": "all"},
        metrics_port=0,
    )
    assert app.config.state_dir == tmp_path
    assert app.config.consumer_config == {"session_timeout_ms": 3000, "heartbeat_interval_ms": 100}
