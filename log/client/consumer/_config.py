"""Consumer settings: Kafka's ``ConsumerConfig`` names in snake case, Kafka's defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tidal.log.client._config import ClientConfig, ConfigError, at_least, one_of, setting
from tidal.log.client.consumer._structs import IsolationLevel, OffsetResetStrategy

__all__ = ["ConsumerConfig"]


def _optional_str(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(name, f"expected a non-empty str or None, got {value!r}")


def _assignors(name: str, value: Any) -> None:
    from tidal.log.client.consumer._assignors import PartitionAssignor  # noqa: PLC0415
    from tidal.log.client.consumer._sticky import ASSIGNORS  # noqa: PLC0415

    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(name, f"expected assignor names or instances, got {value!r}")
    for item in items:
        if isinstance(item, PartitionAssignor):
            continue
        if not isinstance(item, str) or item.strip() not in ASSIGNORS:
            raise ConfigError(name, f"unknown assignor {item!r}; known: {', '.join(ASSIGNORS)}")


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig(ClientConfig):
    """Settings of :class:`~tidal.log.client.consumer.Consumer`."""

    group_id: str | None = setting(None, _optional_str)
    group_instance_id: str | None = setting(None, _optional_str)
    enable_auto_commit: bool = setting(True, one_of(True, False))
    auto_commit_interval_ms: int = setting(5_000, at_least(1))
    auto_offset_reset: str = setting("latest", one_of(*(s.value for s in OffsetResetStrategy)))
    session_timeout_ms: int = setting(45_000, at_least(1))
    heartbeat_interval_ms: int = setting(3_000, at_least(1))
    #: Also the JoinGroup rebalance timeout, as in Kafka.
    max_poll_interval_ms: int = setting(300_000, at_least(1))
    partition_assignment_strategy: str | Sequence[Any] = setting(
        ("range", "cooperative-sticky"), _assignors
    )
    isolation_level: str = setting("read_uncommitted", one_of(*(i.value for i in IsolationLevel)))
    fetch_min_bytes: int = setting(1, at_least(1))
    fetch_max_wait_ms: int = setting(500, at_least(0))
    fetch_max_bytes: int = setting(52_428_800, at_least(1))
    max_partition_fetch_bytes: int = setting(1_048_576, at_least(1))
    max_poll_records: int = setting(500, at_least(1))
    check_crcs: bool = setting(True, one_of(True, False))
    exclude_internal_topics: bool = setting(True, one_of(True, False))
    client_rack: str = setting("", one_of(""))  # rack-aware fetching is not supported

    def validate(self) -> None:
        super().validate()
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ConfigError("heartbeat_interval_ms", "must be lower than session_timeout_ms")
        if self.group_instance_id is not None and self.group_id is None:
            raise ConfigError("group_instance_id", "needs a group_id")

    @property
    def reset_strategy(self) -> OffsetResetStrategy:
        return OffsetResetStrategy(self.auto_offset_reset)

    @property
    def isolation(self) -> IsolationLevel:
        return IsolationLevel(self.isolation_level)

    def assignors(self) -> list[Any]:
        """Fresh assignor instances in preference order."""
        from tidal.log.client.consumer._sticky import ASSIGNORS  # noqa: PLC0415

        value = self.partition_assignment_strategy
        items = value.split(",") if isinstance(value, str) else value
        return [ASSIGNORS[i.strip()]() if isinstance(i, str) else i for i in items]
