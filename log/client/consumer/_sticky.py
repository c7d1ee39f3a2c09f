"""``cooperative-sticky``: balanced, sticky and incremental (KIP-429).

The leader computes a balanced assignment that moves as few partitions as
possible away from their current owners, then holds back every partition
that still belongs to another member. Rebalancing therefore takes two rounds
when partitions move:

1. the owner receives an assignment without the moving partition, revokes
   it (``on_partitions_revoked`` with just that partition) and re-joins at
   once; the new owner does not receive it yet;
2. in the next generation nobody owns it, and it goes to its new owner.

No partition is ever assigned to two members at once, and partitions that
stay put are never revoked. Ownership comes from each member's
``owned_partitions`` and ``generation_id`` (subscription v1/v2+, or Java's
int32 generation in ``user_data`` for older versions). When members of
different generations claim partitions, only claims from the newest
generation count; a partition claimed twice in one generation is treated as
unowned (Java's ``AbstractStickyAssignor`` does the same).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

from tidal.log.client.consumer._assignors import (
    MemberSubscription,
    PartitionAssignor,
    RangeAssignor,
    RebalanceProtocol,
    RoundRobinAssignor,
    member_order,
)
from tidal.log.client.consumer._protocol import Assignment
from tidal.log.client.consumer._structs import TopicPartition

__all__ = ["ASSIGNORS", "CooperativeStickyAssignor", "member_generation"]

_GENERATION = struct.Struct(">i")


def member_generation(member: MemberSubscription) -> int:
    """The generation a member owned its partitions in, or -1."""
    sub = member.subscription
    if sub.generation_id != -1:
        return sub.generation_id
    if sub.user_data is not None and len(sub.user_data) == _GENERATION.size:
        return int(_GENERATION.unpack(sub.user_data)[0])
    return -1


def _valid_owners(
    partitions_per_topic: Mapping[str, int], members: Sequence[MemberSubscription]
) -> dict[TopicPartition, str]:
    """Partition → owner, keeping claims of the newest generation only."""
    newest = max((member_generation(m) for m in members), default=-1)
    owner: dict[TopicPartition, str] = {}
    contested: set[TopicPartition] = set()
    for member in members:
        if member_generation(member) != newest:
            continue
        topics = set(member.subscription.topics)
        for tp in member.subscription.owned_partitions:
            if tp.topic not in topics or not 0 <= tp.partition < partitions_per_topic.get(
                tp.topic, 0
            ):
                continue
            if tp in owner:
                contested.add(tp)
            owner[tp] = member.member_id
    for tp in contested:
        del owner[tp]
    return owner


def sticky_assignment(
    partitions_per_topic: Mapping[str, int], members: Sequence[MemberSubscription]
) -> dict[str, list[TopicPartition]]:
    """The balanced target: owners keep what they can, newcomers fill up.

    Balance: no member can take a partition from a member holding two or
    more partitions than itself. With equal subscriptions that means sizes
    differ by at most one.
    """
    ordered = sorted(members, key=member_order)
    rank = {m.member_id: i for i, m in enumerate(ordered)}
    topics_of = {m.member_id: set(m.subscription.topics) for m in ordered}
    owned = _valid_owners(partitions_per_topic, ordered)
    current: dict[str, set[TopicPartition]] = {m.member_id: set() for m in ordered}
    for tp, member_id in owned.items():
        current[member_id].add(tp)

    def eligible(tp: TopicPartition) -> list[str]:
        return [m.member_id for m in ordered if tp.topic in topics_of[m.member_id]]

    every = [
        TopicPartition(t, p)
        for t in sorted(partitions_per_topic)
        for p in range(partitions_per_topic[t])
        if any(t in topics for topics in topics_of.values())
    ]
    # Partitions with the fewest candidates first, so that members with narrow
    # subscriptions are not left short (Java sorts the same way).
    unowned = sorted((tp for tp in every if tp not in owned), key=lambda t: (len(eligible(t)), t))
    for tp in unowned:
        candidates = eligible(tp)
        target = min(candidates, key=lambda m: (len(current[m]), rank[m]))
        current[target].add(tp)

    breadth = {
        m: sum(partitions_per_topic.get(t, 0) for t in topics) for m, topics in topics_of.items()
    }
    _balance(current, topics_of, owned, {m: (breadth[m], rank[m]) for m in rank})
    return {m: sorted(parts) for m, parts in current.items()}


def _balance(
    current: dict[str, set[TopicPartition]],
    topics_of: Mapping[str, set[str]],
    owned: Mapping[TopicPartition, str],
    order: Mapping[str, tuple[int, int]],
) -> None:
    """Move partitions from heavy to light members until no move helps.

    Each move lowers the sum of squared sizes, so this terminates. Among
    equally light members the one with the narrowest subscription is served
    first; a member gives away partitions it did not own before ahead of
    ones it did.
    """
    moved = True
    while moved:
        moved = False
        heavy_first = sorted(current, key=lambda m: (-len(current[m]), order[m]))
        light_first = sorted(current, key=lambda m: (len(current[m]), order[m]))
        for heavy in heavy_first:
            for light in light_first:
                if len(current[heavy]) - len(current[light]) <= 1:
                    break
                movable = [tp for tp in current[heavy] if tp.topic in topics_of[light]]
                if not movable:
                    continue
                tp = max(movable, key=lambda t: (owned.get(t) == heavy, t))
                current[heavy].remove(tp)
                current[light].add(tp)
                moved = True
                break
            if moved:
                break


class CooperativeStickyAssignor(PartitionAssignor):
    """Kafka's ``cooperative-sticky`` (``CooperativeStickyAssignor``).

    Example: members ``a`` and ``b`` own partitions 0-2 and 3-5 of a topic;
    ``c`` joins. The target moves one partition from each of ``a`` and ``b``
    to ``c``, so the first round gives ``a`` two, ``b`` two and ``c``
    nothing; ``a`` and ``b`` revoke one each and re-join, and the second
    round gives ``c`` the two freed partitions.
    """

    name = "cooperative-sticky"
    rebalance_protocol = RebalanceProtocol.COOPERATIVE

    def __init__(self) -> None:
        self.generation = -1

    def subscription_user_data(self, topics: set[str]) -> bytes | None:
        # The generation travels in the subscription's generation_id (v2+);
        # empty user data, as librdkafka writes.
        return b""

    def assign(
        self,
        partitions_per_topic: Mapping[str, int],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TopicPartition]]:
        target = sticky_assignment(partitions_per_topic, members)
        # Claims of the newest generation hold a partition back from anyone
        # else, even when the claimant no longer subscribes to its topic or
        # shares the claim: it still consumes the partition until it revokes.
        newest = max((member_generation(m) for m in members), default=-1)
        claimed: dict[TopicPartition, set[str]] = {}
        for member in members:
            if member_generation(member) != newest:
                continue
            for tp in member.subscription.owned_partitions:
                claimed.setdefault(tp, set()).add(member.member_id)
        return {
            member_id: [tp for tp in parts if not claimed.get(tp, set()) - {member_id}]
            for member_id, parts in target.items()
        }

    def on_assignment(self, assignment: Assignment, generation_id: int) -> None:
        self.generation = generation_id


#: Built-in assignors by their Kafka name.
ASSIGNORS: Mapping[str, type[PartitionAssignor]] = {
    RangeAssignor.name: RangeAssignor,
    RoundRobinAssignor.name: RoundRobinAssignor,
    CooperativeStickyAssignor.name: CooperativeStickyAssignor,
}
