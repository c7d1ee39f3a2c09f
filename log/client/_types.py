"""Small value types shared by the producer, consumer and admin client,
named as Kafka names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Node", "OffsetAndMetadata", "PartitionMetadata", "TopicMetadata", "TopicPartition"]


class TopicPartition(NamedTuple):
    """A partition of a topic; hashable and cheap, usable as a dict key."""

    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    """A committed offset (the next record to read) with its metadata string
    and, when known, the leader epoch of the record before it."""

    offset: int
    metadata: str = ""
    leader_epoch: int | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A broker as Metadata describes it."""

    node_id: int
    host: str
    port: int
    rack: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PartitionMetadata:
    """One partition: its leader (``-1`` when none), replicas and error code."""

    topic: str
    partition: int
    leader: int
    leader_epoch: int = -1
    replicas: tuple[int, ...] = ()
    isr: tuple[int, ...] = ()
    offline_replicas: tuple[int, ...] = ()
    error_code: int = 0


@dataclass(frozen=True, slots=True)
class TopicMetadata:
    """One topic: its partitions by index, or the error that hid it."""

    name: str
    partitions: dict[int, PartitionMetadata] = field(default_factory=dict)
    is_internal: bool = False
    error_code: int = 0
    topic_id: str | None = None
