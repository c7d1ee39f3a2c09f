"""OffsetFetch (key 9), versions 0-10, flexible from 6.

Kafka 4 serves 1-10; v0 (offsets in ZooKeeper) is declared for older
brokers. From v2 a null ``topics`` asks for every committed offset and the
response has a top-level error code; v5 adds the committed leader epoch; v7
``require_stable`` (read_committed consumers: partitions with pending
transactional offsets answer UNSTABLE_OFFSET_COMMIT).

v8 changes the layout: the request carries ``groups`` (each with its own
topics, null for all) instead of ``group_id``/``topics``, and the response
answers per group with a group-level error code instead of the top-level
``topics``/``error_code``. v9 adds the member id and epoch of the new
consumer protocol, v10 names topics by id only (KIP-848).
"""

from __future__ import annotations

import uuid

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, INT64, STRING, UUID, ZERO_UUID

__all__ = [
    "OffsetFetchRequest",
    "OffsetFetchRequestGroup",
    "OffsetFetchRequestTopic",
    "OffsetFetchRequestTopics",
    "OffsetFetchResponse",
    "OffsetFetchResponseGroup",
    "OffsetFetchResponsePartition",
    "OffsetFetchResponsePartitions",
    "OffsetFetchResponseTopic",
    "OffsetFetchResponseTopics",
]


class OffsetFetchRequestTopic(Struct):
    """A topic of the v0-7 layout."""

    name: str = F(STRING, versions="0-7")
    partition_indexes: list[int] = F(array(INT32), versions="0-7")


class OffsetFetchRequestTopics(Struct):
    """A topic of one group in the v8+ layout."""

    name: str = F(STRING, versions="8-9", ignorable=True, default="")
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    partition_indexes: list[int] = F(array(INT32), versions="8+")


class OffsetFetchRequestGroup(Struct):
    group_id: str = F(STRING, versions="8+")
    member_id: str | None = F(
        STRING, versions="9+", nullable_versions="9+", ignorable=True, default=None
    )
    member_epoch: int = F(INT32, versions="9+", ignorable=True, default=-1)
    topics: list[OffsetFetchRequestTopics] | None = F(
        array(OffsetFetchRequestTopics), versions="8+", nullable_versions="8+", default=None
    )


class OffsetFetchRequest(Request, api_key=9, valid_versions=(0, 10), flexible_versions=6):
    """Committed offsets of one group (v0-7) or of several (v8+); null topics
    (v2+) ask for all of them."""

    group_id: str = F(STRING, versions="0-7", default="")
    topics: list[OffsetFetchRequestTopic] | None = F(
        array(OffsetFetchRequestTopic),
        versions="0-7",
        nullable_versions="2-7",
        default_factory=list,
    )
    groups: list[OffsetFetchRequestGroup] = F(
        array(OffsetFetchRequestGroup), versions="8+", default_factory=list
    )
    require_stable: bool = F(BOOLEAN, versions="7+", default=False)


class OffsetFetchResponsePartition(Struct):
    """A partition of the v0-7 layout."""

    partition_index: int = F(INT32, versions="0-7")
    committed_offset: int = F(INT64, versions="0-7", default=-1)
    committed_leader_epoch: int = F(INT32, versions="5-7", ignorable=True, default=-1)
    metadata: str | None = F(STRING, versions="0-7", nullable_versions="0-7", default="")
    error_code: int = F(INT16, versions="0-7", default=0)


class OffsetFetchResponseTopic(Struct):
    """A topic of the v0-7 layout."""

    name: str = F(STRING, versions="0-7")
    partitions: list[OffsetFetchResponsePartition] = F(
        array(OffsetFetchResponsePartition), versions="0-7", default_factory=list
    )


class OffsetFetchResponsePartitions(Struct):
    """A partition of one group in the v8+ layout."""

    partition_index: int = F(INT32, versions="8+")
    committed_offset: int = F(INT64, versions="8+", default=-1)
    committed_leader_epoch: int = F(INT32, versions="8+", ignorable=True, default=-1)
    metadata: str | None = F(STRING, versions="8+", nullable_versions="8+", default="")
    error_code: int = F(INT16, versions="8+", default=0)


class OffsetFetchResponseTopics(Struct):
    """A topic of one group in the v8+ layout."""

    name: str = F(STRING, versions="8-9", ignorable=True, default="")
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    partitions: list[OffsetFetchResponsePartitions] = F(
        array(OffsetFetchResponsePartitions), versions="8+", default_factory=list
    )


class OffsetFetchResponseGroup(Struct):
    group_id: str = F(STRING, versions="8+")
    topics: list[OffsetFetchResponseTopics] = F(
        array(OffsetFetchResponseTopics), versions="8+", default_factory=list
    )
    error_code: int = F(INT16, versions="8+", default=0)


class OffsetFetchResponse(Response, api_key=9, valid_versions=(0, 10), flexible_versions=6):
    throttle_time_ms: int = F(INT32, versions="3+", ignorable=True, default=0)
    topics: list[OffsetFetchResponseTopic] = F(
        array(OffsetFetchResponseTopic), versions="0-7", default_factory=list
    )
    error_code: int = F(INT16, versions="2-7", ignorable=True, default=0)
    groups: list[OffsetFetchResponseGroup] = F(
        array(OffsetFetchResponseGroup), versions="8+", default_factory=list
    )
