"""Plain OffsetCommit and transactional TxnOffsetCommit for the same partition.

Kafka's ``GroupMetadata.completePendingTxnOffsetCommit``: at the COMMIT
marker a transaction's offset replaces the committed one only if its record
was appended after that one's, so a plain commit written while the
transaction was open wins. Loading ``__consumer_offsets`` gives the same.
"""

from __future__ import annotations

from typing import Any

from tidal.log.broker.group import (
    MemoryOffsetsStorage,
    OffsetCommitArgs,
    OffsetCommitPartition,
    TopicPartitions,
    TxnOffsetCommitArgs,
    errors,
)

Harness = Any  # conftest.Harness; test modules cannot import conftest
TP = ("orders", 0)
OTHER = ("orders", 1)
PID, EPOCH = 7000, 0


async def txn_commit(h: Harness, offsets: dict[tuple[str, int], int], pid: int = PID) -> None:
    by_topic: dict[str, list[OffsetCommitPartition]] = {}
    for (topic, partition), offset in offsets.items():
        by_topic.setdefault(topic, []).append(OffsetCommitPartition(partition, offset))
    args = OffsetCommitArgs(h.GROUP, [TopicPartitions(t, p) for t, p in by_topic.items()])
    result = await h.coordinator.commit_txn_offsets(TxnOffsetCommitArgs(args, pid, EPOCH))
    assert all(p.error_code == errors.NONE for t in result for p in t.partitions)


def end_txn(h: Harness, commit: bool, pid: int = PID) -> None:
    partition = h.coordinator.partition_for(h.GROUP)
    h.coordinator.complete_txn(partition, pid, EPOCH, commit)


async def test_a_later_plain_commit_wins_over_the_transaction(h: Harness) -> None:
    assert await h.commit({TP: 5}) == {TP: errors.NONE}
    await txn_commit(h, {TP: 10, OTHER: 20})
    assert await h.commit({TP: 7}) == {TP: errors.NONE}  # after the transaction's record

    end_txn(h, commit=True)

    assert await h.fetch() == {TP: 7, OTHER: 20}


async def test_the_transaction_wins_over_an_earlier_plain_commit(h: Harness) -> None:
    assert await h.commit({TP: 5}) == {TP: errors.NONE}
    await txn_commit(h, {TP: 10})
    end_txn(h, commit=True)
    assert await h.fetch() == {TP: 10}
    # And a plain commit after the marker replaces it as usual.
    assert await h.commit({TP: 3}) == {TP: errors.NONE}
    assert await h.fetch() == {TP: 3}


async def test_an_aborted_transaction_leaves_the_plain_commit(h: Harness) -> None:
    await txn_commit(h, {TP: 10})
    assert await h.commit({TP: 7}) == {TP: errors.NONE}
    end_txn(h, commit=False)
    assert await h.fetch() == {TP: 7}


async def test_loading_keeps_the_later_plain_commit(make_h: Any) -> None:
    storage = MemoryOffsetsStorage()
    h = await make_h(storage=storage)
    await txn_commit(h, {TP: 10, OTHER: 20})
    assert await h.commit({TP: 7}) == {TP: errors.NONE}
    end_txn(h, commit=True)
    h.coordinator.close()

    again = await make_h(storage=storage)

    assert await again.fetch() == {TP: 7, OTHER: 20}


async def test_a_transaction_open_at_load_is_ordered_against_later_commits(make_h: Any) -> None:
    storage = MemoryOffsetsStorage()
    h = await make_h(storage=storage)
    await txn_commit(h, {TP: 10}, pid=PID)
    await txn_commit(h, {OTHER: 30}, pid=PID + 1)
    h.coordinator.close()

    again = await make_h(storage=storage)
    # Written after the reloaded transactional records, so newer than them.
    assert await again.commit({TP: 7}) == {TP: errors.NONE}
    end_txn(again, commit=True, pid=PID)
    assert await again.fetch() == {TP: 7}
    # The other transaction's offset is newer than nothing committed yet.
    end_txn(again, commit=True, pid=PID + 1)
    assert await again.fetch() == {TP: 7, OTHER: 30}
    # A transaction started after the load is newer than the plain commit.
    await txn_commit(again, {TP: 12}, pid=PID + 2)
    end_txn(again, commit=True, pid=PID + 2)
    assert await again.fetch() == {TP: 12, OTHER: 30}
    again.coordinator.close()

    third = await make_h(storage=storage)
    assert await third.fetch() == {TP: 12, OTHER: 30}
