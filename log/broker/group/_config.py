"""The group coordinator's settings, under Kafka's broker config names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["GroupCoordinatorConfig"]

_NAMES = {
    "group.min.session.timeout.ms": "min_session_timeout_ms",
    "group.max.session.timeout.ms": "max_session_timeout_ms",
    "group.initial.rebalance.delay.ms": "initial_rebalance_delay_ms",
    "group.max.size": "max_size",
    "offsets.topic.num.partitions": "offsets_topic_num_partitions",
    "offsets.retention.minutes": "offsets_retention_minutes",
    "offsets.retention.check.interval.ms": "offsets_retention_check_interval_ms",
    "offset.metadata.max.bytes": "offset_metadata_max_bytes",
}


@dataclass(frozen=True, slots=True)
class GroupCoordinatorConfig:
    """Kafka's defaults; build from ``server.properties`` names with
    :meth:`from_properties`.

    >>> config = GroupCoordinatorConfig.from_properties({"group.initial.rebalance.delay.ms": "0"})
    >>> config.initial_rebalance_delay_ms
    0
    """

    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    initial_rebalance_delay_ms: int = 3000
    max_size: int = 2147483647
    offsets_topic_num_partitions: int = 50
    offsets_retention_minutes: int = 10080
    offsets_retention_check_interval_ms: int = 600000
    offset_metadata_max_bytes: int = 4096
    #: How long a member that joined during a rebalance may take to re-join
    #: (Kafka's fixed ``NewMemberJoinTimeoutMs``).
    new_member_join_timeout_ms: int = 300000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be a non-negative int, not {value!r}")
        if self.offsets_topic_num_partitions < 1:
            raise ValueError("offsets.topic.num.partitions must be at least 1")
        if self.max_size < 1:
            raise ValueError("group.max.size must be at least 1")

    @property
    def offsets_retention_ms(self) -> int:
        """``offsets.retention.minutes`` in milliseconds."""
        return self.offsets_retention_minutes * 60_000

    @classmethod
    def from_properties(cls, props: Mapping[str, object]) -> GroupCoordinatorConfig:
        """Read the keys above from ``props``, ignoring every other key.

        Raises ``ValueError`` naming the key for a value that is not an int.
        """
        values: dict[str, int] = {}
        for key, attr in _NAMES.items():
            if key not in props:
                continue
            raw = props[key]
            try:
                values[attr] = int(str(raw).strip())
            except ValueError:
                raise ValueError(f"{key}: {raw!r} is not an integer") from None
        return cls(**values)
