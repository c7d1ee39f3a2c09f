"""DescribeProducers (key 61, v0): the producers a partition knows.

For ``kafka-transactions.sh find-hanging`` and ``abort --start-offset``
(KIP-664): per partition, every producer in its idempotent/transactional
state with its epoch, last sequence and timestamp, the coordinator epoch of
its last marker and the first offset of its open transaction (-1 when
none). Internal topics are replayed for each answer (their writers keep no
producer state).
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker._topics import INTERNAL_TOPICS
from tidal.log.broker.handlers import handles
from tidal.log.broker.producer import ProducerStateManager
from tidal.log.protocol.messages import DescribeProducersRequest, DescribeProducersResponse
from tidal.log.protocol.messages.describe_producers import (
    DescribeProducersPartitionResponse,
    DescribeProducersTopicResponse,
    ProducerState,
)

__all__ = ["describe_producers"]

UNKNOWN_TOPIC_OR_PARTITION = 3


def _partition(ctx: RequestContext, topic: str, index: int) -> DescribeProducersPartitionResponse:
    broker = ctx.broker
    log = broker.partition_log(topic, index)
    if log is None:
        return DescribeProducersPartitionResponse(
            partition_index=index,
            error_code=UNKNOWN_TOPIC_OR_PARTITION,
            error_message=f"{topic}-{index} does not exist",
        )
    if topic in INTERNAL_TOPICS:
        # The coordinators append to internal topics directly, so no cached
        # producer state follows them: replay the partition for this answer.
        state = ProducerStateManager.load(
            log, producer_id_expiration_ms=broker.config.get("producer.id.expiration.ms")
        )
    else:
        state = broker.producer_state(topic, index)
    return DescribeProducersPartitionResponse(
        partition_index=index,
        active_producers=[
            ProducerState(
                producer_id=entry.producer_id,
                producer_epoch=entry.producer_epoch,
                last_sequence=entry.last_seq,
                last_timestamp=entry.last_timestamp,
                coordinator_epoch=entry.coordinator_epoch,
                current_txn_start_offset=(
                    -1 if entry.current_txn_first_offset is None else entry.current_txn_first_offset
                ),
            )
            for entry in sorted(state.producers.values(), key=lambda e: e.producer_id)
        ],
    )


@handles(DescribeProducersRequest)
async def describe_producers(
    ctx: RequestContext, request: DescribeProducersRequest
) -> DescribeProducersResponse:
    """Describe the producers of each requested partition."""
    return DescribeProducersResponse(
        topics=[
            DescribeProducersTopicResponse(
                name=t.name, partitions=[_partition(ctx, t.name, p) for p in t.partition_indexes]
            )
            for t in request.topics
        ]
    )


@error_response_for(DescribeProducersRequest)
def _failed(
    request: DescribeProducersRequest, version: int, code: int
) -> DescribeProducersResponse:
    return DescribeProducersResponse(
        topics=[
            DescribeProducersTopicResponse(
                name=t.name,
                partitions=[
                    DescribeProducersPartitionResponse(partition_index=p, error_code=code)
                    for p in t.partition_indexes
                ],
            )
            for t in request.topics
        ]
    )
