"""CreateTopics, DeleteTopics and CreatePartitions through their handlers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.protocol.errors import (
    InvalidConfigError,
    InvalidPartitionsError,
    InvalidReplicaAssignmentError,
    InvalidReplicationFactorError,
    InvalidRequestError,
    InvalidTopicError,
    TopicAlreadyExistsError,
    TopicDeletionDisabledError,
    UnknownTopicIdError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages import (
    CreatePartitionsRequest,
    CreateTopicsRequest,
    DeleteTopicsRequest,
)
from tidal.log.protocol.messages.create_partitions import (
    CreatePartitionsAssignment,
    CreatePartitionsTopic,
)
from tidal.log.protocol.messages.create_topics import (
    CreatableReplicaAssignment,
    CreatableTopic,
    CreatableTopicConfig,
)
from tidal.log.protocol.messages.delete_topics import DeleteTopicState
from tidal.log.protocol.types import ZERO_UUID

Call = Any


def topic(name: str, partitions: int = -1, replication: int = -1, **kwargs: Any) -> CreatableTopic:
    return CreatableTopic(
        name=name, num_partitions=partitions, replication_factor=replication, **kwargs
    )


def create(*topics: CreatableTopic, validate_only: bool = False) -> CreateTopicsRequest:
    return CreateTopicsRequest(topics=list(topics), timeout_ms=1000, validate_only=validate_only)


# ---- CreateTopics ----------------------------------------------------------------------


@pytest.mark.parametrize("version", range(2, 8))
async def test_create_topics_with_defaults_and_explicit_counts(
    call: Call, broker: Broker, version: int
) -> None:
    response = await call(create(topic("dflt"), topic("three", 3, 1)), version)
    assert [(t.name, t.error_code, t.error_message) for t in response.topics] == [
        ("dflt", 0, None),
        ("three", 0, None),
    ]
    assert broker.topics.get("dflt").partitions == 1  # num.partitions
    assert broker.topics.get("three").partitions == 3
    assert broker.partition_log("three", 2) is not None
    three = response.topics[1]
    if version >= 5:
        assert (three.num_partitions, three.replication_factor) == (3, 1)
        configs = {c.name: c for c in three.configs}
        assert configs["retention.ms"].value == "604800000"
        assert configs["cleanup.policy"].config_source == 5  # DEFAULT_CONFIG
        assert not configs["cleanup.policy"].read_only
    else:
        assert (three.num_partitions, three.configs) == (-1, [])
    expected_id = broker.topics.get("three").topic_id if version >= 7 else ZERO_UUID
    assert three.topic_id == expected_id


async def test_create_topic_with_configs_returns_them_as_topic_overrides(
    call: Call, broker: Broker
) -> None:
    configs = [
        CreatableTopicConfig(name="cleanup.policy", value="compact"),
        CreatableTopicConfig(name="retention.ms", value="1000"),
    ]
    response = await call(create(topic("conf", 2, configs=configs)), 7)
    [result] = response.topics
    assert result.error_code == 0
    described = {c.name: (c.value, c.config_source) for c in result.configs}
    assert described["cleanup.policy"] == ("compact", 1)  # DYNAMIC_TOPIC_CONFIG
    assert described["retention.ms"] == ("1000", 1)
    assert broker.topics.get("conf").configs == {
        "cleanup.policy": "compact",
        "retention.ms": "1000",
    }


async def test_validate_only_creates_nothing(call: Call, broker: Broker) -> None:
    response = await call(create(topic("dry", 4), validate_only=True), 5)
    [result] = response.topics
    assert (result.error_code, result.num_partitions) == (0, 4)
    assert broker.topics.get("dry") is None
    assert broker.partition_log("dry", 0) is None


@pytest.mark.parametrize(
    ("entry", "code", "message"),
    [
        (topic("bad name!"), InvalidTopicError.code, None),
        (topic("zero", 0), InvalidPartitionsError.code, None),
        (topic("rf3", 1, 3), InvalidReplicationFactorError.code, "larger than available"),
        (
            topic("conf", configs=[CreatableTopicConfig(name="no.such", value="1")]),
            InvalidConfigError.code,
            None,
        ),
        (
            topic("conf2", configs=[CreatableTopicConfig(name="retention.ms", value="x")]),
            InvalidConfigError.code,
            None,
        ),
        (
            topic(
                "dupconf",
                configs=[
                    CreatableTopicConfig(name="retention.ms", value="1"),
                    CreatableTopicConfig(name="retention.ms", value="2"),
                ],
            ),
            InvalidRequestError.code,
            "Duplicate config keys",
        ),
        (topic("__consumer_offsets"), TopicAlreadyExistsError.code, "already exists"),
    ],
)
async def test_create_topic_errors_carry_codes_and_messages(
    call: Call, broker: Broker, entry: CreatableTopic, code: int, message: str | None
) -> None:
    response = await call(create(entry), 5)
    [result] = response.topics
    assert result.error_code == code
    assert result.error_message
    if message is not None:
        assert message in result.error_message
    assert (result.num_partitions, result.configs) == (-1, [])
    assert broker.topics.get(entry.name) is None or entry.name.startswith("__")


async def test_create_existing_topic_and_duplicates_in_one_request(call: Call) -> None:
    await call(create(topic("taken")), 7)
    response = await call(create(topic("taken"), topic("twice"), topic("twice")), 7)
    assert [(t.name, t.error_code) for t in response.topics] == [
        ("taken", TopicAlreadyExistsError.code),
        ("twice", InvalidRequestError.code),
        ("twice", InvalidRequestError.code),
    ]
    assert response.topics[0].error_message == "Topic 'taken' already exists."


async def test_manual_assignment_on_this_broker_is_accepted(call: Call, broker: Broker) -> None:
    assignments = [
        CreatableReplicaAssignment(partition_index=i, broker_ids=[broker.node_id]) for i in (1, 0)
    ]
    response = await call(create(topic("manual", assignments=assignments)), 4)
    assert response.topics[0].error_code == 0
    assert broker.topics.get("manual").partitions == 2


@pytest.mark.parametrize(
    ("partitions", "replication", "layout", "code"),
    [
        (2, -1, [[1]], InvalidRequestError.code),
        (-1, 1, [[1]], InvalidRequestError.code),
        (-1, -1, [[2]], InvalidReplicaAssignmentError.code),
        (-1, -1, [[1, 1]], InvalidReplicaAssignmentError.code),
        (-1, -1, [[1, 2]], InvalidReplicaAssignmentError.code),
        (-1, -1, [[]], InvalidReplicaAssignmentError.code),
    ],
)
async def test_bad_manual_assignments_are_refused_as_kafka(
    call: Call,
    broker: Broker,
    partitions: int,
    replication: int,
    layout: list[list[int]],
    code: int,
) -> None:
    assignments = [
        CreatableReplicaAssignment(partition_index=i, broker_ids=ids)
        for i, ids in enumerate(layout)
    ]
    response = await call(
        create(topic("manual", partitions, replication, assignments=assignments)), 5
    )
    assert response.topics[0].error_code == code
    assert response.topics[0].error_message
    assert broker.topics.get("manual") is None


async def test_non_consecutive_assignment_indexes_are_refused(call: Call) -> None:
    assignments = [CreatableReplicaAssignment(partition_index=1, broker_ids=[1])]
    response = await call(create(topic("gap", assignments=assignments)), 5)
    assert response.topics[0].error_code == InvalidReplicaAssignmentError.code


# ---- DeleteTopics ----------------------------------------------------------------------


@pytest.mark.parametrize("version", range(1, 7))
async def test_delete_topics_by_name(call: Call, broker: Broker, version: int) -> None:
    await call(create(topic("doomed", 2), topic("kept")), 7)
    topic_id = broker.topics.get("doomed").topic_id
    if version >= 6:
        request = DeleteTopicsRequest(
            topics=[DeleteTopicState(name="doomed"), DeleteTopicState(name="missing")],
            timeout_ms=1000,
        )
    else:
        request = DeleteTopicsRequest(topic_names=["doomed", "missing"], timeout_ms=1000)
    response = await call(request, version)
    doomed, missing = response.responses
    assert (doomed.name, doomed.error_code) == ("doomed", 0)
    assert missing.error_code == UnknownTopicOrPartitionError.code
    if version >= 5:
        assert missing.error_message == "Topic 'missing' does not exist."
    else:
        assert missing.error_message is None
    assert doomed.topic_id == (topic_id if version >= 6 else ZERO_UUID)
    assert broker.topics.get("doomed") is None
    assert broker.partition_log("doomed", 0) is None
    assert broker.topics.get("kept") is not None


async def test_delete_topics_by_id(call: Call, broker: Broker) -> None:
    await call(create(topic("by-id")), 7)
    topic_id = broker.topics.get("by-id").topic_id
    unknown = uuid.uuid4()
    response = await call(
        DeleteTopicsRequest(
            topics=[
                DeleteTopicState(topic_id=topic_id),
                DeleteTopicState(topic_id=unknown),
                DeleteTopicState(name="by-id", topic_id=topic_id),
                DeleteTopicState(),
            ],
            timeout_ms=1000,
        ),
        6,
    )
    found, missing, both, neither = response.responses
    assert (found.name, found.topic_id, found.error_code) == ("by-id", topic_id, 0)
    assert (missing.name, missing.topic_id) == (None, unknown)
    assert missing.error_code == UnknownTopicIdError.code
    assert both.error_code == InvalidRequestError.code
    assert neither.error_code == InvalidRequestError.code
    assert broker.topics.get("by-id") is None


async def test_delete_drops_committed_offsets_and_internal_topics_are_kept(
    call: Call, broker: Broker
) -> None:
    from tidal.log.broker.group import (  # noqa: PLC0415
        OffsetCommitArgs,
        OffsetCommitPartition,
        OffsetFetchArgs,
        TopicPartitions,
    )

    await call(create(topic("orders", 2)), 7)
    await broker.groups.commit_offsets(
        OffsetCommitArgs("g", [TopicPartitions("orders", [OffsetCommitPartition(0, 5)])])
    )
    response = await call(
        DeleteTopicsRequest(topic_names=["orders", "__consumer_offsets"], timeout_ms=1000), 5
    )
    assert [r.error_code for r in response.responses] == [0, InvalidRequestError.code]
    fetched = await broker.groups.fetch_offsets(OffsetFetchArgs("g"))
    assert fetched.topics == []


async def test_duplicate_names_in_delete_are_refused(call: Call, broker: Broker) -> None:
    await call(create(topic("dup")), 7)
    response = await call(DeleteTopicsRequest(topic_names=["dup", "dup"], timeout_ms=1000), 5)
    assert [r.error_code for r in response.responses] == [InvalidRequestError.code] * 2
    assert broker.topics.get("dup") is not None


@pytest.mark.parametrize(
    ("version", "code"),
    [(2, InvalidRequestError.code), (3, TopicDeletionDisabledError.code)],
)
async def test_deletion_disabled(call: Call, make_broker: Any, version: int, code: int) -> None:
    disabled = await make_broker(**{"delete.topic.enable": "false"})
    disabled.topics.create_topic("stays")
    response = await call(
        DeleteTopicsRequest(topic_names=["stays"], timeout_ms=1), version, on=disabled
    )
    assert response.responses[0].error_code == code
    assert disabled.topics.get("stays") is not None


# ---- CreatePartitions ------------------------------------------------------------------


@pytest.mark.parametrize("version", range(4))
async def test_create_partitions(call: Call, broker: Broker, version: int) -> None:
    await call(create(topic("grow", 2), topic("same", 2)), 7)
    response = await call(
        CreatePartitionsRequest(
            topics=[
                CreatePartitionsTopic(name="grow", count=5),
                CreatePartitionsTopic(name="same", count=2),
                CreatePartitionsTopic(name="missing", count=3),
            ],
            timeout_ms=1000,
        ),
        version,
    )
    assert [(r.name, r.error_code) for r in response.results] == [
        ("grow", 0),
        ("same", InvalidPartitionsError.code),
        ("missing", UnknownTopicOrPartitionError.code),
    ]
    assert response.results[1].error_message
    assert broker.topics.get("grow").partitions == 5
    assert broker.partition_log("grow", 4) is not None


async def test_create_partitions_validate_only_and_assignments(call: Call, broker: Broker) -> None:
    await call(create(topic("t", 1)), 7)

    def grow(count: int, layout: list[list[int]] | None, validate_only: bool = False) -> Any:
        assignments = (
            None
            if layout is None
            else [CreatePartitionsAssignment(broker_ids=ids) for ids in layout]
        )
        return CreatePartitionsRequest(
            topics=[CreatePartitionsTopic(name="t", count=count, assignments=assignments)],
            timeout_ms=1000,
            validate_only=validate_only,
        )

    response = await call(grow(3, None, validate_only=True), 3)
    assert response.results[0].error_code == 0
    assert broker.topics.get("t").partitions == 1
    response = await call(grow(3, [[1]]), 3)
    assert response.results[0].error_code == InvalidReplicaAssignmentError.code
    response = await call(grow(3, [[1], [7]]), 3)
    assert response.results[0].error_code == InvalidReplicaAssignmentError.code
    response = await call(grow(3, [[1], [1]]), 3)
    assert response.results[0].error_code == 0
    assert broker.topics.get("t").partitions == 3


async def test_create_partitions_duplicate_topics(call: Call, broker: Broker) -> None:
    await call(create(topic("t", 1)), 7)
    response = await call(
        CreatePartitionsRequest(
            topics=[CreatePartitionsTopic(name="t", count=2)] * 2, timeout_ms=1000
        ),
        2,
    )
    assert [r.error_code for r in response.results] == [InvalidRequestError.code] * 2
    assert broker.topics.get("t").partitions == 1
