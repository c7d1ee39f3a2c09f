"""DeleteRecords: move partitions' log start offsets forward.

Offset -1 means the high watermark. As in Kafka, an offset beyond the high
watermark (or negative) answers OFFSET_OUT_OF_RANGE, internal topics answer
INVALID_TOPIC_EXCEPTION and topics without ``delete`` in ``cleanup.policy``
POLICY_VIOLATION. The answer carries each partition's new low watermark.
"""

from __future__ import annotations

import logging

from tidal.log.broker._context import RequestContext
from tidal.log.broker._topics import INTERNAL_TOPICS
from tidal.log.broker.handlers import handles
from tidal.log.protocol.errors import (
    InvalidTopicError,
    OffsetOutOfRangeError,
    PolicyViolationError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages import DeleteRecordsRequest, DeleteRecordsResponse
from tidal.log.protocol.messages.delete_records import (
    DeleteRecordsPartitionResult,
    DeleteRecordsTopicResult,
)
from tidal.log.storage import OffsetOutOfRangeError as StorageOffsetOutOfRange

__all__ = ["HIGH_WATERMARK", "delete_records"]

_log = logging.getLogger(__name__)

#: The ``offset`` that stands for the partition's high watermark.
HIGH_WATERMARK = -1


def _delete(ctx: RequestContext, topic: str, partition: int, offset: int) -> tuple[int, int]:
    """``(error code, low watermark)`` for one partition."""
    if topic in INTERNAL_TOPICS:
        return InvalidTopicError.code, -1
    log = ctx.broker.partition_log(topic, partition)
    if log is None:
        return UnknownTopicOrPartitionError.code, -1
    policy = ctx.broker.topics.log_config(topic).to_properties()["cleanup.policy"]
    if "delete" not in policy.split(","):
        return PolicyViolationError.code, -1
    target = log.high_watermark if offset == HIGH_WATERMARK else offset
    if target < 0:
        return OffsetOutOfRangeError.code, -1
    try:
        low_watermark = log.delete_records(target)
    except StorageOffsetOutOfRange:
        return OffsetOutOfRangeError.code, -1
    _log.info("%s-%d: log start offset now %d (for %s)", topic, partition, low_watermark, ctx.peer)
    return 0, low_watermark


@handles(DeleteRecordsRequest)
async def delete_records(
    ctx: RequestContext, request: DeleteRecordsRequest
) -> DeleteRecordsResponse:
    """Delete the records below each given offset."""
    topics = []
    for topic in request.topics:
        partitions = []
        for p in topic.partitions:
            error, low_watermark = _delete(ctx, topic.name, p.partition_index, p.offset)
            partitions.append(
                DeleteRecordsPartitionResult(
                    partition_index=p.partition_index,
                    low_watermark=low_watermark,
                    error_code=error,
                )
            )
        topics.append(DeleteRecordsTopicResult(name=topic.name, partitions=partitions))
    return DeleteRecordsResponse(topics=topics)
