"""Transactional requests of the producer, built and read without I/O.

One builder per request of transaction protocol V1 (AddPartitionsToTxn
v0-3, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, InitProducerId with a
transactional id), plus the functions that pick a response's error codes.
The transaction manager sends them to the right coordinator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.producer._idempotence import IdempotenceState
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    EndTxnRequest,
    InitProducerIdRequest,
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)
from tidal.log.protocol.messages.add_partitions_to_txn import AddPartitionsToTxnTopic
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitRequestPartition,
    TxnOffsetCommitRequestTopic,
)

__all__ = [
    "add_offsets",
    "add_partitions",
    "add_partitions_results",
    "end_txn",
    "init_producer_id",
    "txn_offset_commit",
    "txn_offset_commit_code",
]


def init_producer_id(
    transactional_id: str, timeout_ms: int, state: IdempotenceState, *, bump: bool
) -> Callable[[int], InitProducerIdRequest]:
    """InitProducerId for ``transactional_id``; with ``bump`` (from v3) it
    names the current id and epoch, so the coordinator bumps that epoch and
    refuses (PRODUCER_FENCED) if another instance already has (KIP-360)."""

    def build(version: int) -> InitProducerIdRequest:
        if bump and version >= 3 and state.has_producer_id:
            return InitProducerIdRequest(
                transactional_id=transactional_id,
                transaction_timeout_ms=timeout_ms,
                producer_id=state.producer_id,
                producer_epoch=state.producer_epoch,
            )
        return InitProducerIdRequest(
            transactional_id=transactional_id, transaction_timeout_ms=timeout_ms
        )

    return build


def add_partitions(
    transactional_id: str, state: IdempotenceState, partitions: Iterable[TopicPartition]
) -> AddPartitionsToTxnRequest:
    """AddPartitionsToTxn v0-3 (the client versions) for ``partitions``."""
    by_topic: dict[str, list[int]] = defaultdict(list)
    for tp in partitions:
        by_topic[tp.topic].append(tp.partition)
    return AddPartitionsToTxnRequest(
        v3_and_below_transactional_id=transactional_id,
        v3_and_below_producer_id=state.producer_id,
        v3_and_below_producer_epoch=state.producer_epoch,
        v3_and_below_topics=[
            AddPartitionsToTxnTopic(name=t, partitions=sorted(ps)) for t, ps in by_topic.items()
        ],
    )


def add_partitions_results(response: AddPartitionsToTxnResponse) -> dict[TopicPartition, int]:
    """The error code of each partition in an AddPartitionsToTxn answer."""
    return {
        TopicPartition(t.name, p.partition_index): p.partition_error_code
        for t in response.results_by_topic_v3_and_below
        for p in t.results_by_partition
    }


def add_offsets(
    transactional_id: str, state: IdempotenceState, group_id: str
) -> AddOffsetsToTxnRequest:
    """AddOffsetsToTxn: put the group's offsets partition in the transaction."""
    return AddOffsetsToTxnRequest(
        transactional_id=transactional_id,
        producer_id=state.producer_id,
        producer_epoch=state.producer_epoch,
        group_id=group_id,
    )


def txn_offset_commit(
    transactional_id: str,
    state: IdempotenceState,
    offsets: Mapping[TopicPartition, OffsetAndMetadata],
    group: ConsumerGroupMetadata,
) -> TxnOffsetCommitRequest:
    """TxnOffsetCommit of ``offsets`` for ``group`` (its generation, member
    and instance id go out from v3, where the coordinator fences with them)."""
    by_topic: dict[str, list[TxnOffsetCommitRequestPartition]] = defaultdict(list)
    for tp, om in offsets.items():
        by_topic[tp.topic].append(
            TxnOffsetCommitRequestPartition(
                partition_index=tp.partition,
                committed_offset=om.offset,
                committed_leader_epoch=om.leader_epoch if om.leader_epoch is not None else -1,
                committed_metadata=om.metadata,
            )
        )
    return TxnOffsetCommitRequest(
        transactional_id=transactional_id,
        group_id=group.group_id,
        producer_id=state.producer_id,
        producer_epoch=state.producer_epoch,
        generation_id=group.generation_id,
        member_id=group.member_id,
        group_instance_id=group.group_instance_id,
        topics=[TxnOffsetCommitRequestTopic(name=t, partitions=ps) for t, ps in by_topic.items()],
    )


def txn_offset_commit_code(response: TxnOffsetCommitResponse) -> int:
    """The first partition error of a TxnOffsetCommit answer (0: none)."""
    return next((p.error_code for t in response.topics for p in t.partitions if p.error_code), 0)


def end_txn(transactional_id: str, state: IdempotenceState, *, committed: bool) -> EndTxnRequest:
    """EndTxn: commit or abort the producer's transaction."""
    return EndTxnRequest(
        transactional_id=transactional_id,
        producer_id=state.producer_id,
        producer_epoch=state.producer_epoch,
        committed=committed,
    )
