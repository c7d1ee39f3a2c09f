"""Metadata (key 3), versions 0-12, flexible from 9.

v0 asks for all topics with an empty list; v1+ with a null list. A Tidal
broker names itself as the controller and answers leader epoch 0.
"""

from __future__ import annotations

import uuid

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT16, INT32, STRING, UUID, ZERO_UUID

__all__ = [
    "MetadataRequest",
    "MetadataRequestTopic",
    "MetadataResponse",
    "MetadataResponseBroker",
    "MetadataResponsePartition",
    "MetadataResponseTopic",
]

#: ``*_authorized_operations`` when they were not asked for.
AUTHORIZED_OPERATIONS_OMITTED = -(2**31)


class MetadataRequestTopic(Struct):
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    name: str | None = F(STRING, nullable_versions="10+")


class MetadataRequest(Request, api_key=3, valid_versions=(0, 12), flexible_versions=9):
    topics: list[MetadataRequestTopic] | None = F(
        array(MetadataRequestTopic), nullable_versions="1+"
    )
    allow_auto_topic_creation: bool = F(BOOLEAN, versions="4+", default=True)
    include_cluster_authorized_operations: bool = F(BOOLEAN, versions="8-10", default=False)
    include_topic_authorized_operations: bool = F(BOOLEAN, versions="8+", default=False)


class MetadataResponseBroker(Struct):
    node_id: int = F(INT32)
    host: str = F(STRING)
    port: int = F(INT32)
    rack: str | None = F(
        STRING, versions="1+", nullable_versions="1+", ignorable=True, default=None
    )


class MetadataResponsePartition(Struct):
    error_code: int = F(INT16, default=0)
    partition_index: int = F(INT32)
    leader_id: int = F(INT32)
    leader_epoch: int = F(INT32, versions="7+", ignorable=True, default=-1)
    replica_nodes: list[int] = F(array(INT32), default_factory=list)
    isr_nodes: list[int] = F(array(INT32), default_factory=list)
    offline_replicas: list[int] = F(
        array(INT32), versions="5+", ignorable=True, default_factory=list
    )


class MetadataResponseTopic(Struct):
    error_code: int = F(INT16, default=0)
    name: str | None = F(STRING, nullable_versions="12+")
    topic_id: uuid.UUID = F(UUID, versions="10+", ignorable=True, default=ZERO_UUID)
    is_internal: bool = F(BOOLEAN, versions="1+", ignorable=True, default=False)
    partitions: list[MetadataResponsePartition] = F(
        array(MetadataResponsePartition), default_factory=list
    )
    topic_authorized_operations: int = F(
        INT32, versions="8+", default=AUTHORIZED_OPERATIONS_OMITTED
    )


class MetadataResponse(Response, api_key=3, valid_versions=(0, 12), flexible_versions=9):
    throttle_time_ms: int = F(INT32, versions="3+", ignorable=True, default=0)
    brokers: list[MetadataResponseBroker] = F(array(MetadataResponseBroker))
    cluster_id: str | None = F(
        STRING, versions="2+", nullable_versions="2+", ignorable=True, default=None
    )
    controller_id: int = F(INT32, versions="1+", ignorable=True, default=-1)
    topics: list[MetadataResponseTopic] = F(array(MetadataResponseTopic))
    cluster_authorized_operations: int = F(
        INT32, versions="8-10", default=AUTHORIZED_OPERATIONS_OMITTED
    )
