"""Tidal's own asyncio Kafka client: producer, consumer and admin client.

Everything speaks the Kafka protocol through :mod:`tidal.log.protocol` and
record batches through :mod:`tidal.log.records`; nothing here imports the
broker. The parts, bottom up:

* ``ClientConfig`` (``_config``): settings with Kafka's names and defaults;
* ``BrokerConnection`` (``_connection``): one socket, ApiVersions, pipelined
  requests, bounded waits; ``negotiate_version`` (``_versions``);
* ``Cluster`` / ``ClusterMetadata`` (``_cluster``): the metadata cache;
* ``Kernel`` (``_kernel``): one per client, the connection pool, metadata
  refresh, coordinators (``_coordinators``) and retries;
* ``producer``, ``consumer`` and ``admin``: the facades.

Errors are the typed classes of :mod:`tidal.log.protocol.errors` plus the
client-side ones re-exported here (``KafkaTimeoutError``,
``KafkaConnectionError``, ``RecordTooLargeError``, ``ClientClosedError``).
"""

from tidal.log.client._cluster import Cluster, ClusterMetadata
from tidal.log.client._config import ClientConfig, ConfigError
from tidal.log.client._connection import BrokerConnection, RequestBuilder
from tidal.log.client._coordinators import COORDINATOR_ERRORS, CoordinatorType
from tidal.log.client._errors import (
    ClientClosedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RecordTooLargeError,
)
from tidal.log.client._kernel import Kernel
from tidal.log.client._sync import LoopThread
from tidal.log.client._types import (
    Node,
    OffsetAndMetadata,
    PartitionMetadata,
    TopicMetadata,
    TopicPartition,
)
from tidal.log.client._versions import CLIENT_VERSIONS, negotiate_version

__all__ = [
    "CLIENT_VERSIONS",
    "COORDINATOR_ERRORS",
    "BrokerConnection",
    "ClientClosedError",
    "ClientConfig",
    "Cluster",
    "ClusterMetadata",
    "ConfigError",
    "CoordinatorType",
    "KafkaConnectionError",
    "KafkaTimeoutError",
    "Kernel",
    "LoopThread",
    "Node",
    "OffsetAndMetadata",
    "PartitionMetadata",
    "RecordTooLargeError",
    "RequestBuilder",
    "TopicMetadata",
    "TopicPartition",
    "negotiate_version",
]
