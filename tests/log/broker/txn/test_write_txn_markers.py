"""WriteTxnMarkers and DescribeProducers: finding and closing a hanging
transaction the coordinator does not know."""

from __future__ import annotations

from tidal.log.broker._broker import Broker
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    DescribeProducersRequest,
    TxnOffsetCommitRequest,
    WriteTxnMarkersRequest,
)
from tidal.log.protocol.messages.describe_producers import DescribeProducersTopicRequest
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitRequestPartition,
    TxnOffsetCommitRequestTopic,
)
from tidal.log.protocol.messages.write_txn_markers import WritableTxnMarker, WritableTxnMarkerTopic

from .conftest import TxnProducer, call_handler, fetch

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PRODUCER_EPOCH = 47
TRANSACTION_COORDINATOR_FENCED = 52


def _abort(
    pid: int, epoch: int, coordinator_epoch: int = 0, *partitions: int
) -> WriteTxnMarkersRequest:
    return WriteTxnMarkersRequest(
        markers=[
            WritableTxnMarker(
                producer_id=pid,
                producer_epoch=epoch,
                transaction_result=False,
                topics=[WritableTxnMarkerTopic(name="data", partition_indexes=list(partitions))],
                coordinator_epoch=coordinator_epoch,
            )
        ]
    )


async def _codes(broker: Broker, request: WriteTxnMarkersRequest) -> list[int]:
    response = await call_handler(broker, request, 1)
    return [p.error_code for t in response.markers[0].topics for p in t.partitions]


async def test_hanging_transaction_is_aborted_on_request(broker: Broker) -> None:
    hanging = TxnProducer(broker, "hanging")
    await hanging.init()
    # Data with no AddPartitionsToTxn: the coordinator will never end it here.
    hanging.plant_hanging("data", 0, 3)
    assert (await fetch(broker, "data", 0, committed=True)).last_stable_offset == 0

    pid, epoch = hanging.producer_id, hanging.producer_epoch
    assert await _codes(broker, _abort(pid, epoch, 0, 0, 7)) == [NONE, UNKNOWN_TOPIC_OR_PARTITION]
    read = await fetch(broker, "data", 0, committed=True)
    assert read.last_stable_offset == read.high_watermark == 4
    assert [(t.producer_id, t.first_offset) for t in read.aborted_transactions] == [(pid, 0)]


async def test_stale_markers_are_refused(broker: Broker) -> None:
    producer = TxnProducer(broker, "stale")
    await producer.init()
    await producer.add("data", 1)
    await producer.produce("data", 1, 1)
    pid, epoch = producer.producer_id, producer.producer_epoch
    assert await _codes(broker, _abort(pid, epoch, 5, 1)) == [NONE]
    assert await _codes(broker, _abort(pid, epoch, 4, 1)) == [TRANSACTION_COORDINATOR_FENCED]
    assert await _codes(broker, _abort(pid, epoch - 1, 5, 1)) == [INVALID_PRODUCER_EPOCH]


async def test_describe_producers_shows_open_transactions(broker: Broker) -> None:
    producer = TxnProducer(broker, "described")
    await producer.init()
    await producer.add("data", 0)
    await producer.produce("data", 0, 2)
    await producer.produce("data", 0, 3)
    request = DescribeProducersRequest(
        topics=[DescribeProducersTopicRequest(name="data", partition_indexes=[0, 9])]
    )
    response = await call_handler(broker, request, 0)
    found, missing = response.topics[0].partitions
    assert missing.error_code == UNKNOWN_TOPIC_OR_PARTITION
    (state,) = found.active_producers
    assert (state.producer_id, state.producer_epoch) == (producer.producer_id, 0)
    assert (state.last_sequence, state.current_txn_start_offset) == (4, 0)
    assert state.coordinator_epoch == -1
    assert await producer.end(commit=True) == NONE
    after = (await call_handler(broker, request, 0)).topics[0].partitions[0].active_producers
    assert (after[0].current_txn_start_offset, after[0].coordinator_epoch) == (-1, 0)


async def test_describe_producers_of_the_offsets_topic_is_current(broker: Broker) -> None:
    producer = TxnProducer(broker, "offsets-producer")
    await producer.init()
    add = AddOffsetsToTxnRequest(
        transactional_id="offsets-producer",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        group_id="g",
    )
    assert (await call_handler(broker, add, 3)).error_code == NONE
    commit = TxnOffsetCommitRequest(
        transactional_id="offsets-producer",
        group_id="g",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        topics=[
            TxnOffsetCommitRequestTopic(
                name="data",
                partitions=[TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=1)],
            )
        ],
    )
    await call_handler(broker, commit, 3)
    partition = broker.groups.partition_for("g")
    request = DescribeProducersRequest(
        topics=[
            DescribeProducersTopicRequest(name="__consumer_offsets", partition_indexes=[partition])
        ]
    )
    (open_state,) = (
        (await call_handler(broker, request, 0)).topics[0].partitions[0].active_producers
    )
    assert open_state.current_txn_start_offset >= 0
    assert await producer.end(commit=True) == NONE
    (done,) = (await call_handler(broker, request, 0)).topics[0].partitions[0].active_producers
    assert done.current_txn_start_offset == -1
