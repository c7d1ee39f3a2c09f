"""Last stable offset, aborted transactions in Fetch, ListOffsets, and
transactional offset commits as a read_committed consumer sees them."""

from __future__ import annotations

from typing import Any

from tidal.log.broker._broker import Broker
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    ListOffsetsRequest,
    OffsetFetchRequest,
    TxnOffsetCommitRequest,
)
from tidal.log.protocol.messages.list_offsets import ListOffsetsPartition, ListOffsetsTopic
from tidal.log.protocol.messages.offset_fetch import OffsetFetchRequestTopic
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitRequestPartition,
    TxnOffsetCommitRequestTopic,
)
from tidal.log.records import iter_batches

from .conftest import TxnProducer, call_handler, fetch

NONE = 0
UNKNOWN_MEMBER_ID = 25
ILLEGAL_GENERATION = 22
UNSTABLE_OFFSET_COMMIT = 88


def offsets_in(records: bytes) -> list[int]:
    return [h.base_offset for h in iter_batches(records)]


async def latest(
    broker: Broker, topic: str, partition: int, *, committed: bool, timestamp: int = -1
) -> int:
    request = ListOffsetsRequest(
        isolation_level=1 if committed else 0,
        topics=[
            ListOffsetsTopic(
                name=topic,
                partitions=[ListOffsetsPartition(partition_index=partition, timestamp=timestamp)],
            )
        ],
    )
    response = await call_handler(broker, request, 5)
    return int(response.topics[0].partitions[0].offset)


async def test_last_stable_offset_and_aborted_transactions(broker: Broker) -> None:
    plain = TxnProducer(broker, "a")
    await plain.init()
    await plain.add("data", 0)
    await plain.produce("data", 0, 3)  # offsets 0-2, open

    open_read = await fetch(broker, "data", 0, committed=True)
    assert open_read.last_stable_offset == 0
    assert open_read.high_watermark == 3
    assert open_read.records == b""
    assert open_read.aborted_transactions == []
    uncommitted = await fetch(broker, "data", 0, committed=False)
    assert offsets_in(uncommitted.records) == [0]
    assert uncommitted.aborted_transactions is None
    assert await latest(broker, "data", 0, committed=True) == 0
    assert await latest(broker, "data", 0, committed=False) == 3
    # By timestamp, only offsets the reader may fetch: none below the LSO yet.
    assert await latest(broker, "data", 0, committed=True, timestamp=0) == -1
    assert await latest(broker, "data", 0, committed=False, timestamp=0) == 0

    assert await plain.end(commit=False) == NONE  # ABORT marker at 3
    await plain.add("data", 0)
    await plain.produce("data", 0, 2)  # 4-5
    assert await plain.end(commit=True) == NONE  # COMMIT marker at 6

    done = await fetch(broker, "data", 0, committed=True)
    assert done.last_stable_offset == done.high_watermark == 7
    assert offsets_in(done.records) == [0, 3, 4, 6]
    assert [(t.producer_id, t.first_offset) for t in done.aborted_transactions] == [
        (plain.producer_id, 0)
    ]
    assert await latest(broker, "data", 0, committed=True) == 7


async def test_two_producers_lso_is_the_oldest_open_transaction(broker: Broker) -> None:
    first, second = TxnProducer(broker, "first"), TxnProducer(broker, "second")
    await first.init()
    await second.init()
    await first.add("data", 1)
    await second.add("data", 1)
    await second.produce("data", 1, 2)  # 0-1
    await first.produce("data", 1, 2)  # 2-3
    log = broker.partition_log("data", 1)
    assert log is not None
    assert broker.last_stable_offset("data", 1, log) == 0
    assert await second.end(commit=True) == NONE  # marker 4
    assert broker.last_stable_offset("data", 1, log) == 2
    assert await first.end(commit=False) == NONE  # marker 5
    assert broker.last_stable_offset("data", 1, log) == 6
    (entry,) = log.txn_index.entries()
    assert (entry.producer_id, entry.first_offset, entry.last_offset) == (first.producer_id, 2, 5)
    assert entry.last_stable_offset == 6


async def _txn_commit(
    broker: Broker, producer: TxnProducer, group: str, offset: int, **member: Any
) -> int:
    request = TxnOffsetCommitRequest(
        transactional_id=producer.transactional_id,
        group_id=group,
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        topics=[
            TxnOffsetCommitRequestTopic(
                name="data",
                partitions=[
                    TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=offset)
                ],
            )
        ],
        **member,
    )
    response = await call_handler(broker, request, 3)
    return int(response.topics[0].partitions[0].error_code)


async def _fetch_offset(broker: Broker, group: str, *, stable: bool) -> tuple[int, int]:
    request = OffsetFetchRequest(
        group_id=group,
        topics=[OffsetFetchRequestTopic(name="data", partition_indexes=[0])],
        require_stable=stable,
    )
    response = await call_handler(broker, request, 7)
    part = response.topics[0].partitions[0]
    return int(part.committed_offset), int(part.error_code)


async def test_txn_offsets_are_pending_until_the_marker(broker: Broker) -> None:
    producer = TxnProducer(broker, "ctp")
    await producer.init()
    add = AddOffsetsToTxnRequest(
        transactional_id="ctp",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        group_id="g1",
    )
    assert (await call_handler(broker, add, 3)).error_code == NONE
    assert await _txn_commit(broker, producer, "g1", 42) == NONE
    assert await _fetch_offset(broker, "g1", stable=False) == (-1, NONE)
    assert await _fetch_offset(broker, "g1", stable=True) == (-1, UNSTABLE_OFFSET_COMMIT)
    assert await producer.end(commit=True) == NONE
    assert await _fetch_offset(broker, "g1", stable=True) == (42, NONE)

    assert (await call_handler(broker, add, 3)).error_code == NONE
    assert await _txn_commit(broker, producer, "g1", 99) == NONE
    assert await producer.end(commit=False) == NONE
    assert await _fetch_offset(broker, "g1", stable=True) == (42, NONE)


async def test_txn_offset_commit_checks_members_and_producers(broker: Broker) -> None:
    producer = TxnProducer(broker, "members")
    await producer.init()
    assert await _txn_commit(broker, producer, "g2", 1, member_id="ghost") == UNKNOWN_MEMBER_ID
    assert await _txn_commit(broker, producer, "g3", 1, generation_id=4) == ILLEGAL_GENERATION
    stale = TxnProducer(broker, "members", producer.producer_id, producer.producer_epoch)
    await TxnProducer(broker, "members").init()
    assert await _txn_commit(broker, stale, "g2", 1) == 90  # PRODUCER_FENCED from v3


async def test_txn_offsets_survive_a_restart_pending_or_committed(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "restart-ctp")
    await producer.init()
    add = AddOffsetsToTxnRequest(
        transactional_id="restart-ctp",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        group_id="g",
    )
    await call_handler(broker, add, 3)
    await _txn_commit(broker, producer, "g", 7)
    await producer.end(commit=True)
    await call_handler(broker, add, 3)
    await _txn_commit(broker, producer, "g", 8)  # pending at shutdown
    await broker.stop()

    again = await make_broker()
    offsets_log = again.logs.get_log("__consumer_offsets", again.groups.partition_for("g"))
    assert offsets_log is not None
    assert offsets_log.config.compact
    assert await _fetch_offset(again, "g", stable=True) == (-1, UNSTABLE_OFFSET_COMMIT)
    assert await _fetch_offset(again, "g", stable=False) == (7, NONE)
    # The open transaction times out; its offsets are dropped.
    assert again.txn.abort_timed_out(now=again.txn.clock() + 3_600_000) == ["restart-ctp"]
    assert await _fetch_offset(again, "g", stable=True) == (7, NONE)
