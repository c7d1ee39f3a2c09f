"""CreateTopics, DeleteTopics and CreatePartitions: the topic admin APIs.

This node is the whole cluster and its own controller, so requests are
answered here, per topic, with Kafka's error codes and messages. The request
``timeout_ms`` is not waited on: every change is done before the answer.

Manual replica assignments are checked as Kafka's controller checks them
(``ReplicationControlManager``): with a single broker the only valid
assignment puts each partition on this node, once.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence

from tidal.log.broker._context import RequestContext
from tidal.log.broker._describe_configs import describe_topic
from tidal.log.broker._topics import INTERNAL_TOPICS, TopicError, TopicInfo
from tidal.log.broker.handlers import handles
from tidal.log.protocol.errors import (
    InvalidReplicaAssignmentError,
    InvalidRequestError,
    TopicAlreadyExistsError,
    TopicDeletionDisabledError,
    UnknownTopicIdError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages import (
    CreatePartitionsRequest,
    CreatePartitionsResponse,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteTopicsRequest,
    DeleteTopicsResponse,
)
from tidal.log.protocol.messages.create_partitions import (
    CreatePartitionsAssignment,
    CreatePartitionsTopicResult,
)
from tidal.log.protocol.messages.create_topics import (
    CreatableTopic,
    CreatableTopicConfigs,
    CreatableTopicResult,
)
from tidal.log.protocol.messages.delete_topics import DeletableTopicResult, DeleteTopicState
from tidal.log.protocol.types import ZERO_UUID

__all__ = ["create_partitions", "create_topics", "delete_topics"]

_log = logging.getLogger(__name__)


def check_replicas(node_id: int, replicas: Sequence[int]) -> None:
    """Raise ``TopicError(INVALID_REPLICA_ASSIGNMENT)`` unless ``replicas``
    names this broker exactly once (the only live broker)."""
    if not replicas:
        raise TopicError(
            InvalidReplicaAssignmentError.code,
            "The manual partition assignment includes an empty replica list.",
        )
    for broker_id, times in Counter(replicas).items():
        if times > 1:
            raise TopicError(
                InvalidReplicaAssignmentError.code,
                f"The manual partition assignment includes the broker {broker_id} more than once.",
            )
        if broker_id != node_id:
            raise TopicError(
                InvalidReplicaAssignmentError.code,
                f"The manual partition assignment includes broker {broker_id}, but no such "
                "broker is registered.",
            )


# ---- CreateTopics ----------------------------------------------------------------------


def _partition_count(node_id: int, topic: CreatableTopic) -> int:
    """The partition count a CreateTopics entry asks for (-1: the default)."""
    if not topic.assignments:
        return topic.num_partitions
    if topic.replication_factor != -1:
        raise TopicError(
            InvalidRequestError.code,
            "A manual partition assignment was specified, but replication factor was not "
            "set to -1.",
        )
    if topic.num_partitions != -1:
        raise TopicError(
            InvalidRequestError.code,
            "A manual partition assignment was specified, but numPartitions was not set to -1.",
        )
    for expected, assignment in enumerate(
        sorted(topic.assignments, key=lambda a: a.partition_index)
    ):
        if assignment.partition_index != expected:
            raise TopicError(
                InvalidReplicaAssignmentError.code,
                f"Partitions should be numbered 0 to {len(topic.assignments) - 1}, "
                f"but partition {assignment.partition_index} was given.",
            )
        check_replicas(node_id, assignment.broker_ids)
    return len(topic.assignments)


def _create_one(ctx: RequestContext, topic: CreatableTopic, validate_only: bool) -> TopicInfo:
    broker = ctx.broker
    if topic.name in INTERNAL_TOPICS:
        raise TopicError(TopicAlreadyExistsError.code, f"Topic '{topic.name}' already exists.")
    partitions = _partition_count(broker.node_id, topic)
    replication = 1 if topic.assignments else topic.replication_factor
    names = Counter(c.name for c in topic.configs)
    duplicated = sorted(name for name, times in names.items() if times > 1)
    if duplicated:
        raise TopicError(
            InvalidRequestError.code,
            f"Duplicate config keys in CreateTopics: {', '.join(duplicated)}",
        )
    configs = {c.name: c.value for c in topic.configs}
    return broker.topics.create_topic(
        topic.name, partitions, replication, configs, validate_only=validate_only
    )


def _created(ctx: RequestContext, info: TopicInfo) -> CreatableTopicResult:
    result = CreatableTopicResult(name=info.name, topic_id=info.topic_id)
    if ctx.api_version >= 5:
        result.num_partitions = info.partitions
        result.replication_factor = 1
        result.configs = [
            CreatableTopicConfigs(
                name=entry.name,
                value=entry.value,
                read_only=entry.read_only,
                config_source=int(entry.source),
                is_sensitive=entry.is_sensitive,
            )
            for entry in describe_topic(info, ctx.broker.config)
        ]
    return result


@handles(CreateTopicsRequest)
async def create_topics(ctx: RequestContext, request: CreateTopicsRequest) -> CreateTopicsResponse:
    """Create each topic, or with ``validate_only`` only check it."""
    counts = Counter(t.name for t in request.topics)
    results = []
    for topic in request.topics:
        if counts[topic.name] > 1:
            results.append(
                CreatableTopicResult(
                    name=topic.name,
                    error_code=InvalidRequestError.code,
                    error_message="Duplicate topic name.",
                )
            )
            continue
        try:
            info = _create_one(ctx, topic, request.validate_only)
        except TopicError as exc:
            results.append(
                CreatableTopicResult(
                    name=topic.name, error_code=exc.error_code, error_message=exc.message
                )
            )
            continue
        if not request.validate_only:
            _log.info(
                "created topic %s (%d partitions) for %s", info.name, info.partitions, ctx.peer
            )
        results.append(_created(ctx, info))
    return CreateTopicsResponse(topics=results)


# ---- DeleteTopics ----------------------------------------------------------------------


def _delete_one(ctx: RequestContext, name: str) -> TopicInfo:
    broker = ctx.broker
    if name in INTERNAL_TOPICS:
        raise TopicError(
            InvalidRequestError.code, f"Topic '{name}' is internal and cannot be deleted."
        )
    try:
        info = broker.topics.delete_topic(name)
    except TopicError as exc:
        if exc.error_code == TopicDeletionDisabledError.code and ctx.api_version < 3:
            # DeleteTopics v0-2 predate TOPIC_DELETION_DISABLED.
            raise TopicError(InvalidRequestError.code, exc.message) from None
        raise
    broker.groups.on_topic_deleted([name])
    broker.forget_producer_state(name)
    _log.info("deleted topic %s for %s", name, ctx.peer)
    return info


def _requested(request: DeleteTopicsRequest, version: int) -> list[DeleteTopicState]:
    if version >= 6:
        return list(request.topics)
    return [DeleteTopicState(name=name) for name in request.topic_names]


@handles(DeleteTopicsRequest)
async def delete_topics(ctx: RequestContext, request: DeleteTopicsRequest) -> DeleteTopicsResponse:
    """Delete topics by name (v1-6) or by topic id (v6)."""
    wanted = _requested(request, ctx.api_version)
    names = Counter(t.name for t in wanted if t.name is not None)
    ids = Counter(t.topic_id for t in wanted if t.name is None)
    results = []
    for state in wanted:
        result = DeletableTopicResult(name=state.name, topic_id=state.topic_id)
        results.append(result)
        try:
            name = _resolve(ctx, state, names, ids)
            info = _delete_one(ctx, name)
        except TopicError as exc:
            result.error_code = exc.error_code
            result.error_message = exc.message
            continue
        result.name = info.name
        result.topic_id = info.topic_id
    return DeleteTopicsResponse(responses=results)


def _resolve(
    ctx: RequestContext,
    state: DeleteTopicState,
    names: Counter[str],
    ids: Counter[uuid.UUID],
) -> str:
    """The name of the topic a DeleteTopics entry means."""
    if state.name is not None:
        if state.topic_id != ZERO_UUID:
            raise TopicError(
                InvalidRequestError.code,
                "A topic must be named by its name or by its id, not both.",
            )
        if names[state.name] > 1:
            raise TopicError(InvalidRequestError.code, "Duplicate topic name.")
        return state.name
    if state.topic_id == ZERO_UUID:
        raise TopicError(InvalidRequestError.code, "Neither a topic name nor a topic id was given.")
    if ids[state.topic_id] > 1:
        raise TopicError(InvalidRequestError.code, "Duplicate topic id.")
    info = ctx.broker.topics.by_id(state.topic_id)
    if info is None:
        raise TopicError(UnknownTopicIdError.code, f"Topic id {state.topic_id} does not exist.")
    return info.name


# ---- CreatePartitions ------------------------------------------------------------------


@handles(CreatePartitionsRequest)
async def create_partitions(
    ctx: RequestContext, request: CreatePartitionsRequest
) -> CreatePartitionsResponse:
    """Grow topics to ``count`` partitions (existing partitions stay as they are)."""
    counts = Counter(t.name for t in request.topics)
    results = []
    for topic in request.topics:
        result = CreatePartitionsTopicResult(name=topic.name)
        results.append(result)
        try:
            if counts[topic.name] > 1:
                raise TopicError(InvalidRequestError.code, "Duplicate topic name.")
            _grow(ctx, topic.name, topic.count, topic.assignments, request.validate_only)
        except TopicError as exc:
            result.error_code = exc.error_code
            result.error_message = exc.message
    return CreatePartitionsResponse(results=results)


def _grow(
    ctx: RequestContext,
    name: str,
    count: int,
    assignments: Sequence[CreatePartitionsAssignment] | None,
    validate_only: bool,
) -> None:
    topics = ctx.broker.topics
    info = topics.get(name)
    if info is None:
        raise TopicError(UnknownTopicOrPartitionError.code, f"Topic '{name}' does not exist.")
    if assignments is not None and count > info.partitions:
        added = count - info.partitions
        if len(assignments) != added:
            raise TopicError(
                InvalidReplicaAssignmentError.code,
                f"Attempted to add {added} additional partition(s), but only "
                f"{len(assignments)} assignment(s) were specified.",
            )
        for assignment in assignments:
            check_replicas(ctx.broker.node_id, assignment.broker_ids)
    topics.create_partitions(name, count, validate_only=validate_only)
    if not validate_only:
        _log.info("topic %s now has %d partitions (for %s)", name, count, ctx.peer)
