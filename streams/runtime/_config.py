"""The settings of a streams application, checked once when the App is built.

Names follow Kafka Streams' ``StreamsConfig`` in snake case; defaults are
Kafka Streams' where it has one (``commit_interval_ms`` 30000 is its
at-least-once default), except ``state_dir``, which is ``./tidal-state`` (a
directory next to the application, not ``/tmp``, so that state survives a
reboot).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tidal.streams._contract import StreamsError

__all__ = [
    "AT_LEAST_ONCE",
    "DEFAULT_STATE_DIR",
    "EXACTLY_ONCE_V2",
    "AppConfig",
    "ConfigurationError",
]

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"
DEFAULT_STATE_DIR = "./tidal-state"
_HANDLERS = ("fail", "log_and_continue")
_RESETS = ("earliest", "latest")
_LEGAL_ID = re.compile(r"^[a-zA-Z0-9._-]{1,200}$")


class ConfigurationError(StreamsError, ValueError):
    """A streams setting is missing or has a bad value (the message names it)."""


@dataclass(frozen=True)
class AppConfig:
    """Checked settings of one application instance (see :class:`App`)."""

    application_id: str
    bootstrap_servers: str | None = None
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    processing_guarantee: str = AT_LEAST_ONCE
    commit_interval_ms: int = 30_000
    deserialization_exception_handler: str = "fail"
    dead_letter_topic: str | None = None
    auto_offset_reset: str = "earliest"
    #: Settings given to every client (Kafka names, snake case or dotted).
    client_config: Mapping[str, object] = field(default_factory=dict)
    consumer_config: Mapping[str, object] = field(default_factory=dict)
    producer_config: Mapping[str, object] = field(default_factory=dict)
    #: Settings of the embedded broker (``server.properties`` names).
    broker_config: Mapping[str, object] = field(default_factory=dict)
    #: Records per ``getmany`` (Kafka Streams' ``max.poll.records`` is 1000).
    max_poll_records: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.application_id, str) or not _LEGAL_ID.match(self.application_id):
            raise ConfigurationError(
                f"setting 'application_id': {self.application_id!r} must be 1-200 characters "
                "of letters, digits, '.', '_' and '-' (it names the group and internal topics)"
            )
        if self.processing_guarantee == EXACTLY_ONCE_V2:
            raise ConfigurationError(
                "setting 'processing_guarantee': 'exactly_once_v2' is not yet supported; "
                "use 'at_least_once'"
            )
        if self.processing_guarantee != AT_LEAST_ONCE:
            raise ConfigurationError(
                f"setting 'processing_guarantee': {self.processing_guarantee!r} is not one of "
                f"'{AT_LEAST_ONCE}', '{EXACTLY_ONCE_V2}'"
            )
        _positive("commit_interval_ms", self.commit_interval_ms)
        _positive("max_poll_records", self.max_poll_records)
        _choice(
            "deserialization_exception_handler", self.deserialization_exception_handler, _HANDLERS
        )
        _choice("auto_offset_reset", self.auto_offset_reset, _RESETS)
        if self.dead_letter_topic is not None and not _LEGAL_ID.match(self.dead_letter_topic):
            raise ConfigurationError(
                f"setting 'dead_letter_topic': {self.dead_letter_topic!r} is not a legal topic name"
            )
        if self.bootstrap_servers is not None and not str(self.bootstrap_servers).strip():
            raise ConfigurationError("setting 'bootstrap_servers': empty; give host:port or None")

    @property
    def app_dir(self) -> Path:
        """``<state_dir>/<application_id>``: task state and the embedded broker's log."""
        return self.state_dir / self.application_id

    @property
    def broker_dir(self) -> Path:
        """Where the embedded broker keeps its log."""
        return self.app_dir / "broker"


def _positive(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"setting '{name}': {value!r} must be a positive integer")


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        names = ", ".join(f"'{c}'" for c in choices)
        raise ConfigurationError(f"setting '{name}': {value!r} is not one of {names}")
