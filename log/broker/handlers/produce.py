"""Produce (key 0): append each partition's batches, verbatim, as the leader.

Per partition, in request order (Produce never awaits, so requests on one
connection append in the order they arrived):

1. the topic must exist (Produce does not auto-create, as in Kafka) and not
   be internal: INVALID_TOPIC_EXCEPTION, as Kafka's ``ReplicaManager``
   answers anyone but its own admin client;
2. the record set must not exceed the segment size (RECORD_LIST_TOO_LARGE)
   and must hold whole batches (CORRUPT_MESSAGE);
3. the idempotent-producer state judges the batches (duplicates get their
   original offset, gaps OUT_OF_ORDER_SEQUENCE_NUMBER, old epochs are fenced);
4. the log validates and appends (CRC, size: MESSAGE_TOO_LARGE, ...: every
   ``RecordsError`` carries its Kafka code), a roll snapshots producer state;
5. the high watermark moves to the log end offset (a single node is its own
   ISR, so acks 1 and all mean the same) and Fetch long polls are woken.
"""

from __future__ import annotations

import logging

from tidal.log.broker._broker import Broker
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker._topics import INTERNAL_TOPICS
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import ProduceRequest, ProduceResponse
from tidal.log.protocol.messages.produce import (
    PartitionProduceResponse,
    TopicProduceResponse,
)
from tidal.log.records import CorruptRecordError, RecordsError, iter_batches
from tidal.log.storage import LogClosedError, StorageError

__all__ = ["produce"]

_log = logging.getLogger(__name__)

NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
NOT_LEADER_OR_FOLLOWER = 6
INVALID_TOPIC_EXCEPTION = 17
RECORD_LIST_TOO_LARGE = 18
INVALID_REQUIRED_ACKS = 21
INVALID_RECORD = 87
#: Kafka's ``AdminUtils.ADMIN_CLIENT_ID``: the one client allowed to write internal topics.
ADMIN_CLIENT_ID = "__admin_client"


def _error(index: int, code: int, message: str | None = None) -> PartitionProduceResponse:
    return PartitionProduceResponse(index=index, error_code=code, error_message=message)


def append_partition(
    broker: Broker, topic: str, index: int, records: bytes | None, *, internal_ok: bool = False
) -> PartitionProduceResponse:
    """Append one partition's record set; the partition's response."""
    if topic in INTERNAL_TOPICS and not internal_ok:
        return _error(index, INVALID_TOPIC_EXCEPTION, f"Cannot append to internal topic {topic}")
    log = broker.partition_log(topic, index)
    if log is None:
        return _error(index, UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{index} does not exist")
    if not records:
        return _error(index, INVALID_RECORD, "Produce request carries no record batch")
    if len(records) > log.config.segment_bytes:
        return _error(
            index,
            RECORD_LIST_TOO_LARGE,
            f"record set of {len(records)} bytes exceeds segment.bytes {log.config.segment_bytes}",
        )
    try:
        headers = list(iter_batches(records))
        if sum(h.size for h in headers) != len(records):
            raise CorruptRecordError("the record set ends with a partial batch")
        state = broker.producer_state(topic, index)
        verdict = state.check_batches(headers)
        if verdict.error:
            return _error(index, verdict.error, verdict.message)
        if verdict.duplicate is not None:
            return PartitionProduceResponse(
                index=index,
                base_offset=verdict.duplicate.first_offset,
                log_start_offset=log.log_start_offset,
            )
        active = log.active_segment.base_offset
        info = log.append(records)
        if log.active_segment.base_offset != active:  # the append rolled a segment
            state.take_snapshot(log.active_segment.base_offset)
        state.on_log_append(headers, info)
    except RecordsError as exc:
        return _error(index, exc.kafka_error_code, str(exc))
    except LogClosedError:
        return _error(index, NOT_LEADER_OR_FOLLOWER, "the broker is shutting down")
    except StorageError as exc:
        _log.exception("append to %s-%d failed", topic, index)
        return _error(index, exc.kafka_error_code, str(exc))
    log.high_watermark = log.log_end_offset
    broker.appends.notify(topic, index)
    return PartitionProduceResponse(
        index=index,
        base_offset=info.first_offset,
        log_append_time_ms=info.log_append_time,
        log_start_offset=info.log_start_offset,
    )


@handles(ProduceRequest)
async def produce(ctx: RequestContext, request: ProduceRequest) -> ProduceResponse:
    """Append every partition's batches; answer per partition."""
    broker = ctx.broker
    internal_ok = ctx.client_id == ADMIN_CLIENT_ID
    responses = []
    for topic in request.topic_data:
        parts = []
        for data in topic.partition_data:
            if request.acks not in (0, 1, -1):
                parts.append(_error(data.index, INVALID_REQUIRED_ACKS))
                continue
            parts.append(
                append_partition(
                    broker, topic.name, data.index, data.records, internal_ok=internal_ok
                )
            )
        responses.append(TopicProduceResponse(name=topic.name, partition_responses=parts))
    return ProduceResponse(responses=responses)


@error_response_for(ProduceRequest)
def _failed(request: ProduceRequest, version: int, code: int) -> ProduceResponse:
    return ProduceResponse(
        responses=[
            TopicProduceResponse(
                name=topic.name,
                partition_responses=[_error(p.index, code) for p in topic.partition_data],
            )
            for topic in request.topic_data
        ]
    )
