"""What a member puts into JoinGroup, and what the leader puts into SyncGroup.

Every member offers one protocol per configured assignor, in preference
order, each carrying its subscription; cooperative assignors add the owned
partitions and the generation they were owned in (KIP-429). The leader reads
every member's subscription, looks up partition counts for all topics any
member subscribed to (not only its own), and runs the chosen assignor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tidal.log.client._kernel import Kernel
from tidal.log.client._types import TopicPartition
from tidal.log.client.consumer._assignors import (
    MemberSubscription,
    PartitionAssignor,
    RebalanceProtocol,
)
from tidal.log.client.consumer._protocol import (
    Assignment,
    Subscription,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from tidal.log.protocol.messages.join_group import (
    JoinGroupRequestProtocol,
    JoinGroupResponseMember,
)
from tidal.log.protocol.messages.sync_group import SyncGroupRequestAssignment

__all__ = ["join_protocols", "leader_assignments"]


def join_protocols(
    assignors: Sequence[PartitionAssignor],
    topics: Iterable[str],
    owned: set[TopicPartition],
    generation_id: int,
) -> list[JoinGroupRequestProtocol]:
    """The JoinGroup ``protocols``: one per assignor, preferred first."""
    names = set(topics)
    out = []
    for a in assignors:
        cooperative = a.rebalance_protocol is RebalanceProtocol.COOPERATIVE
        sub = Subscription(
            sorted(names),
            a.subscription_user_data(names),
            sorted(owned) if cooperative else [],
            generation_id if cooperative else -1,
        )
        out.append(JoinGroupRequestProtocol(name=a.name, metadata=encode_subscription(sub)))
    return out


async def leader_assignments(
    kernel: Kernel,
    assignor: PartitionAssignor,
    members: Sequence[JoinGroupResponseMember],
) -> list[SyncGroupRequestAssignment]:
    """The leader's SyncGroup ``assignments`` for every member."""
    subscriptions = [
        MemberSubscription(m.member_id, decode_subscription(m.metadata), m.group_instance_id)
        for m in members
    ]
    topics = {t for m in subscriptions for t in m.subscription.topics}
    if kernel.cluster.add_topics(topics):
        await kernel.refresh_metadata()
    metadata = kernel.cluster.metadata
    counts = {t: len(p) for t in sorted(topics) if (p := metadata.partitions_for(t))}
    result = assignor.assign(counts, subscriptions)
    return [
        SyncGroupRequestAssignment(member_id=mid, assignment=encode_assignment(Assignment(parts)))
        for mid, parts in result.items()
    ]
