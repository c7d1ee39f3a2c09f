"""The admin client: topics, partitions, configs, groups, offsets, cluster.

Example::

    from tidal.log.client.admin import AdminClient, NewTopic

    async with AdminClient(bootstrap_servers="localhost:9092") as admin:
        await admin.create_topics([NewTopic("events", num_partitions=3)])

``SyncAdminClient`` offers the same methods for scripts without asyncio.
"""

from tidal.log.client.admin._admin import AdminClient
from tidal.log.client.admin._results import (
    ClusterDescription,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    GroupDescription,
    GroupListing,
    ListOffsetsResult,
    MemberDescription,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
    TopicDescription,
)
from tidal.log.client.admin._sync import SyncAdminClient

__all__ = [
    "AdminClient",
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
    "SyncAdminClient",
    "TopicDescription",
]
