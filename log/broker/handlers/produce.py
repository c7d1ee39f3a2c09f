"""Produce (key 0): append each partition's batches, verbatim, as the leader.

Per partition, in request order (Produce never awaits, so requests on one
connection append in the order they arrived):

1. the topic must exist (Produce does not auto-create, as in Kafka) and not
   be internal: INVALID_TOPIC_EXCEPTION, as Kafka's ``ReplicaManager``
   answers anyone but its own admin client;
2. the record set must be exactly one batch, as Kafka's
   ``ProduceRequest.validateRecords`` demands of magic v2 (INVALID_RECORD),
   not exceed the segment size (RECORD_LIST_TOO_LARGE) and end where the
   batch does (CORRUPT_MESSAGE);
3. on a topic whose ``cleanup.policy`` has ``compact``, every record needs a
   key: Kafka's ``LogValidator`` answers INVALID_RECORD naming the records;
4. a transactional batch must belong to a transaction the coordinator
   knows is Ongoing on this partition (KIP-890 part 1, see
   ``_verify_transaction``), or no marker would ever end it and the last
   stable offset would stay behind it for good;
5. the idempotent-producer state judges the batch (a duplicate gets its
   original offset, a gap OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch is
   fenced);
6. the log validates and appends (CRC, size: MESSAGE_TOO_LARGE, ...: every
   ``RecordsError`` carries its Kafka code), a roll snapshots producer state;
7. the high watermark moves to the log end offset (a single node is its own
   ISR, so acks 1 and all mean the same) and Fetch long polls are woken.

A refused partition appends nothing; the others of the request go on. A
request carrying a transactional batch but no transactional id is refused as
a whole with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as ``KafkaApis`` does.
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
    BatchIndexAndErrorMessage,
    PartitionProduceResponse,
    TopicProduceResponse,
)
from tidal.log.records import (
    BatchHeader,
    CorruptRecordError,
    InvalidRecordError,
    RecordsError,
    decode_batch,
    iter_batches,
    validate_batch,
)
from tidal.log.storage import LogClosedError, PartitionLog, StorageError

__all__ = ["produce"]

_log = logging.getLogger(__name__)

NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
NOT_LEADER_OR_FOLLOWER = 6
INVALID_TOPIC_EXCEPTION = 17
RECORD_LIST_TOO_LARGE = 18
NOT_ENOUGH_REPLICAS = 19
INVALID_REQUIRED_ACKS = 21
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
INVALID_RECORD = 87
PRODUCER_FENCED = 90
TRANSACTION_ABORTABLE = 120
#: the first Produce version whose clients know TRANSACTION_ABORTABLE (Kafka 3.8, KIP-890)
FIRST_ABORTABLE_PRODUCE_VERSION = 11
#: the coordinator's answers that only mean "not verified yet", by name
_UNVERIFIED = {
    14: "COORDINATOR_LOAD_IN_PROGRESS",
    15: "COORDINATOR_NOT_AVAILABLE",
    16: "NOT_COORDINATOR",
    51: "CONCURRENT_TRANSACTIONS",
}
_TRANSACTIONAL_BIT = 0x10
#: where the low byte of a v2 batch's attributes is (Kafka's ``DefaultRecordBatch``)
_ATTRIBUTES_LOW_BYTE = 22
#: Kafka's ``AdminUtils.ADMIN_CLIENT_ID``: the one client allowed to write internal topics.
ADMIN_CLIENT_ID = "__admin_client"


def _error(index: int, code: int, message: str | None = None) -> PartitionProduceResponse:
    return PartitionProduceResponse(index=index, error_code=code, error_message=message)


def _one_batch(records: bytes) -> BatchHeader:
    """The header of the record set's one batch (``RecordsError`` otherwise)."""
    headers = list(iter_batches(records))
    if len(headers) > 1:
        raise InvalidRecordError(
            "Produce requests are only allowed to contain exactly one record batch per "
            f"partition, not {len(headers)}"
        )
    if not headers or headers[0].size != len(records):
        raise CorruptRecordError("the record set ends with a partial batch")
    return headers[0]


def _refuse_keyless(
    log: PartitionLog, topic: str, index: int, records: bytes
) -> PartitionProduceResponse | None:
    """Kafka's answer when a record for a compacted topic has no key, or None.

    ``PartitionLog.append`` enforces the key rule of a compacted log; this
    runs only for a batch it refused, to answer as Kafka does: once more
    without the key rule (another fault is answered as the log would), then
    decoded, to name each keyless record in ``record_errors``.
    """
    max_size = log.config.max_message_bytes
    try:
        validate_batch(records, max_size=max_size, from_producer=True, require_keys=True)
    except RecordsError as refused:
        error = refused
    else:
        return None
    try:
        validate_batch(records, max_size=max_size, from_producer=True)
        keyless = [i for i, r in enumerate(decode_batch(records).records) if r.key is None]
    except RecordsError as exc:
        error = exc
    else:
        message = (
            f"Compacted topic cannot accept message without key in topic partition {topic}-{index}."
        )
        return PartitionProduceResponse(
            index=index,
            error_code=INVALID_RECORD,
            error_message=message,
            record_errors=[
                BatchIndexAndErrorMessage(batch_index=i, batch_index_error_message=message)
                for i in keyless
            ],
        )
    return _error(index, error.kafka_error_code, str(error))


def _verify_transaction(
    broker: Broker,
    transactional_id: str | None,
    topic: str,
    index: int,
    header: BatchHeader,
    version: int,
) -> PartitionProduceResponse | None:
    """Kafka's transaction verification of a transactional batch (3.6+,
    ``ReplicaManager.appendRecords`` asking the coordinator with
    AddPartitionsToTxn ``verify_only``); the refusal, or None to append.

    A legitimate producer always adds the partition (AddPartitionsToTxn)
    before its first batch there, so only a stray or late batch is refused:
    one of a transaction that already ended, or that never added this
    partition. The codes are those ``AddPartitionsToTxnManager`` and
    ``ReplicaManager`` give the producer: TRANSACTION_ABORTABLE from Produce
    v11 on, INVALID_TXN_STATE "Partition was not added to the transaction"
    before; INVALID_PRODUCER_EPOCH for a fenced epoch; NOT_ENOUGH_REPLICAS
    (retriable, no metadata refresh) while the coordinator cannot tell.
    """
    if transactional_id is None:  # ``produce`` refuses such a request as a whole
        return _error(index, TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    code = broker.txn.verify_partition(
        transactional_id, header.producer_id, header.producer_epoch, (topic, index)
    )
    if code == NONE:
        return None
    if code == TRANSACTION_ABORTABLE:
        if version >= FIRST_ABORTABLE_PRODUCE_VERSION:
            return _error(index, TRANSACTION_ABORTABLE)
        return _error(index, INVALID_TXN_STATE, "Partition was not added to the transaction")
    if code == PRODUCER_FENCED:
        return _error(index, INVALID_PRODUCER_EPOCH)
    underlying = _UNVERIFIED.get(code)
    if underlying is not None:
        return _error(
            index,
            NOT_ENOUGH_REPLICAS,
            "Unable to verify the partition has been added to the transaction. "
            f"Underlying error: {underlying}",
        )
    return _error(index, code)


def _has_transactional_batch(request: ProduceRequest) -> bool:
    """Kafka's ``RequestUtils.hasTransactionalRecords``: a partition's batch
    has the transactional attribute (read off the bytes; nothing is decoded)."""
    return any(
        data.records is not None
        and len(data.records) > _ATTRIBUTES_LOW_BYTE
        and data.records[_ATTRIBUTES_LOW_BYTE] & _TRANSACTIONAL_BIT
        for topic in request.topic_data
        for data in topic.partition_data
    )


def append_partition(
    broker: Broker,
    topic: str,
    index: int,
    records: bytes | None,
    *,
    internal_ok: bool = False,
    transactional_id: str | None = None,
    version: int = FIRST_ABORTABLE_PRODUCE_VERSION,
) -> PartitionProduceResponse:
    """Append one partition's record set; the partition's response.

    ``transactional_id`` and ``version`` are the Produce request's: a
    transactional batch is verified against that id's transaction.
    """
    if topic in INTERNAL_TOPICS and not internal_ok:
        return _error(index, INVALID_TOPIC_EXCEPTION, f"Cannot append to internal topic {topic}")
    log = broker.partition_log(topic, index)
    if log is None:
        return _error(index, UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{index} does not exist")
    if not records:
        return _error(index, INVALID_RECORD, "Produce request carries no record batch")
    try:
        header = _one_batch(records)
    except RecordsError as exc:
        return _error(index, exc.kafka_error_code, str(exc))
    if len(records) > log.config.segment_bytes:
        return _error(
            index,
            RECORD_LIST_TOO_LARGE,
            f"record set of {len(records)} bytes exceeds segment.bytes {log.config.segment_bytes}",
        )
    if header.is_transactional:
        refused = _verify_transaction(broker, transactional_id, topic, index, header, version)
        if refused is not None:
            return refused
    headers = [header]
    try:
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
        if log.config.compact and isinstance(exc, InvalidRecordError):
            refused = _refuse_keyless(log, topic, index, records)
            if refused is not None:
                return refused
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
    if request.transactional_id is None and _has_transactional_batch(request):
        return _failed(request, ctx.api_version, TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
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
                    broker,
                    topic.name,
                    data.index,
                    data.records,
                    internal_ok=internal_ok,
                    transactional_id=request.transactional_id,
                    version=ctx.api_version,
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
