"""Partition assignors run by the group leader: ``range`` and ``roundrobin``.

An assignor sees every member's subscription and the partition count of each
subscribed topic, and decides who consumes what. The results must match
Kafka's Java assignors exactly, because members of one group may run
different clients (librdkafka, Java) and only the leader's code runs:

* members are ordered as Java's ``MemberInfo``: static members first by
  ``group.instance.id``, then dynamic members by member id;
* ``range`` (``RangeAssignor``): per topic, partitions in order are cut into
  contiguous ranges, the first ``partitions % members`` members getting one
  extra;
* ``roundrobin`` (``RoundRobinAssignor``): all partitions, sorted by topic and
  partition, dealt in turn to the members subscribed to their topic.

``cooperative-sticky`` lives in ``_sticky.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from tidal.log.client.consumer._protocol import Assignment, Subscription
from tidal.log.client.consumer._structs import TopicPartition

__all__ = [
    "MemberSubscription",
    "PartitionAssignor",
    "RangeAssignor",
    "RebalanceProtocol",
    "RoundRobinAssignor",
    "member_order",
]


class RebalanceProtocol(Enum):
    """EAGER: every member gives up everything before a rebalance.
    COOPERATIVE (KIP-429): members keep partitions that do not move."""

    EAGER = "eager"
    COOPERATIVE = "cooperative"


@dataclass(frozen=True)
class MemberSubscription:
    """A member as the leader sees it in the JoinGroup response."""

    member_id: str
    subscription: Subscription
    group_instance_id: str | None = None


def member_order(member: MemberSubscription) -> tuple[int, str]:
    """Java's ``MemberInfo`` order: static members (by instance id) first."""
    if member.group_instance_id is not None:
        return (0, member.group_instance_id)
    return (1, member.member_id)


class PartitionAssignor(ABC):
    """Base of assignors; subclasses set ``name`` and implement :meth:`assign`.

    Example of a custom assignor that gives every partition to the first member::

        class AllToOne(PartitionAssignor):
            name = "all-to-one"

            def assign(self, partitions_per_topic, members):
                first = min(members, key=member_order)
                result = {m.member_id: [] for m in members}
                result[first.member_id] = [
                    TopicPartition(t, p) for t, n in partitions_per_topic.items()
                    for p in range(n)
                ]
                return result
    """

    name: ClassVar[str]
    rebalance_protocol: ClassVar[RebalanceProtocol] = RebalanceProtocol.EAGER

    def subscription_user_data(self, topics: set[str]) -> bytes | None:
        """Extra bytes a member puts in its subscription; None by default."""
        return None

    @abstractmethod
    def assign(
        self,
        partitions_per_topic: Mapping[str, int],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TopicPartition]]:
        """Map every member id to its partitions.

        ``partitions_per_topic`` holds each topic some member subscribed to
        and that exists, with its partition count.
        """

    def on_assignment(self, assignment: Assignment, generation_id: int) -> None:  # noqa: B027
        """Called on every member with its own assignment after SyncGroup; a
        hook for assignors that remember state (the default keeps none)."""


def _subscribers(
    partitions_per_topic: Mapping[str, int], members: Sequence[MemberSubscription]
) -> dict[str, list[MemberSubscription]]:
    by_topic: dict[str, list[MemberSubscription]] = {}
    for member in members:
        for topic in member.subscription.topics:
            if topic in partitions_per_topic:
                by_topic.setdefault(topic, []).append(member)
    return by_topic


class RangeAssignor(PartitionAssignor):
    """Kafka's ``range``: contiguous ranges of each topic's partitions.

    With 7 partitions and members ``a``, ``b``, ``c``: ``a`` gets 0-2,
    ``b`` 3-4 and ``c`` 5-6, in every topic they share.
    """

    name = "range"

    def assign(
        self,
        partitions_per_topic: Mapping[str, int],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TopicPartition]]:
        result: dict[str, list[TopicPartition]] = {m.member_id: [] for m in members}
        for topic, subscribers in sorted(_subscribers(partitions_per_topic, members).items()):
            ordered = sorted(subscribers, key=member_order)
            count = partitions_per_topic[topic]
            per_member, extra = divmod(count, len(ordered))
            start = 0
            for i, member in enumerate(ordered):
                length = per_member + (1 if i < extra else 0)
                result[member.member_id].extend(
                    TopicPartition(topic, p) for p in range(start, start + length)
                )
                start += length
        return result


class RoundRobinAssignor(PartitionAssignor):
    """Kafka's ``roundrobin``: partitions dealt in turn across members.

    Partitions are taken in (topic, partition) order; each goes to the next
    member, in circular order, that subscribes to its topic.
    """

    name = "roundrobin"

    def assign(
        self,
        partitions_per_topic: Mapping[str, int],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TopicPartition]]:
        result: dict[str, list[TopicPartition]] = {m.member_id: [] for m in members}
        ordered = sorted(members, key=member_order)
        if not ordered:
            return result
        topics_of = {m.member_id: set(m.subscription.topics) for m in ordered}
        subscribed = sorted(_subscribers(partitions_per_topic, members))
        cursor = 0
        for topic in subscribed:
            for partition in range(partitions_per_topic[topic]):
                while topic not in topics_of[ordered[cursor].member_id]:
                    cursor = (cursor + 1) % len(ordered)
                result[ordered[cursor].member_id].append(TopicPartition(topic, partition))
                cursor = (cursor + 1) % len(ordered)
        return result
