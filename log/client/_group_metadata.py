"""A consumer's group membership as a transactional producer needs it.

``Consumer.group_metadata()`` returns it and
``Producer.send_offsets_to_transaction(offsets, group_metadata)`` sends it
with TxnOffsetCommit (v3+), so the group coordinator refuses offsets from a
member that was fenced by a rebalance (Kafka's ``ConsumerGroupMetadata``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConsumerGroupMetadata"]


@dataclass(frozen=True, slots=True)
class ConsumerGroupMetadata:
    """A consumer's group id, generation, member id and static instance id.

    ``ConsumerGroupMetadata("app")`` (generation -1, no member id) commits
    without generation fencing, as a consumer with manual assignment does.
    """

    group_id: str
    generation_id: int = -1
    member_id: str = ""
    group_instance_id: str | None = None
