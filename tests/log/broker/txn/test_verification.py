"""Transaction verification on Produce (Kafka 3.6+, KIP-890 part 1).

A transactional batch is appended only to a partition the producer added to
its Ongoing transaction; a stray one (its transaction already ended, or the
partition was never added) would hold the last stable offset back forever,
since no marker will ever end it there.
"""

from __future__ import annotations

from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.protocol.messages import ProduceRequest
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch

from .conftest import BrokerFactory, TxnProducer, call_handler, fetch

NONE = 0
NOT_ENOUGH_REPLICAS = 19
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
TRANSACTION_ABORTABLE = 120
NOT_ADDED = "Partition was not added to the transaction"


def _end_offset(broker: Broker, partition: int = 0) -> int:
    log = broker.partition_log("data", partition)
    assert log is not None
    return log.log_end_offset


async def _committed(producer: TxnProducer, count: int) -> None:
    """One committed transaction of ``count`` records on ``data-0``."""
    assert await producer.add("data", 0) == {0: NONE}
    assert (await producer.produce("data", 0, count)).error_code == NONE
    assert await producer.end(commit=True) == NONE


@pytest.mark.parametrize(
    ("version", "code", "message"),
    [
        (3, INVALID_TXN_STATE, None),  # error_message is a v8 field
        (9, INVALID_TXN_STATE, NOT_ADDED),
        (10, INVALID_TXN_STATE, NOT_ADDED),
        (11, TRANSACTION_ABORTABLE, None),
    ],
)
async def test_a_batch_after_commit_is_refused_and_the_lso_moves_on(
    make_broker: BrokerFactory, version: int, code: int, message: str | None
) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "late")
    await producer.init(timeout_ms=1000)
    await _committed(producer, 2)
    end = _end_offset(broker)  # 2 records and the COMMIT marker

    # Same producer id and epoch, transactional, with the transactional id:
    # no transaction is open, so no marker would ever end this batch.
    refused = await producer.produce("data", 0, 1, version=version)

    assert (refused.error_code, refused.error_message) == (code, message)
    assert refused.base_offset == -1
    assert _end_offset(broker) == end
    read = await fetch(broker, "data", 0, committed=True)
    assert read.last_stable_offset == read.high_watermark == end == 3
    state = broker.producer_state("data", 0)
    assert state.first_undecided_offset() is None


async def test_a_partition_not_added_is_refused_while_another_is_open(broker: Broker) -> None:
    producer = TxnProducer(broker, "one-partition")
    await producer.init()
    assert await producer.add("data", 0) == {0: NONE}
    assert (await producer.produce("data", 0, 2)).error_code == NONE

    refused = await producer.produce("data", 1, 1, version=11)

    assert refused.error_code == TRANSACTION_ABORTABLE
    assert _end_offset(broker, 1) == 0
    # The transaction itself is intact: it commits and partition 1 is clean.
    assert await producer.end(commit=True) == NONE
    for partition in (0, 1):
        read = await fetch(broker, "data", partition, committed=True)
        assert read.last_stable_offset == read.high_watermark


async def test_added_partitions_append_through_the_whole_transaction(broker: Broker) -> None:
    producer = TxnProducer(broker, "legit")
    await producer.init()
    for _ in range(2):  # a second transaction on the same partitions
        assert await producer.add("data", 0) == {0: NONE}
        for version in (3, 9, 11):
            assert (await producer.produce("data", 0, 1, version=version)).error_code == NONE
        assert await producer.end(commit=True) == NONE
    read = await fetch(broker, "data", 0, committed=True)
    assert read.last_stable_offset == read.high_watermark == 8  # 2 x (3 records + marker)


async def test_a_fenced_or_unknown_producer_is_refused(broker: Broker) -> None:
    old = TxnProducer(broker, "fenced")
    await old.init()
    assert await old.add("data", 0) == {0: NONE}
    new = TxnProducer(broker, "fenced")
    await new.init()  # bumps the epoch, aborting the old transaction
    fenced = await old.produce("data", 0, 1)
    assert fenced.error_code == INVALID_PRODUCER_EPOCH

    stranger = TxnProducer(broker, "fenced", producer_id=old.producer_id + 100, producer_epoch=0)
    assert (await stranger.produce("data", 0, 1)).error_code == INVALID_PRODUCER_ID_MAPPING
    unknown = TxnProducer(broker, "unknown-id", producer_id=old.producer_id, producer_epoch=1)
    assert (await unknown.produce("data", 0, 1)).error_code == INVALID_PRODUCER_ID_MAPPING
    read = await fetch(broker, "data", 0, committed=True)
    assert read.last_stable_offset == read.high_watermark


async def test_a_transaction_being_completed_is_retriable(broker: Broker) -> None:
    producer = TxnProducer(broker, "preparing")
    await producer.init()
    assert await producer.add("data", 0) == {0: NONE}
    assert (await producer.produce("data", 0, 1)).error_code == NONE
    writer = broker.txn.write_markers
    broker.txn.write_markers = lambda pid, epoch, commit, partitions: set(partitions)
    assert await producer.end(commit=True) == NONE  # PrepareCommit, markers pending

    pending = await producer.produce("data", 0, 1)

    assert pending.error_code == NOT_ENOUGH_REPLICAS
    assert pending.error_message == (
        "Unable to verify the partition has been added to the transaction. "
        "Underlying error: CONCURRENT_TRANSACTIONS"
    )
    broker.txn.write_markers = writer
    broker.txn.retry_pending()
    read = await fetch(broker, "data", 0, committed=True)
    assert read.last_stable_offset == read.high_watermark == 2


def _produce(partitions: list[tuple[int, bytes]], transactional_id: str | None) -> ProduceRequest:
    return ProduceRequest(
        transactional_id=transactional_id,
        acks=-1,
        timeout_ms=1000,
        topic_data=[
            TopicProduceData(
                name="data",
                partition_data=[PartitionProduceData(index=i, records=b) for i, b in partitions],
            )
        ],
    )


async def test_a_transactional_batch_without_transactional_id_fails_the_request(
    broker: Broker,
) -> None:
    producer = TxnProducer(broker, "anonymous")
    await producer.init()
    assert await producer.add("data", 0) == {0: NONE}
    plain = encode_batch([SimpleRecord(b"plain")])
    request = _produce([(0, producer.batch(1)), (1, plain)], None)

    response: Any = await call_handler(broker, request, 9)

    codes = [p.error_code for p in response.responses[0].partition_responses]
    assert codes == [TRANSACTIONAL_ID_AUTHORIZATION_FAILED] * 2
    assert (_end_offset(broker, 0), _end_offset(broker, 1)) == (0, 0)


async def test_plain_batches_are_not_verified(broker: Broker) -> None:
    # Not transactional: no coordinator involved, even with a transactional id.
    request = _produce([(0, encode_batch([SimpleRecord(b"plain")]))], "nobody")
    response: Any = await call_handler(broker, request, 11)
    assert response.responses[0].partition_responses[0].error_code == NONE
    assert _end_offset(broker) == 1
