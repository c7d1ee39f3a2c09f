"""ListOffsets (key 2, v1-7): offsets by time, and the earliest/latest/max sentinels.

``timestamp`` -2 answers the log start offset, -1 the high watermark (the
last stable offset under ``read_committed``: v2+ ``isolation_level`` 1), -3
(v7+) the offset of the record with the largest timestamp, and any other
value the first offset whose timestamp is at least that, or -1 with no error
when no record is that new, as Kafka answers. Sentinel answers carry
timestamp -1. ``leader_epoch`` (v4+) is the epoch of the answered offset,
0 on this single node; a caller ahead of it gets UNKNOWN_LEADER_EPOCH.
"""

from __future__ import annotations

from tidal.log.broker._broker import LEADER_EPOCH
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import ListOffsetsRequest, ListOffsetsResponse
from tidal.log.protocol.messages.list_offsets import (
    ListOffsetsPartition,
    ListOffsetsPartitionResponse,
    ListOffsetsTopicResponse,
)
from tidal.log.storage import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_TIMESTAMP,
    PartitionLog,
    StorageError,
)

__all__ = ["list_offsets"]

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
UNKNOWN_LEADER_EPOCH = 75
UNSUPPORTED_VERSION = 35
READ_COMMITTED = 1


def _answer(
    log: PartitionLog, wanted: ListOffsetsPartition, version: int, latest: int
) -> ListOffsetsPartitionResponse:
    index, timestamp = wanted.partition_index, wanted.timestamp
    if timestamp == LATEST_TIMESTAMP:
        # Kafka answers the high watermark (not the log end offset) to consumers,
        # the last stable offset to read_committed ones.
        return ListOffsetsPartitionResponse(
            partition_index=index, timestamp=-1, offset=latest, leader_epoch=LEADER_EPOCH,
        )  # fmt: skip
    if timestamp == MAX_TIMESTAMP and version < 7:
        return ListOffsetsPartitionResponse(partition_index=index, error_code=UNSUPPORTED_VERSION)
    if timestamp < MAX_TIMESTAMP:
        return ListOffsetsPartitionResponse(partition_index=index, error_code=INVALID_REQUEST)
    found = log.offset_for_timestamp(timestamp)
    if found is None or (timestamp != EARLIEST_TIMESTAMP and found.offset >= latest):
        # Kafka answers only offsets a reader of this isolation level may fetch.
        return ListOffsetsPartitionResponse(partition_index=index, timestamp=-1, offset=-1)
    epoch = found.leader_epoch
    if epoch is None:
        epoch = LEADER_EPOCH if timestamp == EARLIEST_TIMESTAMP else -1
    return ListOffsetsPartitionResponse(
        partition_index=index, timestamp=found.timestamp, offset=found.offset, leader_epoch=epoch
    )


@handles(ListOffsetsRequest)
async def list_offsets(ctx: RequestContext, request: ListOffsetsRequest) -> ListOffsetsResponse:
    """Answer each partition's offset lookup."""
    broker = ctx.broker
    topics = []
    for topic in request.topics:
        parts = []
        for wanted in topic.partitions:
            index = wanted.partition_index
            log = broker.partition_log(topic.name, index)
            if log is None:
                parts.append(
                    ListOffsetsPartitionResponse(
                        partition_index=index, error_code=UNKNOWN_TOPIC_OR_PARTITION
                    )
                )
            elif wanted.current_leader_epoch > LEADER_EPOCH:
                parts.append(
                    ListOffsetsPartitionResponse(
                        partition_index=index, error_code=UNKNOWN_LEADER_EPOCH
                    )
                )
            else:
                try:
                    latest = (
                        broker.last_stable_offset(topic.name, index, log)
                        if request.isolation_level == READ_COMMITTED
                        else log.high_watermark
                    )
                    parts.append(_answer(log, wanted, ctx.api_version, latest))
                except StorageError as exc:
                    parts.append(
                        ListOffsetsPartitionResponse(
                            partition_index=index, error_code=exc.kafka_error_code
                        )
                    )
        if ctx.api_version < 4:  # no leader epochs before v4
            for part in parts:
                part.leader_epoch = -1
        topics.append(ListOffsetsTopicResponse(name=topic.name, partitions=parts))
    return ListOffsetsResponse(topics=topics)


@error_response_for(ListOffsetsRequest)
def _failed(request: ListOffsetsRequest, version: int, code: int) -> ListOffsetsResponse:
    return ListOffsetsResponse(
        topics=[
            ListOffsetsTopicResponse(
                name=t.name,
                partitions=[
                    ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=code)
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ]
    )
