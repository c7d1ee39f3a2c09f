"""The transactional producer's requests: AddPartitionsToTxn (24, v0-3),
AddOffsetsToTxn (25, v0-3), EndTxn (26, v0-4) and TxnOffsetCommit (28, v0-4).

The first three go to the transaction coordinator (``tidal.log.broker.txn``);
TxnOffsetCommit goes to the group coordinator, which keeps the offsets
pending until the transaction's marker, after a check that the producer
still owns its transactional id (a fenced producer's offsets never land).
AddPartitionsToTxn v4+ is the broker-to-broker verification form no client
sends, so it is not advertised.
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker.group import (
    OFFSETS_TOPIC,
    OffsetCommitArgs,
    OffsetCommitPartition,
    TopicPartitions,
    TxnOffsetCommitArgs,
)
from tidal.log.broker.handlers import handles
from tidal.log.broker.txn import fenced_error
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    EndTxnRequest,
    EndTxnResponse,
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)
from tidal.log.protocol.messages.add_partitions_to_txn import (
    AddPartitionsToTxnPartitionResult,
    AddPartitionsToTxnTopicResult,
)
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitResponsePartition,
    TxnOffsetCommitResponseTopic,
)

__all__ = ["add_offsets_to_txn", "add_partitions_to_txn", "end_txn", "txn_offset_commit"]

NONE = 0


def _partition_results(
    request: AddPartitionsToTxnRequest, codes: dict[tuple[str, int], int]
) -> list[AddPartitionsToTxnTopicResult]:
    return [
        AddPartitionsToTxnTopicResult(
            name=topic.name,
            results_by_partition=[
                AddPartitionsToTxnPartitionResult(
                    partition_index=p, partition_error_code=codes[(topic.name, p)]
                )
                for p in dict.fromkeys(topic.partitions)
            ],
        )
        for topic in request.v3_and_below_topics
    ]


@handles(AddPartitionsToTxnRequest)
async def add_partitions_to_txn(
    ctx: RequestContext, request: AddPartitionsToTxnRequest
) -> AddPartitionsToTxnResponse:
    """Add partitions to the producer's transaction; an error per partition."""
    partitions = [(t.name, p) for t in request.v3_and_below_topics for p in t.partitions]
    codes = ctx.broker.txn.add_partitions(
        request.v3_and_below_transactional_id,
        request.v3_and_below_producer_id,
        request.v3_and_below_producer_epoch,
        partitions,
        version=ctx.api_version,
    )
    return AddPartitionsToTxnResponse(
        results_by_topic_v3_and_below=_partition_results(request, codes)
    )


@error_response_for(AddPartitionsToTxnRequest)
def _add_partitions_failed(
    request: AddPartitionsToTxnRequest, version: int, code: int
) -> AddPartitionsToTxnResponse:
    codes = {(t.name, p): code for t in request.v3_and_below_topics for p in t.partitions}
    return AddPartitionsToTxnResponse(
        error_code=code, results_by_topic_v3_and_below=_partition_results(request, codes)
    )


@handles(AddOffsetsToTxnRequest)
async def add_offsets_to_txn(
    ctx: RequestContext, request: AddOffsetsToTxnRequest
) -> AddOffsetsToTxnResponse:
    """Add the group's ``__consumer_offsets`` partition to the transaction."""
    broker = ctx.broker
    partition = broker.groups.partition_for(request.group_id)
    error = broker.txn.add_offsets(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        (OFFSETS_TOPIC, partition),
        version=ctx.api_version,
    )
    return AddOffsetsToTxnResponse(error_code=error)


@error_response_for(AddOffsetsToTxnRequest)
def _add_offsets_failed(
    request: AddOffsetsToTxnRequest, version: int, code: int
) -> AddOffsetsToTxnResponse:
    return AddOffsetsToTxnResponse(error_code=code)


@handles(EndTxnRequest)
async def end_txn(ctx: RequestContext, request: EndTxnRequest) -> EndTxnResponse:
    """Commit or abort the producer's transaction."""
    error = ctx.broker.txn.end_txn(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.committed,
        version=ctx.api_version,
    )
    return EndTxnResponse(error_code=error)


@error_response_for(EndTxnRequest)
def _end_txn_failed(request: EndTxnRequest, version: int, code: int) -> EndTxnResponse:
    return EndTxnResponse(error_code=code)


def _offset_results(
    request: TxnOffsetCommitRequest, codes: dict[tuple[str, int], int]
) -> list[TxnOffsetCommitResponseTopic]:
    return [
        TxnOffsetCommitResponseTopic(
            name=t.name,
            partitions=[
                TxnOffsetCommitResponsePartition(
                    partition_index=p.partition_index, error_code=codes[(t.name, p.partition_index)]
                )
                for p in t.partitions
            ],
        )
        for t in request.topics
    ]


@handles(TxnOffsetCommitRequest)
async def txn_offset_commit(
    ctx: RequestContext, request: TxnOffsetCommitRequest
) -> TxnOffsetCommitResponse:
    """Commit offsets inside the producer's transaction (pending until its marker)."""
    broker = ctx.broker
    fenced = fenced_error(ctx.api_version, 3)
    error, _ = broker.txn.check_producer(
        request.transactional_id, request.producer_id, request.producer_epoch, fenced
    )
    if error != NONE:
        codes = {(t.name, p.partition_index): error for t in request.topics for p in t.partitions}
        return TxnOffsetCommitResponse(topics=_offset_results(request, codes))
    args = TxnOffsetCommitArgs(
        OffsetCommitArgs(
            group_id=request.group_id,
            topics=[
                TopicPartitions(
                    t.name,
                    [
                        OffsetCommitPartition(
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            p.committed_metadata,
                        )
                        for p in t.partitions
                    ],
                )
                for t in request.topics
            ],
            generation_id=request.generation_id,
            member_id=request.member_id,
            group_instance_id=request.group_instance_id,
        ),
        request.producer_id,
        request.producer_epoch,
    )
    result = await broker.groups.commit_txn_offsets(args)
    codes = {(t.name, p.partition_index): p.error_code for t in result for p in t.partitions}
    return TxnOffsetCommitResponse(topics=_offset_results(request, codes))


@error_response_for(TxnOffsetCommitRequest)
def _txn_offset_commit_failed(
    request: TxnOffsetCommitRequest, version: int, code: int
) -> TxnOffsetCommitResponse:
    codes = {(t.name, p.partition_index): code for t in request.topics for p in t.partitions}
    return TxnOffsetCommitResponse(topics=_offset_results(request, codes))
