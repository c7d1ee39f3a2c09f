"""OffsetForLeaderEpoch (key 23, v2-4): where a leader epoch ends.

Consumers ask it to detect log truncation after a leader change. A single
node has one epoch, 0, which ends at the log end offset; older epochs found
in the leader-epoch cache (from data written elsewhere) answer the start of
the next one, unknown ones -1/-1 as Kafka does. A caller whose current
leader epoch is ahead of ours gets UNKNOWN_LEADER_EPOCH.
"""

from __future__ import annotations

from tidal.log.broker._broker import LEADER_EPOCH
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse
from tidal.log.protocol.messages.offset_for_leader_epoch import (
    EpochEndOffset,
    OffsetForLeaderPartition,
    OffsetForLeaderTopicResult,
)
from tidal.log.storage import PartitionLog

__all__ = ["offset_for_leader_epoch"]

UNKNOWN_TOPIC_OR_PARTITION = 3
UNKNOWN_LEADER_EPOCH = 75


def _end_offset(log: PartitionLog, wanted: OffsetForLeaderPartition) -> EpochEndOffset:
    index = wanted.partition
    if wanted.current_leader_epoch > LEADER_EPOCH:
        return EpochEndOffset(partition=index, error_code=UNKNOWN_LEADER_EPOCH)
    if wanted.leader_epoch == LEADER_EPOCH:
        return EpochEndOffset(
            partition=index, leader_epoch=LEADER_EPOCH, end_offset=log.log_end_offset
        )
    epoch, end = log.leader_epoch_cache.end_offset_for(wanted.leader_epoch, log.log_end_offset)
    return EpochEndOffset(partition=index, leader_epoch=epoch, end_offset=end)


@handles(OffsetForLeaderEpochRequest)
async def offset_for_leader_epoch(
    ctx: RequestContext, request: OffsetForLeaderEpochRequest
) -> OffsetForLeaderEpochResponse:
    """Answer the end offset of each requested epoch."""
    topics = []
    for topic in request.topics:
        parts = []
        for wanted in topic.partitions:
            log = ctx.broker.partition_log(topic.topic, wanted.partition)
            if log is None:
                parts.append(
                    EpochEndOffset(
                        partition=wanted.partition, error_code=UNKNOWN_TOPIC_OR_PARTITION
                    )
                )
            else:
                parts.append(_end_offset(log, wanted))
        topics.append(OffsetForLeaderTopicResult(topic=topic.topic, partitions=parts))
    return OffsetForLeaderEpochResponse(topics=topics)


@error_response_for(OffsetForLeaderEpochRequest)
def _failed(
    request: OffsetForLeaderEpochRequest, version: int, code: int
) -> OffsetForLeaderEpochResponse:
    return OffsetForLeaderEpochResponse(
        topics=[
            OffsetForLeaderTopicResult(
                topic=t.topic,
                partitions=[
                    EpochEndOffset(partition=p.partition, error_code=code) for p in t.partitions
                ],
            )
            for t in request.topics
        ]
    )
