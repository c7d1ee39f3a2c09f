"""Client settings: Kafka's names in snake case, Kafka's defaults, checked once.

Every client takes its settings as keyword arguments or as a mapping that may
use Kafka's dotted names (``{"bootstrap.servers": ...}``); both spellings end
up in one frozen dataclass. Unknown names and bad values fail at construction
with a :class:`ConfigError` naming the setting::

    config = ClientConfig.build({"bootstrap.servers": "a:9092"}, client_id="app")
    ClientConfig.build(request_timeout=5)  # ConfigError: unknown setting 'request_timeout'

A subclass adds its own fields (``ProducerConfig``, ``AdminConfig``, the
consumer's config); a field declared with :func:`setting` carries its check.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Self

__all__ = [
    "ClientConfig",
    "ConfigError",
    "at_least",
    "one_of",
    "parse_bootstrap_servers",
    "setting",
]

_Check = Callable[[str, Any], None]


class ConfigError(ValueError):
    """An unknown setting or a value a setting does not accept."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"setting '{name}': {message}")
        #: The setting at fault, in snake case.
        self.setting = name


def at_least(low: int, *, kind: type[int] = int) -> _Check:
    """A check that the value is a ``kind`` (not bool) of at least ``low``."""

    def check(name: str, value: Any) -> None:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(name, f"expected {kind.__name__}, got {value!r}")
        if value < low:
            raise ConfigError(name, f"must be at least {low}, got {value!r}")

    return check


def one_of(*choices: object) -> _Check:
    """A check that the value is one of ``choices``."""

    def check(name: str, value: Any) -> None:
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ConfigError(name, f"must be one of {allowed}, got {value!r}")

    return check


def _is_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigError(name, f"expected str, got {value!r}")


def setting(default: Any, check: _Check | None = None, *, factory: bool = False) -> Any:
    """Declare a settings field with its default and check."""
    meta = {"check": check}
    if factory:
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def parse_bootstrap_servers(value: str | Sequence[str]) -> list[tuple[str, int]]:
    """``"a:9092,b"`` or ``["a:9092", "b"]`` as ``[(host, port), ...]`` (port 9092
    by default); IPv6 hosts go in brackets (``[::1]:9092``)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[tuple[str, int]] = []
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        item = item.split("://", 1)[-1]
        host, port = item, 9092
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest.startswith(":"):
                port = _port(value, rest[1:])
        elif item.count(":") == 1:
            host, port_text = item.split(":")
            port = _port(value, port_text)
        out.append((host, port))
    if not out:
        raise ConfigError("bootstrap_servers", "no host:port given")
    return out


def _port(value: object, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError("bootstrap_servers", f"bad port in {value!r}")
    return int(text)


def _check_bootstrap(name: str, value: Any) -> None:
    if not isinstance(value, str | list | tuple):
        raise ConfigError(name, f"expected 'host:port[,host:port]', got {value!r}")
    parse_bootstrap_servers(value)


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """Settings every client shares (Kafka's ``CommonClientConfigs``)."""

    bootstrap_servers: str | Sequence[str] = setting("localhost:9092", _check_bootstrap)
    client_id: str = setting("tidal", _is_str)
    request_timeout_ms: int = setting(30_000, at_least(1))
    metadata_max_age_ms: int = setting(300_000, at_least(0))
    retry_backoff_ms: int = setting(100, at_least(0))
    retry_backoff_max_ms: int = setting(1_000, at_least(0))
    reconnect_backoff_ms: int = setting(50, at_least(0))
    reconnect_backoff_max_ms: int = setting(1_000, at_least(0))
    connections_max_idle_ms: int = setting(540_000, at_least(-1))
    socket_connection_setup_timeout_ms: int = setting(10_000, at_least(1))
    socket_connection_setup_timeout_max_ms: int = setting(30_000, at_least(1))
    #: Bound of calls that wait on the cluster without a timeout of their own.
    default_api_timeout_ms: int = setting(60_000, at_least(1))
    #: Whether a Metadata request may create the topics it names.
    allow_auto_create_topics: bool = setting(True, one_of(True, False))
    client_software_name: str = setting("tidal", _is_str)

    def __post_init__(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                check(f.name, getattr(self, f.name))
        self.validate()

    def validate(self) -> None:
        """Cross-setting checks; subclasses extend and call ``super()``."""

    @property
    def bootstrap_addresses(self) -> list[tuple[str, int]]:
        """``bootstrap_servers`` parsed into ``(host, port)`` pairs."""
        return parse_bootstrap_servers(self.bootstrap_servers)

    @classmethod
    def build(
        cls, settings: Mapping[str, object] | ClientConfig | None = None, /, **kwargs: object
    ) -> Self:
        """A config from a mapping (dotted or snake names) and keyword overrides.

        A config object passes through (with ``kwargs`` applied to a copy).
        """
        values: dict[str, object] = {}
        if isinstance(settings, ClientConfig):
            values.update({f.name: getattr(settings, f.name) for f in fields(settings)})
        elif settings is not None:
            values.update({_snake(k): v for k, v in settings.items()})
        values.update({_snake(k): v for k, v in kwargs.items()})
        known = {f.name for f in fields(cls)}
        for name in values:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ConfigError(name, f"unknown setting for {cls.__name__}{hint}")
        if isinstance(settings, cls) and not kwargs:
            return settings
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def defaults(cls) -> dict[str, object]:
        """Each setting's default, by name."""
        out: dict[str, object] = {}
        for f in fields(cls):
            if f.default is not MISSING:
                out[f.name] = f.default
            elif f.default_factory is not MISSING:
                out[f.name] = f.default_factory()
        return out


def _snake(name: str) -> str:
    return name.replace(".", "_").replace("-", "_")
