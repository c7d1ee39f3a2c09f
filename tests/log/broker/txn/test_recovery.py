"""Transactions across broker restarts: Prepare states completed at load, open
transactions still holding the last stable offset, the ``.txnindex`` rebuilt."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tidal.log.broker.txn import TRANSACTION_STATE_TOPIC, TxnState
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    OffsetFetchRequest,
    TxnOffsetCommitRequest,
)
from tidal.log.protocol.messages.offset_fetch import OffsetFetchRequestTopic
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitRequestPartition,
    TxnOffsetCommitRequestTopic,
)
from tidal.log.records import iter_batches
from tidal.log.storage import TXN_INDEX_SUFFIX
from tidal.log.storage._faults import SimulatedCrash, abandon

from .conftest import TxnProducer, call_handler, fetch

NONE = 0


def _no_markers(pid: int, epoch: int, commit: bool, parts: Iterable[Any]) -> set[Any]:
    return set(parts)  # every marker "fails": the transaction stays prepared


async def test_prepared_commit_is_completed_at_load(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "prepared")
    await producer.init()
    await producer.add("data", 0, 1)
    await producer.produce("data", 0, 3)
    await producer.produce("data", 1, 2)
    broker.txn.write_markers = _no_markers
    assert await producer.end(commit=True) == NONE  # the decision is durable
    assert broker.txn.transactions["prepared"].state == TxnState.PREPARE_COMMIT
    assert await producer.end(commit=True) == 51  # CONCURRENT_TRANSACTIONS meanwhile
    assert (await TxnProducer(broker, "prepared").init()).error_code == 51
    assert (await fetch(broker, "data", 0, committed=True)).last_stable_offset == 0
    await broker.stop()

    again = await make_broker()
    assert again.txn.transactions["prepared"].state == TxnState.COMPLETE_COMMIT
    for partition, count in ((0, 3), (1, 2)):
        read = await fetch(again, "data", partition, committed=True)
        assert read.last_stable_offset == read.high_watermark == count + 1
        assert read.aborted_transactions == []


async def test_prepared_transaction_retried_while_running(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "retry")
    await producer.init()
    await producer.add("data", 0)
    await producer.produce("data", 0, 1)
    real = broker.txn.write_markers
    broker.txn.write_markers = _no_markers
    assert await producer.end(commit=False) == NONE
    broker.txn.write_markers = real
    broker.txn.retry_pending()
    assert broker.txn.transactions["retry"].state == TxnState.COMPLETE_ABORT
    read = await fetch(broker, "data", 0, committed=True)
    assert [t.first_offset for t in read.aborted_transactions] == [0]


async def test_open_transaction_survives_a_restart_then_times_out(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "open")
    await producer.init(timeout_ms=5000)
    await producer.add("data", 1)
    await producer.produce("data", 1, 4)
    await broker.stop()

    again = await make_broker()
    assert again.txn.transactions["open"].state == TxnState.ONGOING
    held = await fetch(again, "data", 1, committed=True)
    assert held.last_stable_offset == 0  # from the producer-state snapshot
    assert held.high_watermark == 4
    assert again.txn.abort_timed_out(now=again.txn.clock() + 10_000) == ["open"]
    done = await fetch(again, "data", 1, committed=True)
    assert done.last_stable_offset == 5
    assert [(t.producer_id, t.first_offset) for t in done.aborted_transactions] == [
        (producer.producer_id, 0)
    ]


async def test_txn_index_is_rebuilt_from_the_log(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "rebuild")
    await producer.init()
    for commit in (False, True, False):
        await producer.add("data", 0)
        await producer.produce("data", 0, 2)
        assert await producer.end(commit=commit) == NONE
    log = broker.partition_log("data", 0)
    assert log is not None
    before = log.txn_index.entries()
    assert [(e.first_offset, e.last_offset) for e in before] == [(0, 2), (6, 8)]
    directory = log.directory
    await broker.stop()
    for path in directory.iterdir():  # lose the index and the snapshots: a full replay
        if path.name.endswith((TXN_INDEX_SUFFIX, ".snapshot")):
            path.unlink()

    again = await make_broker()
    read = await fetch(again, "data", 0, committed=True)
    assert [t.first_offset for t in read.aborted_transactions] == [0, 6]
    rebuilt = again.partition_log("data", 0)
    assert rebuilt is not None
    assert rebuilt.txn_index.entries() == before


async def test_transaction_state_topic_is_compacted_and_listed(make_broker: Any) -> None:
    broker = await make_broker()
    await TxnProducer(broker, "listed").init()
    assert broker.internal_topics()[TRANSACTION_STATE_TOPIC] == 3
    partition = broker.txn.partition_for("listed")
    log = broker.logs.get_log(TRANSACTION_STATE_TOPIC, partition)
    assert log is not None
    assert log.config.compact


async def test_internal_topics_stay_compacted_after_a_restart(make_broker: Any) -> None:
    broker = await make_broker()
    await TxnProducer(broker, "kept").init()
    await broker.stop()
    again = await make_broker()
    partition = again.txn.partition_for("kept")
    log = again.logs.get_log(TRANSACTION_STATE_TOPIC, partition)
    assert log is not None
    assert log.config.compact  # a delete policy would expire transactional ids
    assert again.txn.transactions["kept"].producer_epoch == 0


async def _crash(broker: Any) -> None:
    """Stop ``broker`` as ``kill -9`` would: no snapshots, checkpoints or clean-shutdown marker."""
    await broker.txn.close()
    broker.groups.close()
    abandon(broker.logs)  # the scheduler stopped, every log dropped, the lock released
    broker._started = False


async def test_crash_between_markers_is_completed_at_restart(make_broker: Any) -> None:
    broker = await make_broker()
    broker.topics.create_topic("data", 2)
    producer = TxnProducer(broker, "crashy")
    await producer.init()
    await producer.add("data", 0, 1)
    await producer.produce("data", 0, 3)
    await producer.produce("data", 1, 2)
    add = AddOffsetsToTxnRequest(
        transactional_id="crashy",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        group_id="crash-group",
    )
    assert (await call_handler(broker, add, 3)).error_code == NONE
    commit = TxnOffsetCommitRequest(
        transactional_id="crashy",
        group_id="crash-group",
        producer_id=producer.producer_id,
        producer_epoch=producer.producer_epoch,
        topics=[
            TxnOffsetCommitRequestTopic(
                name="data",
                partitions=[TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=3)],
            )
        ],
    )
    assert (await call_handler(broker, commit, 3)).topics[0].partitions[0].error_code == NONE

    real = broker.txn.write_markers

    def one_then_crash(pid: int, epoch: int, done: bool, parts: Iterable[Any]) -> set[Any]:
        first, *_ = sorted(parts)
        real(pid, epoch, done, [first])  # one marker lands, then the process dies
        raise SimulatedCrash

    broker.txn.write_markers = one_then_crash
    with pytest.raises(SimulatedCrash):
        await producer.end(commit=True)
    await _crash(broker)

    again = await make_broker()
    assert again.txn.transactions["crashy"].state == TxnState.COMPLETE_COMMIT
    for partition, count in ((0, 3), (1, 2)):
        read = await fetch(again, "data", partition, committed=True)
        assert read.last_stable_offset == read.high_watermark
        assert read.aborted_transactions == []
        data = [h for h in iter_batches(read.records) if not h.is_control]
        assert sum(h.records_count for h in data) == count
    fetched = await call_handler(
        again,
        OffsetFetchRequest(
            group_id="crash-group",
            topics=[OffsetFetchRequestTopic(name="data", partition_indexes=[0])],
            require_stable=True,
        ),
        7,
    )
    part = fetched.topics[0].partitions[0]
    assert (part.committed_offset, part.error_code) == (3, NONE)
    producer.broker = again  # the client retries EndTxn, whose answer was lost
    assert await producer.end(commit=True) == NONE
