"""Kafka error codes the group coordinator answers with.

Plain ints with Kafka's names: the JoinGroup, SyncGroup, OffsetCommit, ...
handlers copy them into responses as they are. ``tidal.log.protocol`` maps
every code to an exception class for the client side; the coordinator only
needs the numbers.
"""

from __future__ import annotations

__all__ = [
    "COORDINATOR_LOAD_IN_PROGRESS",
    "COORDINATOR_NOT_AVAILABLE",
    "FENCED_INSTANCE_ID",
    "GROUP_ID_NOT_FOUND",
    "GROUP_MAX_SIZE_REACHED",
    "GROUP_SUBSCRIBED_TO_TOPIC",
    "ILLEGAL_GENERATION",
    "INCONSISTENT_GROUP_PROTOCOL",
    "INVALID_COMMIT_OFFSET_SIZE",
    "INVALID_GROUP_ID",
    "INVALID_SESSION_TIMEOUT",
    "MEMBER_ID_REQUIRED",
    "NONE",
    "NON_EMPTY_GROUP",
    "NOT_COORDINATOR",
    "OFFSET_METADATA_TOO_LARGE",
    "REBALANCE_IN_PROGRESS",
    "UNKNOWN_MEMBER_ID",
    "UNKNOWN_SERVER_ERROR",
    "UNKNOWN_TOPIC_OR_PARTITION",
    "UNSTABLE_OFFSET_COMMIT",
]

#: The storage under ``__consumer_offsets`` failed in an unexpected way.
UNKNOWN_SERVER_ERROR = -1
NONE = 0
#: OffsetCommit/OffsetDelete for a partition the broker does not host.
UNKNOWN_TOPIC_OR_PARTITION = 3
#: An offset commit whose metadata is longer than ``offset.metadata.max.bytes``.
OFFSET_METADATA_TOO_LARGE = 12
#: The coordinator is still replaying ``__consumer_offsets``.
COORDINATOR_LOAD_IN_PROGRESS = 14
#: The group was just removed (Dead); the client should find the coordinator again.
COORDINATOR_NOT_AVAILABLE = 15
#: The coordinator is shut down (or no longer owns the group).
NOT_COORDINATOR = 16
#: A request from a generation other than the group's current one.
ILLEGAL_GENERATION = 22
#: No protocol that every member supports, or a different protocol type.
INCONSISTENT_GROUP_PROTOCOL = 23
#: An empty group id where the API needs one.
INVALID_GROUP_ID = 24
#: A member id the group does not know.
UNKNOWN_MEMBER_ID = 25
#: Session timeout outside ``group.min/max.session.timeout.ms``.
INVALID_SESSION_TIMEOUT = 26
#: The group is rebalancing: re-join.
REBALANCE_IN_PROGRESS = 27
#: The ``__consumer_offsets`` batch was too large to append.
INVALID_COMMIT_OFFSET_SIZE = 28
#: DeleteGroups of a group that still has members.
NON_EMPTY_GROUP = 68
#: DeleteGroups/OffsetDelete of a group that does not exist.
GROUP_ID_NOT_FOUND = 69
#: KIP-394: join again with the member id this answer carries.
MEMBER_ID_REQUIRED = 79
#: The group already has ``group.max.size`` members.
GROUP_MAX_SIZE_REACHED = 81
#: Another member joined with this ``group.instance.id`` since.
FENCED_INSTANCE_ID = 82
#: OffsetDelete of a partition whose topic the group consumes.
GROUP_SUBSCRIBED_TO_TOPIC = 86
#: OffsetFetch with ``require_stable`` while a transactional commit is pending.
UNSTABLE_OFFSET_COMMIT = 88
