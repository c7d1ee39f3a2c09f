"""What an App is before it runs: its checked settings and its topology.

Settings names follow Kafka Streams' ``StreamsConfig`` in snake case; defaults are
Kafka Streams' where it has one (``commit_interval_ms`` is 30000 under
at-least-once and 100 under exactly-once, as there), except ``state_dir``, which
is ``./tidal-state`` (a directory next to the application, not ``/tmp``, so
that state survives a reboot).

The topology side: ``app.builder`` is a
:class:`tidal.streams.dsl.TopologyBuilder`, made on first use (so an App that
runs a compiled topology never imports the DSL); ``app.stream``,
``app.table`` and ``app.describe`` are the builder's. The topology is
compiled when the app starts, so the builder may grow until then.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidal.streams._contract import CompiledTopologyProtocol, StreamsError

__all__ = [
    "AT_LEAST_ONCE",
    "DEFAULT_STATE_DIR",
    "EXACTLY_ONCE_V2",
    "AppConfig",
    "BuilderFacade",
    "ConfigurationError",
    "stable_instance_id",
]

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"
DEFAULT_STATE_DIR = "./tidal-state"
#: Kafka Streams' ``commit.interval.ms`` defaults, by processing guarantee.
DEFAULT_COMMIT_INTERVAL_MS = {AT_LEAST_ONCE: 30_000, EXACTLY_ONCE_V2: 100}
#: The file in ``<state_dir>/<application_id>`` naming this instance (exactly-once).
INSTANCE_ID_FILE = "instance.id"
_HANDLERS = ("fail", "log_and_continue")
_RESETS = ("earliest", "latest")
_RUNTIME_CONSUMER_SETTINGS = (
    "group_id",
    "enable_auto_commit",
    "partition_assignment_strategy",
    "auto_offset_reset",
)
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
    #: None: 30000 under at-least-once, 100 under exactly-once (see :attr:`commit_interval`).
    commit_interval_ms: int | None = None
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
        if not isinstance(self.state_dir, Path):
            raise ConfigurationError(
                f"setting 'state_dir': {self.state_dir!r} must be a path (str or pathlib.Path)"
            )
        for name in ("client_config", "consumer_config", "producer_config", "broker_config"):
            mapping(name, getattr(self, name))
        if self.bootstrap_servers is not None and not isinstance(self.bootstrap_servers, str):
            raise ConfigurationError(
                f"setting 'bootstrap_servers': {self.bootstrap_servers!r} must be a str "
                "'host:port[,host:port...]' (or None for an embedded broker)"
            )
        if (
            not isinstance(self.processing_guarantee, str)
            or self.processing_guarantee not in DEFAULT_COMMIT_INTERVAL_MS
        ):
            raise ConfigurationError(
                f"setting 'processing_guarantee': {self.processing_guarantee!r} is not one of "
                f"'{AT_LEAST_ONCE}', '{EXACTLY_ONCE_V2}'"
            )
        if self.commit_interval_ms is not None:
            _positive("commit_interval_ms", self.commit_interval_ms)
        _positive("max_poll_records", self.max_poll_records)
        _choice(
            "deserialization_exception_handler", self.deserialization_exception_handler, _HANDLERS
        )
        _choice("auto_offset_reset", self.auto_offset_reset, _RESETS)
        if self.dead_letter_topic is not None and (
            not isinstance(self.dead_letter_topic, str)
            or not _LEGAL_ID.match(self.dead_letter_topic)
        ):
            raise ConfigurationError(
                f"setting 'dead_letter_topic': {self.dead_letter_topic!r} is not a legal topic name"
            )
        taken = sorted(
            {k.replace(".", "_") for k in self.consumer_config} & set(_RUNTIME_CONSUMER_SETTINGS)
        )
        if taken:
            raise ConfigurationError(
                f"setting 'consumer_config': {', '.join(taken)} belong to the runtime "
                "(the group is application_id; use auto_offset_reset= on the App)"
            )
        if self.bootstrap_servers is not None and not str(self.bootstrap_servers).strip():
            raise ConfigurationError("setting 'bootstrap_servers': empty; give host:port or None")
        _check_clients(self)

    @property
    def exactly_once(self) -> bool:
        """Whether ``processing_guarantee`` is ``exactly_once_v2``."""
        return self.processing_guarantee == EXACTLY_ONCE_V2

    @property
    def commit_interval(self) -> int:
        """``commit_interval_ms``, or the default of the processing guarantee."""
        if self.commit_interval_ms is not None:
            return self.commit_interval_ms
        return DEFAULT_COMMIT_INTERVAL_MS[self.processing_guarantee]

    @property
    def app_dir(self) -> Path:
        """``<state_dir>/<application_id>``: task state and the embedded broker's log."""
        return self.state_dir / self.application_id

    @property
    def broker_dir(self) -> Path:
        """Where the embedded broker keeps its log."""
        return self.app_dir / "broker"


def stable_instance_id(app_dir: Path) -> str:
    """This instance's id, kept in ``<app_dir>/instance.id`` (made on first use).

    The exactly-once producer's ``transactional.id`` is
    ``<application_id>-<instance id>``: an instance restarted on the same state
    directory uses the same id, so its ``init_transactions`` fences the
    instance it replaces and aborts what that one left open.
    """
    path = app_dir / INSTANCE_ID_FILE
    try:
        found = path.read_text().strip()
    except FileNotFoundError:
        found = ""
    if _LEGAL_ID.match(found):
        return found
    app_dir.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4().hex[:16]
    temporary = path.with_name(f"{INSTANCE_ID_FILE}.{os.getpid()}.tmp")
    temporary.write_text(made + "\n")
    os.replace(temporary, path)  # whole or absent, whatever a crash interrupts
    return made


def state_path(value: object) -> Path:
    """``state_dir`` as a Path (a str or a Path; anything else is a ConfigurationError)."""
    if not isinstance(value, str | os.PathLike):
        raise ConfigurationError(
            f"setting 'state_dir': {value!r} must be a path (str or pathlib.Path)"
        )
    return Path(value)


def mapping(name: str, value: object) -> Mapping[str, object]:
    """A ``*_config`` setting, checked to be a mapping of setting names to values."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(
            f"setting '{name}': {value!r} must be a mapping of setting names to values"
        )
    return value


def check_metrics_port(value: object) -> int | None:
    """``metrics_port``: None, or a port number (0: a free one)."""
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 65536
    ):
        raise ConfigurationError(
            f"setting 'metrics_port': {value!r} must be a port number 0-65535 (0: a free one) "
            "or None"
        )
    return value


def _check_clients(config: AppConfig) -> None:
    """Build the clients' configs now, so that a misspelt or bad client setting
    fails at construction (with the client's "did you mean") and not at start."""
    from tidal.log.client import ConfigError  # noqa: PLC0415 - keeps the import light
    from tidal.log.client.consumer import ConsumerConfig  # noqa: PLC0415
    from tidal.log.client.producer import ProducerConfig  # noqa: PLC0415

    common: dict[str, object] = {
        "bootstrap_servers": config.bootstrap_servers or "localhost:9092",
        "client_id": config.application_id,
        **config.client_config,
    }
    consumer = {
        **common,
        **config.consumer_config,
        "group_id": config.application_id,
        "enable_auto_commit": False,
        "auto_offset_reset": config.auto_offset_reset,
    }
    producer = {**common, **config.producer_config}
    for own, settings, builder in (
        ("consumer_config", consumer, ConsumerConfig.build),
        ("producer_config", producer, ProducerConfig.build),
    ):
        try:
            builder(settings)
        except ConfigError as e:
            given = getattr(config, own)
            if e.setting == "bootstrap_servers":
                where = "bootstrap_servers"
            elif any(k.replace(".", "_").replace("-", "_") == e.setting for k in given):
                where = own
            else:
                where = "client_config"
            message = str(e)
            if where == "bootstrap_servers":
                message = message.removeprefix("setting 'bootstrap_servers': ")
            raise ConfigurationError(f"setting '{where}': {message}") from None


def _positive(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"setting '{name}': {value!r} must be a positive integer")


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        names = ", ".join(f"'{c}'" for c in choices)
        raise ConfigurationError(f"setting '{name}': {value!r} is not one of {names}")


class BuilderFacade:
    """Holds the builder, or a topology compiled elsewhere, for an App."""

    def __init__(
        self,
        application_id: str,
        default_key_serde: Any,
        default_value_serde: Any,
        topology: CompiledTopologyProtocol | None,
    ) -> None:
        self._application_id = application_id
        self.default_key_serde = default_key_serde
        self.default_value_serde = default_value_serde
        self._given = topology
        self._builder: Any = None

    @property
    def builder(self) -> Any:
        """The :class:`~tidal.streams.dsl.TopologyBuilder` of this app."""
        if self._given is not None:
            raise StreamsError("this App runs a topology given to it; it has no builder")
        if self._builder is None:
            from tidal.streams.dsl import TopologyBuilder  # noqa: PLC0415

            kwargs: dict[str, Any] = {}
            if self.default_key_serde is not None:
                kwargs["default_key_serde"] = self.default_key_serde
            if self.default_value_serde is not None:
                kwargs["default_value_serde"] = self.default_value_serde
            self._builder = TopologyBuilder(self._application_id, **kwargs)
        return self._builder

    def rename(self, application_id: str) -> None:
        """Use another application id (before the app starts)."""
        if self._given is not None and self._given.application_id != application_id:
            raise ConfigurationError(
                f"setting 'application_id': this App runs a topology compiled for "
                f"'{self._given.application_id}'"
            )
        self._application_id = application_id
        if self._builder is not None:
            self._builder.application_id = application_id

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        """``app.builder.stream(...)``: a stream of one or more topics."""
        return self.builder.stream(*args, **kwargs)

    def table(self, *args: Any, **kwargs: Any) -> Any:
        """``app.builder.table(...)``: a table over a topic."""
        return self.builder.table(*args, **kwargs)

    def describe(self) -> str:
        """The topology as Kafka Streams' ``Topology.describe()`` prints it."""
        return self.topology().describe()

    def topology(self) -> CompiledTopologyProtocol:
        """The compiled topology: the builder's as it stands now, or the one given."""
        if self._given is not None:
            return self._given
        compiled: CompiledTopologyProtocol = self.builder.compile()
        return compiled

    def store_serdes(
        self, topology: CompiledTopologyProtocol, name: str, key_serde: Any, value_serde: Any
    ) -> tuple[Any, Any]:
        """Serdes to read store ``name`` with: given, else the store's, else defaults."""
        from tidal.streams.serdes import resolve_serde  # noqa: PLC0415

        spec_serdes = getattr(topology, "store_serdes", None)
        known: tuple[Any, Any] = (None, None)
        if callable(spec_serdes):
            known = spec_serdes(name)
        ks = key_serde if key_serde is not None else known[0]
        vs = value_serde if value_serde is not None else known[1]
        ks = ks if ks is not None else self.default_key_serde
        vs = vs if vs is not None else self.default_value_serde
        return resolve_serde(ks or "msgpack"), resolve_serde(vs or "msgpack")
