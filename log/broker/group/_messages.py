"""Typed arguments and results of the group coordinator's operations.

One pair per Kafka API, with Kafka's message field names in snake_case, so a
handler copies fields across one by one. Version differences stay with the
handler: it passes what its request version implies (for example
``require_known_member_id`` for JoinGroup v4+) and drops the result fields its
response version lacks. Error codes are the ints of ``tidal.log.broker.group``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

__all__ = [
    "DeleteGroupResult",
    "DescribedGroup",
    "DescribedGroupMember",
    "HeartbeatArgs",
    "HeartbeatResult",
    "JoinGroupArgs",
    "JoinGroupMember",
    "JoinGroupResult",
    "LeaveGroupArgs",
    "LeaveGroupMemberResult",
    "LeaveGroupResult",
    "ListGroupsResult",
    "ListedGroup",
    "MemberIdentity",
    "OffsetCommitArgs",
    "OffsetCommitPartition",
    "OffsetDeleteArgs",
    "OffsetDeleteResult",
    "OffsetFetchArgs",
    "OffsetFetchPartition",
    "OffsetFetchResult",
    "PartitionError",
    "SyncGroupArgs",
    "SyncGroupResult",
    "TopicPartitions",
]


# ---- JoinGroup / SyncGroup / Heartbeat / LeaveGroup ---------------------------------


@dataclass(frozen=True, slots=True)
class JoinGroupArgs:
    """A JoinGroup request. ``member_id`` is ``""`` for a new member.

    ``rebalance_timeout_ms`` is the session timeout for JoinGroup v0.
    ``require_known_member_id`` is true for JoinGroup v4+ (KIP-394), and
    ``supports_skip_assignment`` for v9+; ``client_id`` comes from the request
    header and ``client_host`` from the connection (DescribeGroups shows both).
    """

    group_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    reason: str | None = None
    client_id: str = ""
    client_host: str = ""
    require_known_member_id: bool = False
    supports_skip_assignment: bool = False


class JoinGroupMember(NamedTuple):
    """One member as the leader sees it: its subscription for the chosen protocol."""

    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(slots=True)
class JoinGroupResult:
    """A JoinGroup answer; only the leader gets ``members``."""

    error_code: int
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    skip_assignment: bool = False
    member_id: str = ""
    members: list[JoinGroupMember] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SyncGroupArgs:
    """A SyncGroup request: the leader sends ``assignments``, followers none."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None = None
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignments: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class SyncGroupResult:
    """A SyncGroup answer: this member's assignment."""

    error_code: int
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""


@dataclass(frozen=True, slots=True)
class HeartbeatArgs:
    """A Heartbeat request."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None = None


@dataclass(slots=True)
class HeartbeatResult:
    """A Heartbeat answer."""

    error_code: int


class MemberIdentity(NamedTuple):
    """One leaving member (LeaveGroup v3+); v0-2 send one with ``member_id`` only.

    ``member_id`` may be ``""`` with a ``group_instance_id`` set: an
    administrator removing a static member.
    """

    member_id: str
    group_instance_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LeaveGroupArgs:
    """A LeaveGroup request."""

    group_id: str
    members: list[MemberIdentity]


class LeaveGroupMemberResult(NamedTuple):
    """The answer for one leaving member."""

    member_id: str
    group_instance_id: str | None
    error_code: int


@dataclass(slots=True)
class LeaveGroupResult:
    """A LeaveGroup answer. For v0-2 answer with the one member's error code."""

    error_code: int
    members: list[LeaveGroupMemberResult] = field(default_factory=list)


# ---- offsets ------------------------------------------------------------------------


class OffsetCommitPartition(NamedTuple):
    """One partition of an OffsetCommit request."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int = -1
    committed_metadata: str | None = ""


class PartitionError(NamedTuple):
    """A per-partition error code (OffsetCommit, OffsetDelete answers)."""

    partition_index: int
    error_code: int


P = TypeVar("P")


class TopicPartitions(NamedTuple, Generic[P]):
    """A topic and a list of per-partition items, as Kafka nests them."""

    name: str
    partitions: list[P]


@dataclass(frozen=True, slots=True)
class OffsetCommitArgs:
    """An OffsetCommit request. ``generation_id`` -1 with ``member_id`` ``""``
    is a simple (standalone) commit, accepted only while the group is Empty."""

    group_id: str
    topics: list[TopicPartitions[OffsetCommitPartition]]
    generation_id: int = -1
    member_id: str = ""
    group_instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class OffsetFetchArgs:
    """An OffsetFetch request for one group; ``topics`` ``None`` fetches all."""

    group_id: str
    topics: list[TopicPartitions[int]] | None = None
    require_stable: bool = False


class OffsetFetchPartition(NamedTuple):
    """One partition of an OffsetFetch answer; offset -1 when none is committed."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int
    metadata: str | None
    error_code: int


@dataclass(slots=True)
class OffsetFetchResult:
    """An OffsetFetch answer for one group."""

    error_code: int
    topics: list[TopicPartitions[OffsetFetchPartition]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OffsetDeleteArgs:
    """An OffsetDelete request."""

    group_id: str
    topics: list[TopicPartitions[int]]


@dataclass(slots=True)
class OffsetDeleteResult:
    """An OffsetDelete answer."""

    error_code: int
    topics: list[TopicPartitions[PartitionError]] = field(default_factory=list)


# ---- group administration -------------------------------------------------------------


class DescribedGroupMember(NamedTuple):
    """One member in a DescribeGroups answer (metadata and assignment only when Stable)."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    member_metadata: bytes
    member_assignment: bytes


@dataclass(slots=True)
class DescribedGroup:
    """One group in a DescribeGroups answer; an unknown group is ``Dead``."""

    error_code: int
    group_id: str
    group_state: str
    protocol_type: str
    protocol_data: str
    members: list[DescribedGroupMember] = field(default_factory=list)


class ListedGroup(NamedTuple):
    """One group in a ListGroups answer."""

    group_id: str
    protocol_type: str
    group_state: str
    group_type: str = "classic"


@dataclass(slots=True)
class ListGroupsResult:
    """A ListGroups answer."""

    error_code: int
    groups: list[ListedGroup] = field(default_factory=list)


class DeleteGroupResult(NamedTuple):
    """One group in a DeleteGroups answer."""

    group_id: str
    error_code: int
