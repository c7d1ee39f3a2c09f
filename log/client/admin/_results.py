"""Typed inputs and results of the admin client, named as in Kafka's Admin API."""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

from tidal.log.client._types import Node, PartitionMetadata, TopicPartition

__all__ = [
    "ClusterDescription",
    "ConfigEntry",
    "ConfigResource",
    "ConfigSource",
    "GroupDescription",
    "GroupListing",
    "ListOffsetsResult",
    "MemberDescription",
    "NewPartitions",
    "NewTopic",
    "OffsetSpec",
    "ResourceType",
    "TopicDescription",
    "decode_assignment",
]


class ResourceType(enum.IntEnum):
    """Config resource types (Kafka's ``ConfigResource.Type``)."""

    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8


class ConfigSource(enum.IntEnum):
    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6


class OffsetSpec(enum.IntEnum):
    """Special ListOffsets timestamps; any other int is a timestamp in ms."""

    LATEST = -1
    EARLIEST = -2
    MAX_TIMESTAMP = -3


@dataclass(frozen=True)
class ConfigResource:
    type: ResourceType
    name: str


@dataclass(frozen=True)
class NewTopic:
    """A topic to create; -1 leaves partitions/replication to the broker."""

    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewPartitions:
    """Grow ``topic`` to ``total_count`` partitions."""

    topic: str
    total_count: int


@dataclass(frozen=True)
class TopicDescription:
    name: str
    partitions: list[PartitionMetadata]
    is_internal: bool = False
    topic_id: str | None = None


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    value: str | None
    source: ConfigSource = ConfigSource.UNKNOWN
    read_only: bool = False
    sensitive: bool = False

    @property
    def is_default(self) -> bool:
        return self.source in (ConfigSource.DEFAULT_CONFIG, ConfigSource.STATIC_BROKER_CONFIG)


@dataclass(frozen=True)
class GroupListing:
    group_id: str
    protocol_type: str
    state: str = ""


@dataclass(frozen=True)
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    host: str
    assignment: list[TopicPartition]


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: list[MemberDescription]


@dataclass(frozen=True)
class ListOffsetsResult:
    offset: int
    timestamp: int
    leader_epoch: int | None


@dataclass(frozen=True)
class ClusterDescription:
    cluster_id: str | None
    controller_id: int
    nodes: list[Node]


def decode_assignment(data: bytes) -> list[TopicPartition]:
    """The partitions of a consumer-protocol ``member_assignment`` (empty when
    the bytes are not one)."""
    try:
        pos = 2  # version
        (n_topics,) = struct.unpack_from(">i", data, pos)
        pos += 4
        out: list[TopicPartition] = []
        for _ in range(max(n_topics, 0)):
            (length,) = struct.unpack_from(">h", data, pos)
            topic = data[pos + 2 : pos + 2 + length].decode()
            pos += 2 + length
            (n_parts,) = struct.unpack_from(">i", data, pos)
            pos += 4
            parts = struct.unpack_from(f">{n_parts}i", data, pos)
            pos += 4 * n_parts
            out += [TopicPartition(topic, p) for p in parts]
        return out
    except (struct.error, UnicodeDecodeError, ValueError):
        return []
