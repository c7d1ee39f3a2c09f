"""Metadata (key 3): this node as the only broker, the controller and every leader.

Topics: v0 asks for all with an empty list, v1+ with a null one. A missing
topic is created when both the request (``allow_auto_topic_creation``, v4+;
always for v0-3) and ``auto.create.topics.enable`` allow it, and is
answered at once (Kafka says LEADER_NOT_AVAILABLE first; creation here is
synchronous, so there is nothing to wait for). Names Kafka would refuse get
INVALID_TOPIC_EXCEPTION, unknown ones UNKNOWN_TOPIC_OR_PARTITION, unknown ids
(v10+) UNKNOWN_TOPIC_ID. Leader epoch 0 everywhere (reference section 2.5).
Topic ids are real from v10; internal topics, which the registry does not
hold, carry the zero id.
"""

from __future__ import annotations

import uuid

from tidal.log.broker._broker import LEADER_EPOCH, Broker
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker._topics import INTERNAL_TOPICS
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import MetadataRequest, MetadataResponse
from tidal.log.protocol.messages.metadata import (
    MetadataResponseBroker,
    MetadataResponsePartition,
    MetadataResponseTopic,
)
from tidal.log.protocol.types import ZERO_UUID
from tidal.log.storage import validate_topic_name

__all__ = ["metadata"]

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
UNKNOWN_TOPIC_ID = 100


def _partitions(node: int, count: int) -> list[MetadataResponsePartition]:
    return [
        MetadataResponsePartition(
            partition_index=p,
            leader_id=node,
            leader_epoch=LEADER_EPOCH,
            replica_nodes=[node],
            isr_nodes=[node],
        )
        for p in range(count)
    ]


def _topic(broker: Broker, name: str, topic_id: uuid.UUID, count: int) -> MetadataResponseTopic:
    return MetadataResponseTopic(
        name=name,
        topic_id=topic_id,
        is_internal=name in INTERNAL_TOPICS,
        partitions=_partitions(broker.node_id, count),
    )


def _all_topics(broker: Broker) -> list[MetadataResponseTopic]:
    topics = [_topic(broker, t.name, t.topic_id, t.partitions) for t in broker.topics.topics()]
    for name, count in broker.internal_topics().items():
        topics.append(_topic(broker, name, ZERO_UUID, count))
    return topics


def _named_topic(broker: Broker, name: str, auto_create: bool) -> MetadataResponseTopic:
    info = broker.topics.get(name)
    if info is not None:
        return _topic(broker, name, info.topic_id, info.partitions)
    internal = broker.internal_topics().get(name)
    if internal is not None:
        return _topic(broker, name, ZERO_UUID, internal)
    try:
        validate_topic_name(name)
    except ValueError:
        return MetadataResponseTopic(error_code=INVALID_TOPIC_EXCEPTION, name=name)
    if auto_create and name not in INTERNAL_TOPICS:
        info = broker.topic_for_use(name)
        if info is not None:
            return _topic(broker, name, info.topic_id, info.partitions)
    return MetadataResponseTopic(error_code=UNKNOWN_TOPIC_OR_PARTITION, name=name)


def _brokers(broker: Broker) -> list[MetadataResponseBroker]:
    return [
        MetadataResponseBroker(
            node_id=broker.node_id, host=broker.advertised_host, port=broker.advertised_port
        )
    ]


@handles(MetadataRequest)
async def metadata(ctx: RequestContext, request: MetadataRequest) -> MetadataResponse:
    """Describe the cluster and the requested (or all) topics."""
    broker = ctx.broker
    version = ctx.api_version
    wanted = request.topics
    if wanted is None or (version == 0 and not wanted):
        topics = _all_topics(broker)
    else:
        auto_create = version < 4 or request.allow_auto_topic_creation
        topics = []
        for requested in wanted:
            if requested.name is None:
                info = broker.topics.by_id(requested.topic_id)
                if info is None:
                    topics.append(
                        MetadataResponseTopic(
                            error_code=UNKNOWN_TOPIC_ID,
                            name=None if version >= 12 else "",
                            topic_id=requested.topic_id,
                        )
                    )
                else:
                    topics.append(_topic(broker, info.name, info.topic_id, info.partitions))
                continue
            topics.append(_named_topic(broker, requested.name, auto_create))
    if version < 10:
        for topic in topics:
            topic.topic_id = ZERO_UUID
    return MetadataResponse(
        brokers=_brokers(broker),
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        topics=topics,
    )


@error_response_for(MetadataRequest)
def _failed(request: MetadataRequest, version: int, code: int) -> MetadataResponse:
    topics = [
        MetadataResponseTopic(
            error_code=code,
            name=t.name if t.name is not None or version >= 12 else "",
            topic_id=t.topic_id,
        )
        for t in request.topics or []
    ]
    if version < 10:
        for topic in topics:
            topic.topic_id = ZERO_UUID
    return MetadataResponse(brokers=[], topics=topics)
