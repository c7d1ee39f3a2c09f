"""WriteTxnMarkers (key 27, v1): markers written on request, for ``abortTransaction``.

Tidal's own coordinator writes its markers in process; this API serves Java
Admin ``abortTransaction`` (KIP-664, ``kafka-transactions.sh abort``), which
closes a *hanging* transaction: data a producer wrote to a partition its
coordinator never learned about (so no EndTxn will ever end it), holding the
partition's last stable offset back for good.

Per partition, as Kafka's leader checks a marker: the topic must exist
(UNKNOWN_TOPIC_OR_PARTITION); a marker older than the producer's epoch there
is INVALID_PRODUCER_EPOCH, one from an older coordinator epoch than the
partition has seen TRANSACTION_COORDINATOR_FENCED. A group's
``__consumer_offsets`` partition goes to the group coordinator, which
applies or drops the producer's pending offsets.
"""

from __future__ import annotations

import logging
import time

from tidal.log.broker._broker import Broker
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.group import OFFSETS_TOPIC
from tidal.log.broker.handlers import handles
from tidal.log.broker.txn import append_marker
from tidal.log.protocol.messages import WriteTxnMarkersRequest, WriteTxnMarkersResponse
from tidal.log.protocol.messages.write_txn_markers import (
    WritableTxnMarker,
    WritableTxnMarkerPartitionResult,
    WritableTxnMarkerResult,
    WritableTxnMarkerTopicResult,
)
from tidal.log.records import RecordsError
from tidal.log.storage import StorageError

__all__ = ["write_txn_markers"]

_log = logging.getLogger(__name__)

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PRODUCER_EPOCH = 47
TRANSACTION_COORDINATOR_FENCED = 52
UNKNOWN_SERVER_ERROR = -1


def _write(broker: Broker, marker: WritableTxnMarker, topic: str, partition: int) -> int:
    pid, epoch, commit = marker.producer_id, marker.producer_epoch, marker.transaction_result
    try:
        if topic == OFFSETS_TOPIC:
            if broker.partition_log(topic, partition) is None:
                return UNKNOWN_TOPIC_OR_PARTITION
            broker.groups.complete_txn(partition, pid, epoch, commit)
            return NONE
        log = broker.partition_log(topic, partition)
        if log is None:
            return UNKNOWN_TOPIC_OR_PARTITION
        state = broker.producer_state(topic, partition)
        entry = state.last_entry(pid)
        if entry is not None and epoch < entry.producer_epoch:
            return INVALID_PRODUCER_EPOCH
        if entry is not None and marker.coordinator_epoch < entry.coordinator_epoch:
            return TRANSACTION_COORDINATOR_FENCED
        append_marker(
            log, state, producer_id=pid, producer_epoch=epoch, commit=commit,
            timestamp=time.time_ns() // 1_000_000,
            coordinator_epoch=marker.coordinator_epoch,
        )  # fmt: skip
    except (StorageError, RecordsError) as exc:
        _log.exception("writing a requested marker to %s-%d failed", topic, partition)
        return exc.kafka_error_code
    except OSError:
        _log.exception("writing a requested marker to %s-%d failed", topic, partition)
        return UNKNOWN_SERVER_ERROR
    broker.appends.notify(topic, partition)
    return NONE


@handles(WriteTxnMarkersRequest)
async def write_txn_markers(
    ctx: RequestContext, request: WriteTxnMarkersRequest
) -> WriteTxnMarkersResponse:
    """Write each requested marker to each of its partitions; an error per partition."""
    results = []
    for marker in request.markers:
        _log.info(
            "%s asks for %s markers of producer %d (epoch %d) on %s",
            ctx.peer, "COMMIT" if marker.transaction_result else "ABORT",
            marker.producer_id, marker.producer_epoch,
            [f"{t.name}-{p}" for t in marker.topics for p in t.partition_indexes],
        )  # fmt: skip
        topics = [
            WritableTxnMarkerTopicResult(
                name=t.name,
                partitions=[
                    WritableTxnMarkerPartitionResult(
                        partition_index=p, error_code=_write(ctx.broker, marker, t.name, p)
                    )
                    for p in t.partition_indexes
                ],
            )
            for t in marker.topics
        ]
        results.append(WritableTxnMarkerResult(producer_id=marker.producer_id, topics=topics))
    return WriteTxnMarkersResponse(markers=results)


@error_response_for(WriteTxnMarkersRequest)
def _failed(request: WriteTxnMarkersRequest, version: int, code: int) -> WriteTxnMarkersResponse:
    return WriteTxnMarkersResponse(
        markers=[
            WritableTxnMarkerResult(
                producer_id=m.producer_id,
                topics=[
                    WritableTxnMarkerTopicResult(
                        name=t.name,
                        partitions=[
                            WritableTxnMarkerPartitionResult(partition_index=p, error_code=code)
                            for p in t.partition_indexes
                        ],
                    )
                    for t in m.topics
                ],
            )
            for m in request.markers
        ]
    )
