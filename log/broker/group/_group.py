"""A classic consumer group's state: members, generation, protocol, offsets.

Pure bookkeeping with Kafka's rules (``ClassicGroup``/``GroupMetadata``); the
coordinator drives transitions and owns timers and persistence. States::

    Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
      ^                 ^        |                                   |
      |                 |        +--(no members left)--> Empty       | leader's SyncGroup
      |                 +----- join, leave, expiry ------------------+--> Stable
    Dead: deleted, or empty and without offsets
"""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from dataclasses import dataclass, field

from tidal.log.broker.group._clock import TimerHandle
from tidal.log.broker.group._messages import JoinGroupMember, JoinGroupResult, SyncGroupResult
from tidal.log.broker.group._records import OffsetAndMetadata, PendingTxnOffset
from tidal.log.broker.group._wire import CorruptGroupRecordError, subscribed_topics

__all__ = ["CONSUMER_PROTOCOL_TYPE", "ClassicGroup", "GroupState", "MemberMetadata"]

#: The protocol type of Kafka consumers; their subscriptions name topics.
CONSUMER_PROTOCOL_TYPE = "consumer"


class GroupState(enum.Enum):
    """Kafka's classic group states; the value is the name DescribeGroups shows."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


_VALID_PREVIOUS = {
    GroupState.DEAD: set(GroupState),
    GroupState.COMPLETING_REBALANCE: {GroupState.PREPARING_REBALANCE},
    GroupState.STABLE: {GroupState.COMPLETING_REBALANCE},
    GroupState.PREPARING_REBALANCE: {
        GroupState.STABLE,
        GroupState.COMPLETING_REBALANCE,
        GroupState.EMPTY,
    },
    GroupState.EMPTY: {GroupState.PREPARING_REBALANCE},
}


@dataclass(eq=False)
class MemberMetadata:
    """One member: its identity, timeouts, protocols and what it waits for."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    #: Set while a JoinGroup waits for the rebalance to complete.
    join_future: asyncio.Future[JoinGroupResult] | None = None
    #: Set while a SyncGroup waits for the leader's assignment.
    sync_future: asyncio.Future[SyncGroupResult] | None = None
    #: Joined during this rebalance: expires after the new-member timeout.
    is_new: bool = False
    heartbeat_timer: TimerHandle | None = None

    @property
    def is_static(self) -> bool:
        """True for a member with a ``group.instance.id``."""
        return self.group_instance_id is not None

    def metadata(self, protocol: str) -> bytes:
        """The member's subscription bytes for ``protocol``."""
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        raise KeyError(f"member {self.member_id} does not support protocol {protocol!r}")

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among ``candidates``."""
        return next(name for name, _ in self.protocols if name in candidates)

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        """True when ``protocols`` equals what the member sent before, in order."""
        return self.protocols == protocols


@dataclass(eq=False)
class ClassicGroup:
    """A group's members and generation, and the group's committed offsets."""

    group_id: str
    state: GroupState = GroupState.EMPTY
    #: When the group entered its current state (ms); ``None`` if unknown.
    state_timestamp: int | None = None
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, MemberMetadata] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)
    #: KIP-394 member ids handed out but not yet used to join.
    pending_members: set[str] = field(default_factory=set)
    #: Members that got a JoinGroup answer but have not sent SyncGroup yet.
    pending_sync: set[str] = field(default_factory=set)
    offsets: dict[tuple[str, int], OffsetAndMetadata] = field(default_factory=dict)
    #: Where the record behind each of ``offsets`` is in ``__consumer_offsets``
    #: (its batch's append order): a transaction's offset replaces a committed
    #: one at its COMMIT marker only if its own record came later.
    offset_positions: dict[tuple[str, int], int] = field(default_factory=dict)
    #: Offsets committed inside open transactions, by producer id (TxnOffsetCommit).
    pending_txn_offsets: dict[int, dict[tuple[str, int], PendingTxnOffset]] = field(
        default_factory=dict
    )
    #: Topics every member's "consumer" subscription names; ``None`` if unknown.
    subscribed_topics: set[str] | None = None
    #: A member joined during the initial delay, which may then be extended.
    new_member_added: bool = False
    #: The initial rebalance delay is running (it never completes early).
    initial_delay: bool = False
    join_timer: TimerHandle | None = None
    sync_timer: TimerHandle | None = None
    pending_timers: dict[str, TimerHandle] = field(default_factory=dict)

    # ---- state -------------------------------------------------------------------------

    def is_(self, state: GroupState) -> bool:
        """True when the group is in ``state``."""
        return self.state is state

    def transition(self, state: GroupState, now: int) -> None:
        """Move to ``state``; raises ``RuntimeError`` for a move Kafka forbids."""
        if self.state not in _VALID_PREVIOUS[state]:
            raise RuntimeError(
                f"group {self.group_id} cannot move from {self.state.value} to {state.value}"
            )
        self.state = state
        self.state_timestamp = now

    @property
    def can_rebalance(self) -> bool:
        """True in the states from which a rebalance may start."""
        return self.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY)

    @property
    def rebalance_timeout_ms(self) -> int:
        """The largest rebalance timeout of the members (0 without members)."""
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # ---- membership ------------------------------------------------------------------------

    def add(self, member: MemberMetadata) -> None:
        """Add ``member``; the first member sets the protocol type and leads."""
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        self.pending_members.discard(member.member_id)
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        if self.leader_id is None:
            self.leader_id = member.member_id

    def remove(self, member_id: str) -> MemberMetadata | None:
        """Remove a member (or pending member); a new leader is the next member."""
        self.pending_members.discard(member_id)
        self.pending_sync.discard(member_id)
        member = self.members.pop(member_id, None)
        instance_id = member.group_instance_id if member is not None else None
        if instance_id is not None and self.static_members.get(instance_id) == member_id:
            del self.static_members[instance_id]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> MemberMetadata:
        """Give the static member ``instance_id`` the member id ``new_id``."""
        member = self.members.pop(old_id)
        member.member_id = new_id
        self.members[new_id] = member
        self.static_members[instance_id] = new_id
        if self.leader_id == old_id:
            self.leader_id = new_id
        if old_id in self.pending_sync:
            self.pending_sync.discard(old_id)
            self.pending_sync.add(new_id)
        return member

    def is_static_member_fenced(self, instance_id: str | None, member_id: str) -> bool:
        """True when ``instance_id`` now belongs to another member id."""
        if instance_id is None:
            return False
        current = self.static_members.get(instance_id)
        return current is not None and current != member_id

    def awaiting_join(self) -> int:
        """How many members have a JoinGroup waiting."""
        return sum(m.join_future is not None for m in self.members.values())

    def has_all_members_joined(self) -> bool:
        """Every member re-joined and no KIP-394 member id is outstanding."""
        return self.awaiting_join() == len(self.members) and not self.pending_members

    def maybe_elect_new_joined_leader(self) -> bool:
        """Keep a re-joined leader or pick any re-joined member; False if none."""
        if self.leader_id is None:
            return False
        if self.members[self.leader_id].join_future is not None:
            return True
        for member_id, member in self.members.items():
            if member.join_future is not None:
                self.leader_id = member_id
                return True
        return False

    # ---- protocols ----------------------------------------------------------------------

    def supports_protocols(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        """Could a member with these protocols join (Kafka's ``supportsProtocols``)?"""
        names = {name for name, _ in protocols}
        if self.is_(GroupState.EMPTY) or not self.members:
            return bool(protocol_type) and bool(names)
        if self.protocol_type != protocol_type:
            return False
        counts = self._protocol_counts()
        return any(counts[name] == len(self.members) for name in names)

    def _protocol_counts(self) -> Counter[str]:
        return Counter(name for m in self.members.values() for name in {n for n, _ in m.protocols})

    def select_protocol(self) -> str:
        """The protocol every member supports with the most members' first votes.

        Ties go to the protocol voted for by the earliest member.
        """
        counts = self._protocol_counts()
        candidates = {name for name, n in counts.items() if n == len(self.members)}
        votes = Counter(member.vote(candidates) for member in self.members.values())
        return max(votes, key=lambda name: votes[name])  # max keeps the first of equals

    def init_next_generation(self, now: int) -> None:
        """Start the next generation: CompletingRebalance, or Empty without members."""
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.transition(GroupState.COMPLETING_REBALANCE, now)
        else:
            self.protocol_name = None
            self.transition(GroupState.EMPTY, now)
        self.subscribed_topics = self.compute_subscribed_topics()

    def compute_subscribed_topics(self) -> set[str] | None:
        """Union of the members' subscribed topics for "consumer" groups."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not self.members:
            return set()
        if self.protocol_name is None:
            return None
        topics: set[str] = set()
        try:
            for member in self.members.values():
                topics |= subscribed_topics(member.metadata(self.protocol_name))
        except (CorruptGroupRecordError, KeyError):
            return None
        return topics

    def is_subscribed_to(self, topic: str) -> bool:
        """True when the group consumes ``topic`` (or its subscription is unknown)."""
        return self.subscribed_topics is None or topic in self.subscribed_topics

    def current_member_metadata(self) -> list[JoinGroupMember]:
        """The member list the leader receives."""
        if self.protocol_name is None:
            raise RuntimeError(f"group {self.group_id} has no protocol selected")
        protocol = self.protocol_name
        return [
            JoinGroupMember(m.member_id, m.group_instance_id, m.metadata(protocol))
            for m in self.members.values()
        ]
