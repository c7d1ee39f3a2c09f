"""A synchronous admin client for scripts: the asyncio admin client on a loop thread.

Example::

    with SyncAdminClient(bootstrap_servers="localhost:9092") as admin:
        admin.create_topics([NewTopic("events", num_partitions=3)])
        print(admin.list_topics())

Each method mirrors the :class:`AdminClient` method of the same name, with the
same signature and result, so type checkers see real signatures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType

from tidal.log.client._config import ClientConfig
from tidal.log.client._sync import LoopThread
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.admin._admin import AdminClient
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

__all__ = ["SyncAdminClient"]


class SyncAdminClient:
    """Blocking :class:`AdminClient`: the same methods, run on a loop thread."""

    def __init__(
        self, config: Mapping[str, object] | ClientConfig | None = None, /, **settings: object
    ) -> None:
        self._loop = LoopThread("tidal-admin")
        self._admin = AdminClient(config, **settings)
        try:
            self._loop.run(self._admin.start())
        except BaseException:
            self._loop.run(self._admin.close())
            self._loop.stop()
            raise

    @property
    def config(self) -> ClientConfig:
        """The admin client's checked settings."""
        return self._admin.config

    def close(self) -> None:
        """Close the connections and stop the loop thread."""
        if not self._loop.loop.is_closed():
            self._loop.run(self._admin.close())
            self._loop.stop()

    def __enter__(self) -> SyncAdminClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- topics ------------------------------------------------------------------

    def create_topics(self, topics: Iterable[NewTopic], *, validate_only: bool = False) -> None:
        """See :meth:`AdminClient.create_topics`."""
        self._loop.run(self._admin.create_topics(topics, validate_only=validate_only))

    def delete_topics(self, topics: Iterable[str]) -> None:
        """See :meth:`AdminClient.delete_topics`."""
        self._loop.run(self._admin.delete_topics(topics))

    def list_topics(self, *, internal: bool = False) -> list[str]:
        """See :meth:`AdminClient.list_topics`."""
        return self._loop.run(self._admin.list_topics(internal=internal))

    def describe_topics(self, topics: Iterable[str]) -> dict[str, TopicDescription]:
        """See :meth:`AdminClient.describe_topics`."""
        return self._loop.run(self._admin.describe_topics(topics))

    def create_partitions(
        self, changes: Iterable[NewPartitions], *, validate_only: bool = False
    ) -> None:
        """See :meth:`AdminClient.create_partitions`."""
        self._loop.run(self._admin.create_partitions(changes, validate_only=validate_only))

    # -- configs -----------------------------------------------------------------

    def describe_configs(
        self, resources: Iterable[ConfigResource]
    ) -> dict[ConfigResource, dict[str, ConfigEntry]]:
        """See :meth:`AdminClient.describe_configs`."""
        return self._loop.run(self._admin.describe_configs(resources))

    def alter_configs(
        self, configs: Mapping[ConfigResource, Mapping[str, str]], *, validate_only: bool = False
    ) -> None:
        """See :meth:`AdminClient.alter_configs`."""
        self._loop.run(self._admin.alter_configs(configs, validate_only=validate_only))

    def incremental_alter_configs(
        self,
        changes: Mapping[ConfigResource, Mapping[str, tuple[str, str | None]]],
        *,
        validate_only: bool = False,
    ) -> None:
        """See :meth:`AdminClient.incremental_alter_configs`."""
        self._loop.run(self._admin.incremental_alter_configs(changes, validate_only=validate_only))

    # -- groups and offsets ------------------------------------------------------

    def list_groups(self) -> list[GroupListing]:
        """See :meth:`AdminClient.list_groups`."""
        return self._loop.run(self._admin.list_groups())

    def describe_groups(self, groups: Iterable[str]) -> dict[str, GroupDescription]:
        """See :meth:`AdminClient.describe_groups`."""
        return self._loop.run(self._admin.describe_groups(groups))

    def delete_groups(self, groups: Iterable[str]) -> None:
        """See :meth:`AdminClient.delete_groups`."""
        self._loop.run(self._admin.delete_groups(groups))

    def list_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """See :meth:`AdminClient.list_group_offsets`."""
        return self._loop.run(self._admin.list_group_offsets(group, partitions))

    def alter_group_offsets(
        self, group: str, offsets: Mapping[TopicPartition, OffsetAndMetadata | int]
    ) -> None:
        """See :meth:`AdminClient.alter_group_offsets`."""
        self._loop.run(self._admin.alter_group_offsets(group, offsets))

    def delete_group_offsets(self, group: str, partitions: Iterable[TopicPartition]) -> None:
        """See :meth:`AdminClient.delete_group_offsets`."""
        self._loop.run(self._admin.delete_group_offsets(group, partitions))

    def list_offsets(
        self, specs: Mapping[TopicPartition, int], *, isolation_level: int = 0
    ) -> dict[TopicPartition, ListOffsetsResult]:
        """See :meth:`AdminClient.list_offsets`."""
        return self._loop.run(self._admin.list_offsets(specs, isolation_level=isolation_level))

    def delete_records(self, before: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        """See :meth:`AdminClient.delete_records`."""
        return self._loop.run(self._admin.delete_records(before))

    def describe_cluster(self) -> ClusterDescription:
        """See :meth:`AdminClient.describe_cluster`."""
        return self._loop.run(self._admin.describe_cluster())
