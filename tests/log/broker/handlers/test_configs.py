"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs through their handlers."""

from __future__ import annotations

from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.broker.group import OffsetCommitArgs, OffsetCommitPartition, TopicPartitions
from tidal.log.protocol.errors import (
    InvalidConfigError,
    InvalidRequestError,
    InvalidTopicError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages import (
    AlterConfigsRequest,
    DescribeConfigsRequest,
    IncrementalAlterConfigsRequest,
)
from tidal.log.protocol.messages import alter_configs as legacy
from tidal.log.protocol.messages import incremental_alter_configs as incremental
from tidal.log.protocol.messages.describe_configs import DescribeConfigsResource

Call = Any
TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
DYNAMIC_TOPIC, STATIC_BROKER, DEFAULT = 1, 4, 5


@pytest.fixture
async def orders(broker: Broker) -> str:
    broker.topics.create_topic("orders", 3, configs={"retention.ms": "1000"})
    return "orders"


def describe(
    *resources: tuple[int, str, list[str] | None], synonyms: bool = False, docs: bool = False
) -> DescribeConfigsRequest:
    return DescribeConfigsRequest(
        resources=[
            DescribeConfigsResource(resource_type=t, resource_name=n, configuration_keys=k)
            for t, n, k in resources
        ],
        include_synonyms=synonyms,
        include_documentation=docs,
    )


# ---- DescribeConfigs -------------------------------------------------------------------


@pytest.mark.parametrize("version", range(1, 5))
async def test_describe_every_topic_config(call: Call, orders: str, version: int) -> None:
    response = await call(
        describe((TOPIC, orders, None), synonyms=True, docs=version >= 3), version
    )
    [result] = response.results
    assert (result.error_code, result.resource_type, result.resource_name) == (0, TOPIC, orders)
    configs = {c.name: c for c in result.configs}
    assert {"retention.ms", "cleanup.policy", "segment.bytes", "max.message.bytes"} <= set(configs)
    retention = configs["retention.ms"]
    assert (retention.value, retention.config_source, retention.read_only) == ("1000", 1, False)
    assert retention.synonyms[0].name == "retention.ms"
    assert retention.synonyms[0].source == DYNAMIC_TOPIC
    assert retention.synonyms[-1].source == DEFAULT
    policy = configs["cleanup.policy"]
    assert (policy.value, policy.config_source) == ("delete", DEFAULT)
    if version >= 3:
        assert policy.config_type == 7  # LIST
        assert retention.config_type == 5  # LONG
        assert retention.documentation
    else:
        assert (policy.config_type, retention.documentation) == (0, None)


async def test_describe_named_keys_without_synonyms_or_docs(call: Call, orders: str) -> None:
    response = await call(describe((TOPIC, orders, ["retention.ms", "no.such.key"])), 4)
    [entry] = response.results[0].configs
    assert (entry.name, entry.value, entry.synonyms, entry.documentation) == (
        "retention.ms",
        "1000",
        [],
        None,
    )
    # An empty key list means every config, as a null one.
    response = await call(describe((TOPIC, orders, [])), 4)
    assert len(response.results[0].configs) > 10


async def test_describe_broker_configs(call: Call, broker: Broker) -> None:
    response = await call(describe((BROKER, str(broker.node_id), None), synonyms=True), 4)
    [result] = response.results
    assert result.error_code == 0
    configs = {c.name: c for c in result.configs}
    delay = configs["group.initial.rebalance.delay.ms"]
    assert (delay.value, delay.config_source, delay.read_only) == ("0", STATIC_BROKER, True)
    assert configs["num.partitions"].config_source == DEFAULT
    assert [(s.name, s.source) for s in delay.synonyms] == [
        ("group.initial.rebalance.delay.ms", STATIC_BROKER)
    ]


async def test_describe_errors_and_other_resource_types(call: Call, broker: Broker) -> None:
    response = await call(
        describe(
            (TOPIC, "missing", None),
            (TOPIC, "bad name!", None),
            (BROKER, "7", None),
            (BROKER, "one", None),
            (BROKER, "", None),
            (BROKER_LOGGER, str(broker.node_id), None),
            (BROKER_LOGGER, "", None),
            (32, "group", None),
        ),
        4,
    )
    codes = [(r.error_code, r.configs) for r in response.results]
    assert codes == [
        (UnknownTopicOrPartitionError.code, []),
        (InvalidTopicError.code, []),
        (InvalidRequestError.code, []),
        (InvalidRequestError.code, []),
        (0, []),  # cluster-wide dynamic defaults: none
        (0, []),
        (InvalidRequestError.code, []),
        (InvalidRequestError.code, []),
    ]
    assert response.results[0].error_message == "Topic 'missing' does not exist."
    assert "expected 1" in response.results[2].error_message


async def test_describe_the_offsets_topic(call: Call, broker: Broker) -> None:
    broker.topics.create_topic("orders", 1)
    await broker.groups.commit_offsets(  # creates __consumer_offsets
        OffsetCommitArgs("g", [TopicPartitions("orders", [OffsetCommitPartition(0, 1)])])
    )
    response = await call(describe((TOPIC, "__consumer_offsets", ["cleanup.policy"])), 4)
    [result] = response.results
    assert result.error_code == 0
    [policy] = result.configs
    assert (policy.value, policy.config_source) == ("compact", DYNAMIC_TOPIC)
    response = await call(alter(TOPIC, "__consumer_offsets", cleanup_policy="delete"), 2)
    assert response.responses[0].error_code == InvalidRequestError.code


# ---- AlterConfigs ----------------------------------------------------------------------


def alter(
    resource_type: int, name: str, validate_only: bool = False, **configs: str | None
) -> AlterConfigsRequest:
    return AlterConfigsRequest(
        resources=[
            legacy.AlterConfigsResource(
                resource_type=resource_type,
                resource_name=name,
                configs=[
                    legacy.AlterableConfig(name=k.replace("_", "."), value=v)
                    for k, v in configs.items()
                ],
            )
        ],
        validate_only=validate_only,
    )


@pytest.mark.parametrize("version", range(3))
async def test_alter_configs_replaces_the_overrides(
    call: Call, broker: Broker, orders: str, version: int
) -> None:
    response = await call(alter(TOPIC, orders, cleanup_policy="compact"), version)
    [result] = response.responses
    assert (result.error_code, result.error_message) == (0, None)
    assert (result.resource_type, result.resource_name) == (TOPIC, orders)
    # retention.ms was not named: it reverts to the default.
    assert broker.topics.get(orders).configs == {"cleanup.policy": "compact"}
    log = broker.partition_log(orders, 2)
    assert log is not None
    assert log.config.to_properties()["cleanup.policy"] == "compact"


async def test_alter_configs_validate_only_and_errors(
    call: Call, broker: Broker, orders: str
) -> None:
    response = await call(alter(TOPIC, orders, validate_only=True, retention_ms="5"), 1)
    assert response.responses[0].error_code == 0
    assert broker.topics.get(orders).configs == {"retention.ms": "1000"}
    cases = [
        (alter(TOPIC, orders, retention_ms="soon"), InvalidConfigError.code),
        (alter(TOPIC, orders, no_such="1"), InvalidConfigError.code),
        (alter(TOPIC, orders, retention_ms=None), InvalidRequestError.code),
        (alter(TOPIC, "missing", retention_ms="1"), UnknownTopicOrPartitionError.code),
        (alter(BROKER, str(broker.node_id), num_partitions="3"), InvalidRequestError.code),
        (alter(BROKER_LOGGER, "1", root="DEBUG"), InvalidRequestError.code),
        (alter(99, "x"), InvalidRequestError.code),
    ]
    for request, code in cases:
        response = await call(request, 2)
        assert response.responses[0].error_code == code, request
        assert response.responses[0].error_message
    assert broker.topics.get(orders).configs == {"retention.ms": "1000"}


async def test_alter_configs_duplicate_resources(call: Call, orders: str) -> None:
    request = alter(TOPIC, orders, retention_ms="5")
    request.resources = request.resources * 2
    response = await call(request, 0)
    assert [r.error_code for r in response.responses] == [InvalidRequestError.code] * 2


# ---- IncrementalAlterConfigs -----------------------------------------------------------

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def incremental_alter(
    name: str, *ops: tuple[str, int, str | None], resource_type: int = TOPIC, dry: bool = False
) -> IncrementalAlterConfigsRequest:
    return IncrementalAlterConfigsRequest(
        resources=[
            incremental.AlterConfigsResource(
                resource_type=resource_type,
                resource_name=name,
                configs=[
                    incremental.AlterableConfig(name=k, config_operation=op, value=v)
                    for k, op, v in ops
                ],
            )
        ],
        validate_only=dry,
    )


@pytest.mark.parametrize("version", range(2))
async def test_incremental_set_and_delete(
    call: Call, broker: Broker, orders: str, version: int
) -> None:
    response = await call(
        incremental_alter(
            orders, ("segment.bytes", SET, "1048576"), ("retention.ms", DELETE, None)
        ),
        version,
    )
    assert response.responses[0].error_code == 0
    assert broker.topics.get(orders).configs == {"segment.bytes": "1048576"}


async def test_incremental_append_and_subtract_list_configs(
    call: Call, broker: Broker, orders: str
) -> None:
    response = await call(incremental_alter(orders, ("cleanup.policy", APPEND, "compact")), 1)
    assert response.responses[0].error_code == 0
    assert broker.topics.get(orders).configs["cleanup.policy"] == "delete,compact"
    await call(incremental_alter(orders, ("cleanup.policy", APPEND, "delete")), 1)
    assert broker.topics.get(orders).configs["cleanup.policy"] == "delete,compact"
    await call(incremental_alter(orders, ("cleanup.policy", SUBTRACT, "delete")), 1)
    assert broker.topics.get(orders).configs["cleanup.policy"] == "compact"


async def test_incremental_validate_only_and_errors(
    call: Call, broker: Broker, orders: str
) -> None:
    response = await call(incremental_alter(orders, ("retention.ms", SET, "7"), dry=True), 1)
    assert response.responses[0].error_code == 0
    cases = [
        (incremental_alter(orders, ("retention.ms", APPEND, "5")), InvalidConfigError.code),
        (incremental_alter(orders, ("retention.ms", SUBTRACT, "5")), InvalidConfigError.code),
        (incremental_alter(orders, ("no.such", DELETE, None)), InvalidConfigError.code),
        (incremental_alter(orders, ("no.such", SET, "1")), InvalidConfigError.code),
        (incremental_alter(orders, ("retention.ms", SET, "x")), InvalidConfigError.code),
        (
            incremental_alter(orders, ("cleanup.policy", SUBTRACT, "delete")),
            InvalidConfigError.code,
        ),
        (incremental_alter(orders, ("retention.ms", 9, "1")), InvalidRequestError.code),
        (incremental_alter(orders, ("retention.ms", SET, None)), InvalidRequestError.code),
        (
            incremental_alter(orders, ("retention.ms", SET, "1"), ("retention.ms", DELETE, None)),
            InvalidRequestError.code,
        ),
        (
            incremental_alter("missing", ("retention.ms", SET, "1")),
            UnknownTopicOrPartitionError.code,
        ),
        (
            incremental_alter("1", ("num.partitions", SET, "2"), resource_type=BROKER),
            InvalidRequestError.code,
        ),
    ]
    for request, code in cases:
        response = await call(request, 1)
        assert response.responses[0].error_code == code, request
        assert response.responses[0].error_message
    assert broker.topics.get(orders).configs == {"retention.ms": "1000"}
