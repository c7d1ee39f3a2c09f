"""The client's view of the cluster: brokers, controller and topic metadata.

A :class:`ClusterMetadata` is an immutable snapshot built from one Metadata
response; :class:`Cluster` holds the latest snapshot, the topics the client
cares about, and lets callers wait for the next update. Requests and retries
live in the kernel; nothing here does I/O.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from tidal.log.client._types import Node, PartitionMetadata, TopicMetadata, TopicPartition
from tidal.log.protocol.errors import error_for_code
from tidal.log.protocol.messages import MetadataResponse

__all__ = ["Cluster", "ClusterMetadata"]

_UNKNOWN_TOPIC = 3


class ClusterMetadata:
    """One Metadata answer, indexed for lookups."""

    def __init__(
        self,
        nodes: dict[int, Node] | None = None,
        topics: dict[str, TopicMetadata] | None = None,
        *,
        cluster_id: str | None = None,
        controller_id: int = -1,
    ) -> None:
        self.nodes = nodes or {}
        self.topics = topics or {}
        self.cluster_id = cluster_id
        self.controller_id = controller_id
        #: ``time.monotonic()`` when the answer arrived.
        self.updated_at = time.monotonic()
        self._leaders: dict[TopicPartition, int] = {
            TopicPartition(t.name, p.partition): p.leader
            for t in self.topics.values()
            for p in t.partitions.values()
        }
        self._partitions: dict[str, list[int]] = {
            name: sorted(t.partitions) for name, t in self.topics.items() if not t.error_code
        }
        self._available: dict[str, list[int]] = {
            name: sorted(p for p, pm in t.partitions.items() if pm.leader >= 0)
            for name, t in self.topics.items()
            if not t.error_code
        }

    @classmethod
    def from_response(cls, response: MetadataResponse) -> ClusterMetadata:
        """Index a Metadata response."""
        nodes = {b.node_id: Node(b.node_id, b.host, b.port, b.rack) for b in response.brokers}
        topics: dict[str, TopicMetadata] = {}
        for t in response.topics:
            if t.name is None:
                continue
            parts = {
                p.partition_index: PartitionMetadata(
                    t.name,
                    p.partition_index,
                    p.leader_id,
                    p.leader_epoch,
                    tuple(p.replica_nodes),
                    tuple(p.isr_nodes),
                    tuple(p.offline_replicas),
                    p.error_code,
                )
                for p in t.partitions
            }
            topic_id = str(t.topic_id) if t.topic_id.int else None
            topics[t.name] = TopicMetadata(t.name, parts, t.is_internal, t.error_code, topic_id)
        return cls(
            nodes,
            topics,
            cluster_id=response.cluster_id,
            controller_id=response.controller_id,
        )

    def leader_for(self, tp: TopicPartition) -> int | None:
        """The leader's node id, or ``None`` when unknown or leaderless."""
        leader = self._leaders.get(tp)
        return leader if leader is not None and leader >= 0 else None

    def partitions_for(self, topic: str) -> list[int] | None:
        """Every partition of ``topic``, or ``None`` when the topic is unknown."""
        return self._partitions.get(topic)

    def available_partitions_for(self, topic: str) -> list[int]:
        """The partitions of ``topic`` that have a leader."""
        return self._available.get(topic, [])

    def topic_error(self, topic: str) -> int:
        """The error code Metadata gave ``topic`` (3 when it was not returned)."""
        t = self.topics.get(topic)
        return _UNKNOWN_TOPIC if t is None else t.error_code

    def raise_for_topic(self, topic: str) -> None:
        """Raise the typed error naming ``topic`` when Metadata reported one."""
        code = self.topic_error(topic)
        if code:
            raise error_for_code(code)(f"topic '{topic}': {error_for_code(code).default_message}")


class Cluster:
    """The latest :class:`ClusterMetadata` plus the topics worth refreshing."""

    def __init__(self) -> None:
        self.metadata = ClusterMetadata()
        #: Topics every refresh asks about (the producer adds what it sends to).
        self.topics: set[str] = set()
        self._updated = asyncio.Event()
        self._stale = True
        self.generation = 0

    @property
    def stale(self) -> bool:
        """Whether a refresh was requested since the last update."""
        return self._stale

    def request_update(self) -> None:
        """Mark the metadata stale; the kernel refreshes it soon."""
        self._stale = True

    def add_topics(self, topics: Iterable[str]) -> bool:
        """Track ``topics``; True when one was new (a refresh is then due)."""
        before = len(self.topics)
        self.topics.update(topics)
        if len(self.topics) != before:
            self._stale = True
            return True
        return False

    def update(self, metadata: ClusterMetadata) -> None:
        """Install a new snapshot and wake everyone waiting for one."""
        self.metadata = metadata
        self._stale = False
        self.generation += 1
        self._updated.set()
        self._updated = asyncio.Event()

    async def wait_for_update(self) -> None:
        """Wait for the next :meth:`update`."""
        await self._updated.wait()
