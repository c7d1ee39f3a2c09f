"""The transaction coordinator through its handlers: state machine and error codes."""

from __future__ import annotations

from typing import Any

from tidal.log.broker._broker import Broker
from tidal.log.broker.txn import TxnState
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    DescribeTransactionsRequest,
    InitProducerIdRequest,
    ListTransactionsRequest,
)

from .conftest import TxnProducer, call_handler

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
OPERATION_NOT_ATTEMPTED = 55
PRODUCER_FENCED = 90
TRANSACTIONAL_ID_NOT_FOUND = 105


async def test_init_producer_id_bumps_the_epoch_and_keeps_the_id(broker: Broker) -> None:
    first = TxnProducer(broker, "app")
    assert (await first.init()).error_code == NONE
    second = TxnProducer(broker, "app")
    assert (await second.init()).error_code == NONE
    assert second.producer_id == first.producer_id
    assert second.producer_epoch == first.producer_epoch + 1
    other = TxnProducer(broker, "other-app")
    await other.init()
    assert other.producer_id != first.producer_id


async def test_init_producer_id_validates_its_input(broker: Broker) -> None:
    too_long = TxnProducer(broker, "slow")
    assert (await too_long.init(timeout_ms=900_001)).error_code == INVALID_TRANSACTION_TIMEOUT
    assert (await too_long.init(timeout_ms=0)).error_code == INVALID_TRANSACTION_TIMEOUT
    empty = InitProducerIdRequest(transactional_id="", transaction_timeout_ms=1000)
    assert (await call_handler(broker, empty, 4)).error_code == INVALID_REQUEST


async def test_kip_360_bump_with_the_current_epoch_and_fencing_of_others(broker: Broker) -> None:
    producer = TxnProducer(broker, "kip360")
    await producer.init()
    bump = InitProducerIdRequest(
        transactional_id="kip360",
        transaction_timeout_ms=60_000,
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
    )
    bumped = await call_handler(broker, bump, 4)
    assert (bumped.producer_id, bumped.producer_epoch) == (producer.producer_id, 1)
    again = await call_handler(broker, bump, 4)  # the answer was lost: same answer
    assert (again.error_code, again.producer_epoch) == (NONE, 1)
    stale = InitProducerIdRequest(
        transactional_id="kip360",
        transaction_timeout_ms=60_000,
        producer_id=producer.producer_id + 1000,
        producer_epoch=0,
    )
    assert (await call_handler(broker, stale, 4)).error_code == PRODUCER_FENCED
    assert (await call_handler(broker, stale, 3)).error_code == INVALID_PRODUCER_EPOCH


async def test_add_partitions_errors(broker: Broker) -> None:
    producer = TxnProducer(broker, "adds")
    await producer.init()
    assert await producer.add("data", 0, 1) == {0: NONE, 1: NONE}
    assert await producer.add("data", 0) == {0: NONE}  # already in
    assert await producer.add("missing", 0) == {0: UNKNOWN_TOPIC_OR_PARTITION}
    assert await producer.add("data", 5) == {5: UNKNOWN_TOPIC_OR_PARTITION}
    unknown = TxnProducer(broker, "never-initialised", producer_id=1, producer_epoch=0)
    assert await unknown.add("data", 0) == {0: INVALID_PRODUCER_ID_MAPPING}
    old = TxnProducer(broker, "adds", producer.producer_id, producer.producer_epoch)
    await TxnProducer(broker, "adds").init()  # fences ``producer`` and ``old``
    assert await old.add("data", 0, version=2) == {0: PRODUCER_FENCED}
    assert await old.add("data", 0, version=1) == {0: INVALID_PRODUCER_EPOCH}


async def test_end_txn_states(broker: Broker) -> None:
    producer = TxnProducer(broker, "ends")
    await producer.init()
    assert await producer.end(commit=True) == INVALID_TXN_STATE  # nothing added
    await producer.add("data", 0)
    await producer.produce("data", 0, 3)
    assert await producer.end(commit=True) == NONE
    assert await producer.end(commit=True) == NONE  # a retry
    assert await producer.end(commit=False) == INVALID_TXN_STATE
    assert broker.txn.transactions["ends"].state == TxnState.COMPLETE_COMMIT
    stale = TxnProducer(broker, "ends", producer.producer_id, producer.producer_epoch - 1)
    assert await stale.end(commit=True, version=2) == PRODUCER_FENCED
    assert await stale.end(commit=True, version=1) == INVALID_PRODUCER_EPOCH


async def test_new_instance_aborts_the_open_transaction(broker: Broker) -> None:
    zombie = TxnProducer(broker, "zombie")
    await zombie.init()
    await zombie.add("data", 0)
    await zombie.produce("data", 0, 5)
    successor = TxnProducer(broker, "zombie")
    assert (await successor.init()).error_code == NONE
    assert successor.producer_epoch == zombie.producer_epoch + 2  # abort fence, then the bump
    log = broker.partition_log("data", 0)
    assert log is not None
    assert broker.last_stable_offset("data", 0, log) == log.high_watermark == 6
    assert [t.first_offset for t in log.txn_index.entries()] == [0]
    late = await zombie.produce("data", 0, 1)
    assert late.error_code == INVALID_PRODUCER_EPOCH


async def test_timed_out_transaction_is_aborted_and_its_producer_fenced(broker: Broker) -> None:
    producer = TxnProducer(broker, "slowpoke")
    await producer.init(timeout_ms=1000)
    await producer.add("data", 1)
    await producer.produce("data", 1, 4)
    assert broker.txn.abort_timed_out(now=broker.txn.clock() + 500) == []
    assert broker.txn.abort_timed_out(now=broker.txn.clock() + 1500) == ["slowpoke"]
    metadata = broker.txn.transactions["slowpoke"]
    assert metadata.state == TxnState.COMPLETE_ABORT
    assert metadata.producer_epoch == producer.producer_epoch + 1
    assert await producer.end(commit=True) == PRODUCER_FENCED
    log = broker.partition_log("data", 1)
    assert log is not None
    assert broker.last_stable_offset("data", 1, log) == 5


async def test_add_offsets_to_txn(broker: Broker) -> None:
    producer = TxnProducer(broker, "offsets")
    await producer.init()
    request = AddOffsetsToTxnRequest(
        transactional_id="offsets",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        group_id="g",
    )
    assert (await call_handler(broker, request, 3)).error_code == NONE
    partition = broker.groups.partition_for("g")
    assert ("__consumer_offsets", partition) in broker.txn.transactions["offsets"].partitions


async def test_expired_transactional_ids_are_forgotten(broker: Broker) -> None:
    producer = TxnProducer(broker, "idle")
    await producer.init()
    later = broker.txn.clock() + broker.txn.config.transactional_id_expiration_ms + 1
    assert broker.txn.expire_transactional_ids(now=later) == ["idle"]
    assert "idle" not in broker.txn.transactions


async def test_describe_and_list_transactions(broker: Broker) -> None:
    producer = TxnProducer(broker, "shown")
    await producer.init(timeout_ms=30_000)
    await producer.add("data", 0, 1)
    done = TxnProducer(broker, "done")
    await done.init()

    described = await call_handler(
        broker, DescribeTransactionsRequest(transactional_ids=["shown", "nope"]), 0
    )
    shown, nope = described.transaction_states
    assert shown.error_code == NONE
    assert shown.transaction_state == "Ongoing"
    assert shown.transaction_timeout_ms == 30_000
    assert shown.producer_id == producer.producer_id
    assert [(t.topic, sorted(t.partitions)) for t in shown.topics] == [("data", [0, 1])]
    assert shown.transaction_start_time_ms > 0
    assert nope.error_code == TRANSACTIONAL_ID_NOT_FOUND

    everything = await call_handler(broker, ListTransactionsRequest(), 1)
    assert {(t.transactional_id, t.transaction_state) for t in everything.transaction_states} == {
        ("shown", "Ongoing"),
        ("done", "Empty"),
    }
    filtered = await call_handler(
        broker, ListTransactionsRequest(state_filters=["Ongoing", "Bogus"]), 1
    )
    assert [t.transactional_id for t in filtered.transaction_states] == ["shown"]
    assert filtered.unknown_state_filters == ["Bogus"]
    by_pid = await call_handler(
        broker, ListTransactionsRequest(producer_id_filters=[done.producer_id]), 0
    )
    assert [t.transactional_id for t in by_pid.transaction_states] == ["done"]
    long_running = await call_handler(broker, ListTransactionsRequest(duration_filter=3_600_000), 1)
    assert long_running.transaction_states == []


async def test_settings_come_from_broker_properties(make_broker: Any) -> None:
    broker = await make_broker(
        **{"transaction.max.timeout.ms": "5000", "transactional.id.expiration.ms": "1000"}
    )
    config = broker.txn.config
    assert (config.max_timeout_ms, config.transactional_id_expiration_ms) == (5000, 1000)
    assert config.num_partitions == 3
    producer = TxnProducer(broker, "bounded")
    assert (await producer.init(timeout_ms=5001)).error_code == INVALID_TRANSACTION_TIMEOUT
    assert (await producer.init(timeout_ms=5000)).error_code == NONE
