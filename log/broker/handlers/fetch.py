"""Fetch (key 1, v4-12): whole batches from segment files, with long polling.

Sessionless: ``session_id`` is always 0, so every client sends full fetches
(a request naming a session gets FETCH_SESSION_ID_NOT_FOUND). Records are
never null (KAFKA-18646): an empty partition gets ``b""``. Budget as in
Kafka (KIP-74): ``max_bytes`` for the response and ``partition_max_bytes``
per partition, but the first partition with data returns at least one whole
batch even if it is larger. Reads stop at the high watermark, or under
``read_committed`` at the last stable offset (the first offset of the oldest
open transaction, else the high watermark), with ``aborted_transactions``
listing the aborted transactions that overlap the fetched range (from the
partition's ``.txnindex``) so the consumer can drop their records; null
under ``read_uncommitted``.

Long poll: with fewer than ``min_bytes`` readable and no partition error,
the handler waits on the broker's ``AppendWaiters`` until an append to one of
its partitions or ``max_wait_ms``, and reads again.

A range of at least ``broker.sendfile_min_bytes`` goes into the response as
a :class:`SegmentChunk`, which the server writes with ``sendfile``; smaller
ones are read into memory (see ``_sendfile.py`` for the measurements).
"""

from __future__ import annotations

import asyncio

from tidal.log.broker._broker import LEADER_EPOCH, Broker
from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import error_response_for
from tidal.log.broker._sendfile import SegmentChunk
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import FetchRequest, FetchResponse
from tidal.log.protocol.messages.fetch import (
    READ_COMMITTED,
    AbortedTransaction,
    FetchableTopicResponse,
    FetchPartition,
    PartitionData,
)
from tidal.log.storage import OffsetOutOfRangeError

__all__ = ["fetch"]

OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
FETCH_SESSION_ID_NOT_FOUND = 70
UNKNOWN_LEADER_EPOCH = 75


def _failed_partition(index: int, code: int) -> PartitionData:
    return PartitionData(
        partition_index=index,
        error_code=code,
        high_watermark=-1,
        last_stable_offset=-1,
        log_start_offset=-1,
        records=b"",
    )


class _Read:
    """One pass over the requested partitions."""

    def __init__(self, broker: Broker, request: FetchRequest) -> None:
        self.broker = broker
        self.committed = request.isolation_level == READ_COMMITTED
        self.budget = request.max_bytes
        self.readable = 0
        self.errors = False
        self.first = True

    def partition(self, topic: str, wanted: FetchPartition) -> PartitionData:
        index = wanted.partition
        log = self.broker.partition_log(topic, index)
        if log is None:
            self.errors = True
            return _failed_partition(index, UNKNOWN_TOPIC_OR_PARTITION)
        if wanted.current_leader_epoch > LEADER_EPOCH:
            self.errors = True
            return _failed_partition(index, UNKNOWN_LEADER_EPOCH)
        high_watermark = log.high_watermark
        stable = self.broker.last_stable_offset(topic, index, log)
        data = PartitionData(
            partition_index=index,
            high_watermark=high_watermark,
            last_stable_offset=stable,
            log_start_offset=log.log_start_offset,
            aborted_transactions=[] if self.committed else None,
            records=b"",
        )
        if self.budget <= 0 and not self.first:
            return data
        limit = min(wanted.partition_max_bytes, max(self.budget, 0))
        try:
            rng = log.read(
                wanted.fetch_offset,
                limit,
                max_offset=stable if self.committed else high_watermark,
                min_one_batch=self.first,
            )
        except OffsetOutOfRangeError:
            self.errors = True
            return _failed_partition(index, OFFSET_OUT_OF_RANGE)
        if rng.length:
            self.first = False
            self.budget -= rng.length
            self.readable += rng.length
            threshold = self.broker.sendfile_min_bytes
            if self.committed:
                data.aborted_transactions = [
                    AbortedTransaction(producer_id=t.producer_id, first_offset=t.first_offset)
                    for t in log.txn_index.collect(wanted.fetch_offset, stable)
                ]
            if threshold is not None and rng.length >= threshold:
                data.records = SegmentChunk(rng)  # type: ignore[assignment]
            else:
                data.records = rng.read_bytes()
        return data

    def response(self, request: FetchRequest) -> FetchResponse:
        return FetchResponse(
            responses=[
                FetchableTopicResponse(
                    topic=t.topic, partitions=[self.partition(t.topic, p) for p in t.partitions]
                )
                for t in request.topics
            ]
        )


@handles(FetchRequest)
async def fetch(ctx: RequestContext, request: FetchRequest) -> FetchResponse:
    """Read every requested partition, waiting up to ``max_wait_ms`` for ``min_bytes``."""
    if request.session_id != 0:
        return FetchResponse(error_code=FETCH_SESSION_ID_NOT_FOUND, responses=[])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(request.max_wait_ms, 0) / 1000
    broker = ctx.broker
    while True:
        read = _Read(broker, request)
        response = read.response(request)
        remaining = deadline - loop.time()
        if read.readable >= request.min_bytes or read.errors or remaining <= 0:
            return response
        keys = [(t.topic, p.partition) for t in request.topics for p in t.partitions]
        if not keys:
            return response
        if not await broker.appends.wait(keys, remaining):
            return response  # nothing was appended: the read still holds


@error_response_for(FetchRequest)
def _failed(request: FetchRequest, version: int, code: int) -> FetchResponse:
    return FetchResponse(
        error_code=code if version >= 7 else 0,
        responses=[
            FetchableTopicResponse(
                topic=t.topic,
                partitions=[_failed_partition(p.partition, code) for p in t.partitions],
            )
            for t in request.topics
        ],
    )
