"""CreateTopics (key 19), versions 0-7, flexible from 5.

Kafka 4 serves 2-7; 0-1 are declared for older brokers. Sent to the
controller. v1 adds ``validate_only``; from v4 ``num_partitions`` and
``replication_factor`` may be -1 for the broker's defaults even without
explicit assignments (KIP-464); v5 returns the created topic's configs,
partition count and replication factor (KIP-525), v7 its topic id.
"""

from __future__ import annotations

import uuid

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, STRING, UUID, ZERO_UUID

__all__ = [
    "CreatableReplicaAssignment",
    "CreatableTopic",
    "CreatableTopicConfig",
    "CreatableTopicConfigs",
    "CreatableTopicResult",
    "CreateTopicsRequest",
    "CreateTopicsResponse",
]


class CreatableReplicaAssignment(Struct):
    partition_index: int = F(INT32)
    broker_ids: list[int] = F(array(INT32))


class CreatableTopicConfig(Struct):
    name: str = F(STRING)
    value: str | None = F(STRING, nullable_versions="0+")


class CreatableTopic(Struct):
    name: str = F(STRING)
    num_partitions: int = F(INT32)
    replication_factor: int = F(INT16)
    assignments: list[CreatableReplicaAssignment] = F(
        array(CreatableReplicaAssignment), default_factory=list
    )
    configs: list[CreatableTopicConfig] = F(array(CreatableTopicConfig), default_factory=list)


class CreateTopicsRequest(Request, api_key=19, valid_versions=(0, 7), flexible_versions=5):
    topics: list[CreatableTopic] = F(array(CreatableTopic))
    timeout_ms: int = F(INT32, default=60000)
    validate_only: bool = F(BOOLEAN, versions="1+", default=False)


class CreatableTopicConfigs(Struct):
    name: str = F(STRING, versions="5+")
    value: str | None = F(STRING, versions="5+", nullable_versions="5+")
    read_only: bool = F(BOOLEAN, versions="5+")
    config_source: int = F(INT8, versions="5+", ignorable=True, default=-1)
    is_sensitive: bool = F(BOOLEAN, versions="5+")


class CreatableTopicResult(Struct):
    name: str = F(STRING)
    topic_id: uuid.UUID = F(UUID, versions="7+", ignorable=True, default=ZERO_UUID)
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(
        STRING, versions="1+", nullable_versions="0+", ignorable=True, default=None
    )
    topic_config_error_code: int = F(
        INT16, versions="5+", tag=0, tagged_versions="5+", ignorable=True, default=0
    )
    num_partitions: int = F(INT32, versions="5+", ignorable=True, default=-1)
    replication_factor: int = F(INT16, versions="5+", ignorable=True, default=-1)
    configs: list[CreatableTopicConfigs] | None = F(
        array(CreatableTopicConfigs),
        versions="5+",
        nullable_versions="5+",
        ignorable=True,
        default_factory=list,
    )


class CreateTopicsResponse(Response, api_key=19, valid_versions=(0, 7), flexible_versions=5):
    throttle_time_ms: int = F(INT32, versions="2+", ignorable=True, default=0)
    topics: list[CreatableTopicResult] = F(array(CreatableTopicResult))
