"""DescribeCluster and DeleteRecords through their handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.protocol.errors import (
    InvalidTopicError,
    MismatchedEndpointTypeError,
    OffsetOutOfRangeError,
    PolicyViolationError,
    UnknownTopicOrPartitionError,
    UnsupportedEndpointTypeError,
)
from tidal.log.protocol.messages import DeleteRecordsRequest, DescribeClusterRequest
from tidal.log.protocol.messages.delete_records import DeleteRecordsPartition, DeleteRecordsTopic

Call = Any
Produce = Callable[[str, int, int], None]


@pytest.mark.parametrize("version", range(2))
async def test_describe_cluster_lists_this_broker_as_controller(
    call: Call, broker: Broker, version: int
) -> None:
    broker.advertised_host, broker.advertised_port = "localhost", 19092
    response = await call(DescribeClusterRequest(), version)
    assert (response.error_code, response.cluster_id) == (0, broker.cluster_id)
    assert response.controller_id == broker.node_id
    assert [(b.broker_id, b.host, b.port, b.rack) for b in response.brokers] == [
        (broker.node_id, "localhost", 19092, None)
    ]
    assert response.cluster_authorized_operations == -(2**31)
    response = await call(DescribeClusterRequest(include_cluster_authorized_operations=True), 0)
    ops = response.cluster_authorized_operations
    assert ops > 0
    assert ops & (1 << 8)  # DESCRIBE


async def test_describe_cluster_endpoint_types(call: Call) -> None:
    response = await call(DescribeClusterRequest(endpoint_type=2), 1)
    assert response.error_code == MismatchedEndpointTypeError.code
    assert (response.endpoint_type, response.brokers) == (2, [])
    response = await call(DescribeClusterRequest(endpoint_type=7), 1)
    assert response.error_code == UnsupportedEndpointTypeError.code


def delete(topic: str, *offsets: tuple[int, int]) -> DeleteRecordsRequest:
    return DeleteRecordsRequest(
        topics=[
            DeleteRecordsTopic(
                name=topic,
                partitions=[
                    DeleteRecordsPartition(partition_index=p, offset=o) for p, o in offsets
                ],
            )
        ],
        timeout_ms=1000,
    )


@pytest.mark.parametrize("version", range(3))
async def test_delete_records_moves_the_low_watermark(
    call: Call, broker: Broker, produce: Produce, version: int
) -> None:
    broker.topics.create_topic("events", 4)
    for partition in range(3):
        produce("events", partition, 10)
    response = await call(delete("events", (0, 4), (1, -1), (2, 11), (3, 0), (9, 1)), version)
    [topic] = response.topics
    assert topic.name == "events"
    assert [(p.partition_index, p.error_code, p.low_watermark) for p in topic.partitions] == [
        (0, 0, 4),
        (1, 0, 10),  # -1: up to the high watermark
        (2, OffsetOutOfRangeError.code, -1),
        (3, 0, 0),
        (9, UnknownTopicOrPartitionError.code, -1),
    ]
    log = broker.partition_log("events", 0)
    assert log is not None
    assert log.log_start_offset == 4
    # Never backwards: a smaller offset answers the current low watermark.
    response = await call(delete("events", (0, 2)), version)
    assert response.topics[0].partitions[0].low_watermark == 4


async def test_delete_records_refusals(call: Call, broker: Broker, produce: Produce) -> None:
    broker.topics.create_topic("compacted", 1, configs={"cleanup.policy": "compact"})
    broker.topics.create_topic("both", 1, configs={"cleanup.policy": "compact,delete"})
    produce("both", 0, 3)
    cases = [
        (delete("compacted", (0, 0)), PolicyViolationError.code),
        (delete("both", (0, 2)), 0),
        (delete("both", (0, -5)), OffsetOutOfRangeError.code),
        (delete("missing", (0, 0)), UnknownTopicOrPartitionError.code),
        (delete("__consumer_offsets", (0, 0)), InvalidTopicError.code),
    ]
    for request, code in cases:
        response = await call(request, 2)
        assert response.topics[0].partitions[0].error_code == code, request
