"""Subscription state: what the consumer reads and where it stands.

Sans-I/O bookkeeping shared by the fetcher, the group coordinator and the
facade (Kafka's ``SubscriptionState``). A consumer either *subscribes*
(topic names or a pattern; the group decides the partitions) or *assigns*
partitions itself; it cannot mix both.

Per assigned partition it keeps the fetch position (the offset of the next
record to return), whether the application paused it, a pending offset
reset (``earliest``/``latest``), and the high watermark, last stable offset
and log start offset from the last fetch, which give the lag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from tidal.log.client.consumer._structs import (
    IsolationLevel,
    OffsetResetStrategy,
    TopicPartition,
)

__all__ = ["PartitionState", "SubscriptionState", "SubscriptionType"]


class SubscriptionType(Enum):
    NONE = "none"
    AUTO_TOPICS = "topics"
    AUTO_PATTERN = "pattern"
    USER_ASSIGNED = "assigned"


@dataclass
class PartitionState:
    """One assigned partition."""

    position: int | None = None
    paused: bool = False
    reset_strategy: OffsetResetStrategy | None = None
    high_watermark: int | None = None
    last_stable_offset: int | None = None
    log_start_offset: int | None = None
    #: Bumped on every seek so fetches in flight for an old position are dropped.
    epoch: int = 0

    @property
    def has_valid_position(self) -> bool:
        return self.position is not None and self.reset_strategy is None


class SubscriptionState:
    """Topics or pattern subscribed, partitions assigned, and their positions.

    Example::

        state = SubscriptionState(OffsetResetStrategy.EARLIEST)
        state.assign_from_user([TopicPartition("t", 0)])
        state.seek(TopicPartition("t", 0), 42)
        assert state.fetchable_partitions() == [TopicPartition("t", 0)]
    """

    def __init__(self, default_reset: OffsetResetStrategy = OffsetResetStrategy.LATEST) -> None:
        self.default_reset = default_reset
        self.type = SubscriptionType.NONE
        self.topics: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self._assignment: dict[TopicPartition, PartitionState] = {}
        #: Bumped whenever the assignment changes (fetches in flight are then stale).
        self.assignment_id = 0

    # -- subscribing ------------------------------------------------------------

    def _set_type(self, kind: SubscriptionType) -> None:
        if self.type not in (SubscriptionType.NONE, kind):
            raise ValueError("subscribe() and assign() cannot be mixed; call unsubscribe() first")
        self.type = kind

    def subscribe(self, topics: Iterable[str]) -> bool:
        """Subscribe to topic names; True when the set changed."""
        names = set(topics)
        if any(not isinstance(t, str) or not t for t in names):
            raise ValueError("topic names must be non-empty strings")
        self._set_type(SubscriptionType.AUTO_TOPICS)
        changed = names != self.topics
        self.topics = names
        return changed

    def subscribe_pattern(self, pattern: str | re.Pattern[str]) -> None:
        """Subscribe to every topic whose whole name matches ``pattern``."""
        self._set_type(SubscriptionType.AUTO_PATTERN)
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def match_pattern(self, topics: Iterable[str]) -> bool:
        """Set the topics from cluster metadata by the pattern; True when changed."""
        assert self.pattern is not None
        pattern = self.pattern
        names = {t for t in topics if pattern.fullmatch(t) and not t.startswith("__")}
        changed = names != self.topics
        self.topics = names
        return changed

    def unsubscribe(self) -> None:
        """Forget the subscription and every assigned partition."""
        self.type = SubscriptionType.NONE
        self.topics = set()
        self.pattern = None
        self._set_assignment([])

    @property
    def is_group_managed(self) -> bool:
        """True when the group coordinator decides the partitions."""
        return self.type in (SubscriptionType.AUTO_TOPICS, SubscriptionType.AUTO_PATTERN)

    # -- assignment ---------------------------------------------------------------

    def assign_from_user(self, partitions: Iterable[TopicPartition]) -> None:
        """Manual assignment: positions of partitions kept are kept."""
        parts = list(dict.fromkeys(partitions))
        self._set_type(SubscriptionType.USER_ASSIGNED)
        if not parts:
            self.type = SubscriptionType.NONE
        self.topics = {tp.topic for tp in parts}
        self._set_assignment(parts)

    def assign_from_subscribed(self, partitions: Iterable[TopicPartition]) -> None:
        """The group's assignment: positions of partitions kept are kept."""
        if not self.is_group_managed:
            raise ValueError("not subscribed")
        self._set_assignment(list(dict.fromkeys(partitions)))

    def _set_assignment(self, partitions: list[TopicPartition]) -> None:
        old = self._assignment
        self._assignment = {tp: old.get(tp) or PartitionState() for tp in partitions}
        self.assignment_id += 1

    def assigned_partitions(self) -> set[TopicPartition]:
        """The partitions currently assigned."""
        return set(self._assignment)

    def is_assigned(self, tp: TopicPartition) -> bool:
        return tp in self._assignment

    def get_state(self, tp: TopicPartition) -> PartitionState | None:
        """The state of ``tp``, or None when it is not assigned."""
        return self._assignment.get(tp)

    def state(self, tp: TopicPartition) -> PartitionState:
        """The state of an assigned partition; raises ``ValueError`` otherwise."""
        try:
            return self._assignment[tp]
        except KeyError:
            raise ValueError(f"partition {tp.topic}-{tp.partition} is not assigned") from None

    # -- positions ----------------------------------------------------------------

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Set the next offset to fetch; clears a pending reset."""
        if offset < 0:
            raise ValueError(f"offset must be >= 0, not {offset}")
        state = self.state(tp)
        state.position = offset
        state.reset_strategy = None
        state.epoch += 1

    def position(self, tp: TopicPartition) -> int | None:
        """The next offset to fetch, or None while unknown."""
        state = self.state(tp)
        return state.position if state.has_valid_position else None

    def advance(self, tp: TopicPartition, offset: int, epoch: int) -> bool:
        """Move the position forward after records were handed out.

        Ignored (False) when the partition was unassigned or seeked since
        the fetch that produced them.
        """
        state = self._assignment.get(tp)
        if state is None or state.epoch != epoch or not state.has_valid_position:
            return False
        state.position = offset
        return True

    def request_reset(
        self, tp: TopicPartition, strategy: OffsetResetStrategy | None = None
    ) -> None:
        """Ask for a position from ``strategy`` (default: ``auto_offset_reset``)."""
        state = self.state(tp)
        state.reset_strategy = strategy or self.default_reset
        state.epoch += 1

    def missing_positions(self) -> list[TopicPartition]:
        """Partitions with no position and no reset requested yet."""
        return [
            tp
            for tp, s in self._assignment.items()
            if s.position is None and s.reset_strategy is None
        ]

    def awaiting_reset(self) -> dict[TopicPartition, OffsetResetStrategy]:
        """Partitions waiting for an offset lookup, with their strategy."""
        return {
            tp: s.reset_strategy
            for tp, s in self._assignment.items()
            if s.reset_strategy is not None
        }

    def all_consumed(self) -> dict[TopicPartition, int]:
        """Positions of partitions that have one: what a commit stores."""
        return {
            tp: s.position
            for tp, s in self._assignment.items()
            if s.position is not None and s.reset_strategy is None
        }

    # -- pausing and fetching -------------------------------------------------------

    def pause(self, tp: TopicPartition) -> None:
        self.state(tp).paused = True

    def resume(self, tp: TopicPartition) -> None:
        self.state(tp).paused = False

    def paused_partitions(self) -> set[TopicPartition]:
        return {tp for tp, s in self._assignment.items() if s.paused}

    def fetchable_partitions(self) -> list[TopicPartition]:
        """Assigned, not paused, and with a valid position."""
        return [tp for tp, s in self._assignment.items() if not s.paused and s.has_valid_position]

    def is_fetchable(self, tp: TopicPartition) -> bool:
        state = self._assignment.get(tp)
        return state is not None and not state.paused and state.has_valid_position

    def update_watermarks(
        self,
        tp: TopicPartition,
        high_watermark: int,
        last_stable_offset: int,
        log_start_offset: int,
    ) -> None:
        """Record the marks a fetch response reported (-1 means unknown)."""
        state = self._assignment.get(tp)
        if state is None:
            return
        state.high_watermark = high_watermark if high_watermark >= 0 else state.high_watermark
        if last_stable_offset >= 0:
            state.last_stable_offset = last_stable_offset
        if log_start_offset >= 0:
            state.log_start_offset = log_start_offset

    def lag(self, tp: TopicPartition, isolation: IsolationLevel) -> int | None:
        """Records between the position and the end (high watermark, or the
        last stable offset under ``read_committed``); None while unknown."""
        state = self.state(tp)
        end = (
            state.last_stable_offset
            if isolation is IsolationLevel.READ_COMMITTED
            else state.high_watermark
        )
        if end is None or not state.has_valid_position or state.position is None:
            return None
        return max(end - state.position, 0)
