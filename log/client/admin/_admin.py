"""The asyncio admin client facade (``_sync`` wraps it for scripts).

Example::

    async with AdminClient(bootstrap_servers="localhost:9092") as admin:
        await admin.create_topics([NewTopic("events", num_partitions=6)])
        print(await admin.describe_topics(["events"]))
        configs = await admin.describe_configs([ConfigResource(ResourceType.TOPIC, "events")])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType

from tidal.log.client._config import ClientConfig
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.admin import _groups, _topics
from tidal.log.client.admin._results import (
    ClusterDescription,
    ConfigEntry,
    ConfigResource,
    GroupDescription,
    GroupListing,
    ListOffsetsResult,
    NewPartitions,
    NewTopic,
    TopicDescription,
)

__all__ = ["AdminClient"]


class AdminClient:
    """Kafka's Admin API over asyncio; settings as in :class:`ClientConfig`."""

    def __init__(
        self, config: Mapping[str, object] | ClientConfig | None = None, /, **settings: object
    ) -> None:
        self.config = ClientConfig.build(config, **settings)
        self._kernel = Kernel(self.config)
        self._started = False

    async def start(self) -> None:
        """Bootstrap within ``default_api_timeout_ms`` (naming the addresses on failure)."""
        if not self._started:
            await self._kernel.start()
            self._started = True

    async def close(self) -> None:
        await self._kernel.close()

    async def __aenter__(self) -> AdminClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def _timeout(self) -> int:
        return self.config.request_timeout_ms

    # -- topics ------------------------------------------------------------------

    async def create_topics(
        self, topics: Iterable[NewTopic], *, validate_only: bool = False
    ) -> None:
        """Create ``topics``; ``TopicAlreadyExistsError`` etc. name the topic."""
        await _topics.create_topics(
            self._kernel, topics, timeout_ms=self._timeout, validate_only=validate_only
        )

    async def delete_topics(self, topics: Iterable[str]) -> None:
        """Delete ``topics``; an unknown one raises ``UnknownTopicOrPartitionError`` naming it."""
        await _topics.delete_topics(self._kernel, topics, timeout_ms=self._timeout)

    async def list_topics(self, *, internal: bool = False) -> list[str]:
        """Topic names, sorted (internal topics only when asked)."""
        return await _topics.list_topics(self._kernel, internal=internal)

    async def describe_topics(self, topics: Iterable[str]) -> dict[str, TopicDescription]:
        """Partitions, leaders and replicas of each topic."""
        return await _topics.describe_topics(self._kernel, topics)

    async def create_partitions(
        self, changes: Iterable[NewPartitions], *, validate_only: bool = False
    ) -> None:
        """Grow topics to the given partition counts."""
        await _topics.create_partitions(
            self._kernel, changes, timeout_ms=self._timeout, validate_only=validate_only
        )

    # -- configs -----------------------------------------------------------------

    async def describe_configs(
        self, resources: Iterable[ConfigResource]
    ) -> dict[ConfigResource, dict[str, ConfigEntry]]:
        """Every config of each topic or broker, with its source."""
        return await _topics.describe_configs(self._kernel, resources)

    async def alter_configs(
        self, configs: Mapping[ConfigResource, Mapping[str, str]], *, validate_only: bool = False
    ) -> None:
        """Replace each resource's dynamic configs (unlisted ones revert to defaults)."""
        await _topics.alter_configs(self._kernel, configs, validate_only=validate_only)

    async def incremental_alter_configs(
        self,
        changes: Mapping[ConfigResource, Mapping[str, tuple[str, str | None]]],
        *,
        validate_only: bool = False,
    ) -> None:
        """Change single configs: ``{resource: {"retention.ms": ("set", "1000")}}``;
        operations ``set``, ``delete``, ``append``, ``subtract``."""
        await _topics.incremental_alter_configs(self._kernel, changes, validate_only=validate_only)

    # -- groups and offsets ------------------------------------------------------

    async def list_groups(self) -> list[GroupListing]:
        """Every group of every broker, with its state and protocol type."""
        return await _groups.list_groups(self._kernel)

    async def describe_groups(self, groups: Iterable[str]) -> dict[str, GroupDescription]:
        """Members and assignments; an unknown group raises ``GroupIdNotFoundError``."""
        return await _groups.describe_groups(self._kernel, groups)

    async def delete_groups(self, groups: Iterable[str]) -> None:
        """Delete empty groups and their offsets; an unknown one raises ``GroupIdNotFoundError``."""
        await _groups.delete_groups(self._kernel, groups)

    async def list_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """Committed offsets of ``group`` (all its partitions by default)."""
        return await _groups.list_group_offsets(self._kernel, group, partitions)

    async def alter_group_offsets(
        self, group: str, offsets: Mapping[TopicPartition, OffsetAndMetadata | int]
    ) -> None:
        """Commit ``offsets`` for an empty ``group`` (resetting offsets)."""
        await _groups.alter_group_offsets(self._kernel, group, offsets)

    async def delete_group_offsets(self, group: str, partitions: Iterable[TopicPartition]) -> None:
        """Forget ``group``'s committed offsets of ``partitions``."""
        await _groups.delete_group_offsets(self._kernel, group, partitions)

    async def list_offsets(
        self, specs: Mapping[TopicPartition, int], *, isolation_level: int = 0
    ) -> dict[TopicPartition, ListOffsetsResult]:
        """Offsets by ``OffsetSpec`` (EARLIEST, LATEST, MAX_TIMESTAMP) or timestamp (ms)."""
        return await _groups.list_offsets(self._kernel, specs, isolation_level=isolation_level)

    async def delete_records(
        self, before: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """Delete records before the offsets; the new low watermarks."""
        return await _groups.delete_records(self._kernel, before, timeout_ms=self._timeout)

    async def describe_cluster(self) -> ClusterDescription:
        """The cluster id, the controller and the brokers."""
        return await _topics.describe_cluster(self._kernel)
