"""The asyncio consumer: subscriptions, consumer groups, fetching, commits.

Built from single-purpose parts (Kafka's layout): the subscription state
(``_subscription``), the fetcher (``_fetcher``) that turns Fetch responses
into records (``_records``), the group coordinator (``_coordinator``) with
its assignors (``_assignors``, ``_sticky``) and the "consumer" embedded
protocol (``_protocol``), under the :class:`Consumer` facade;
:class:`SyncConsumer` (``_sync``) is its blocking wrapper for scripts.
"""

from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client.consumer._assignors import (
    MemberSubscription,
    PartitionAssignor,
    RangeAssignor,
    RebalanceProtocol,
    RoundRobinAssignor,
)
from tidal.log.client.consumer._config import ConsumerConfig
from tidal.log.client.consumer._consumer import Consumer
from tidal.log.client.consumer._protocol import Assignment, Subscription
from tidal.log.client.consumer._records import RecordDeserializationError
from tidal.log.client.consumer._sticky import ASSIGNORS, CooperativeStickyAssignor
from tidal.log.client.consumer._structs import (
    ConsumerRecord,
    IsolationLevel,
    NoOffsetForPartitionError,
    OffsetAndMetadata,
    OffsetAndTimestamp,
    OffsetResetStrategy,
    RebalanceListener,
    TopicPartition,
)
from tidal.log.client.consumer._sync import SyncConsumer

__all__ = [
    "ASSIGNORS",
    "Assignment",
    "Consumer",
    "ConsumerConfig",
    "ConsumerGroupMetadata",
    "ConsumerRecord",
    "CooperativeStickyAssignor",
    "IsolationLevel",
    "MemberSubscription",
    "NoOffsetForPartitionError",
    "OffsetAndMetadata",
    "OffsetAndTimestamp",
    "OffsetResetStrategy",
    "PartitionAssignor",
    "RangeAssignor",
    "RebalanceListener",
    "RebalanceProtocol",
    "RecordDeserializationError",
    "RoundRobinAssignor",
    "Subscription",
    "SyncConsumer",
    "TopicPartition",
]
