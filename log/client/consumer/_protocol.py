"""The "consumer" embedded protocol: JoinGroup metadata and SyncGroup assignments.

The broker treats both blobs as opaque bytes; members and tools (DescribeGroups)
read them. Each is ``int16 version`` followed by a never-flexible struct
(Kafka's ``ConsumerProtocolSubscription.json`` and
``ConsumerProtocolAssignment.json``, versions 0-3)::

    Subscription                          Assignment
      version            int16              version              int16
      topics             [string]           assigned_partitions  [topic string,
      user_data          nullable bytes                            partitions [int32]]
      owned_partitions   [topic string,     user_data            nullable bytes
                          partitions [int32]]   (v1+)
      generation_id      int32  (v2+, default -1)
      rack_id            nullable string (v3+)

Readers parse a newer version with the newest layout they know and ignore
trailing bytes, as Kafka's ``ConsumerProtocol`` does.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tidal.log.client.consumer._structs import TopicPartition
from tidal.log.protocol import F, Message, ProtocolDecodeError, Struct, array
from tidal.log.protocol.types import INT32, NULLABLE_BYTES, NULLABLE_STRING, STRING

__all__ = [
    "PROTOCOL_TYPE",
    "Assignment",
    "Subscription",
    "decode_assignment",
    "decode_subscription",
    "encode_assignment",
    "encode_subscription",
]

#: JoinGroup ``protocol_type`` of consumer groups.
PROTOCOL_TYPE = "consumer"
#: Newest version we write and the newest layout we read.
LATEST_VERSION = 3
_VERSION = struct.Struct(">h")


class ConsumerProtocolTopicPartition(Struct):
    topic: str = F(STRING)
    partitions: list[int] = F(array(INT32))


class ConsumerProtocolSubscription(Message, valid_versions=(0, LATEST_VERSION)):
    topics: list[str] = F(array(STRING))
    user_data: bytes | None = F(NULLABLE_BYTES, default=None)
    owned_partitions: list[ConsumerProtocolTopicPartition] = F(
        array(ConsumerProtocolTopicPartition), versions="1+", ignorable=True, default_factory=list
    )
    generation_id: int = F(INT32, versions="2+", ignorable=True, default=-1)
    rack_id: str | None = F(NULLABLE_STRING, versions="3+", ignorable=True, default=None)


class ConsumerProtocolAssignment(Message, valid_versions=(0, LATEST_VERSION)):
    assigned_partitions: list[ConsumerProtocolTopicPartition] = F(
        array(ConsumerProtocolTopicPartition)
    )
    user_data: bytes | None = F(NULLABLE_BYTES, default=None)


@dataclass(frozen=True)
class Subscription:
    """What a member sends in JoinGroup: its topics and, for cooperative
    assignors, the partitions it owns and the generation it owned them in."""

    topics: list[str]
    user_data: bytes | None = None
    owned_partitions: list[TopicPartition] = field(default_factory=list)
    generation_id: int = -1
    rack_id: str | None = None


@dataclass(frozen=True)
class Assignment:
    """What a member receives in SyncGroup: its partitions."""

    partitions: list[TopicPartition]
    user_data: bytes | None = None


def _grouped(partitions: Iterable[TopicPartition]) -> list[ConsumerProtocolTopicPartition]:
    by_topic: dict[str, list[int]] = defaultdict(list)
    for tp in partitions:
        by_topic[tp.topic].append(tp.partition)
    return [
        ConsumerProtocolTopicPartition(topic=topic, partitions=sorted(parts))
        for topic, parts in sorted(by_topic.items())
    ]


def _flat(groups: list[ConsumerProtocolTopicPartition]) -> list[TopicPartition]:
    return [TopicPartition(g.topic, p) for g in groups for p in g.partitions]


def _split(data: bytes) -> tuple[int, int]:
    if len(data) < _VERSION.size:
        raise ProtocolDecodeError("consumer protocol blob shorter than its version")
    (version,) = _VERSION.unpack_from(data)
    if version < 0:
        raise ProtocolDecodeError(f"negative consumer protocol version {version}")
    return version, min(version, LATEST_VERSION)


def encode_subscription(subscription: Subscription, version: int = LATEST_VERSION) -> bytes:
    """The JoinGroup metadata bytes; topics are written sorted, as Java does."""
    body = ConsumerProtocolSubscription(
        topics=sorted(subscription.topics),
        user_data=subscription.user_data,
        owned_partitions=_grouped(subscription.owned_partitions),
        generation_id=subscription.generation_id,
        rack_id=subscription.rack_id,
    )
    return _VERSION.pack(version) + body.encode(version)


def decode_subscription(data: bytes) -> Subscription:
    """Read JoinGroup metadata of any version; raises ``ProtocolDecodeError``."""
    _, layout = _split(data)
    body = ConsumerProtocolSubscription.decode(data, layout, pos=_VERSION.size, exact=False)
    return Subscription(
        topics=list(body.topics),
        user_data=body.user_data,
        owned_partitions=_flat(body.owned_partitions),
        generation_id=body.generation_id,
        rack_id=body.rack_id,
    )


def encode_assignment(assignment: Assignment, version: int = LATEST_VERSION) -> bytes:
    """The SyncGroup assignment bytes (v0-3 are the same on the wire)."""
    body = ConsumerProtocolAssignment(
        assigned_partitions=_grouped(assignment.partitions), user_data=assignment.user_data
    )
    return _VERSION.pack(version) + body.encode(version)


def decode_assignment(data: bytes) -> Assignment:
    """Read a SyncGroup assignment; empty bytes (no assignment) give none."""
    if not data:
        return Assignment([])
    _, layout = _split(data)
    body = ConsumerProtocolAssignment.decode(data, layout, pos=_VERSION.size, exact=False)
    return Assignment(_flat(body.assigned_partitions), body.user_data)
