"""A started broker over a temporary directory, and helpers that speak to it
through the wire codec the way a transactional producer does."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._context import RequestContext
from tidal.log.broker.handlers import registry
from tidal.log.protocol._schema import Request
from tidal.log.protocol.messages import (
    AddPartitionsToTxnRequest,
    EndTxnRequest,
    FetchRequest,
    InitProducerIdRequest,
    ProduceRequest,
)
from tidal.log.protocol.messages.add_partitions_to_txn import AddPartitionsToTxnTopic
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch, iter_batches

HANDLERS = registry()

BrokerFactory = Callable[..., Awaitable[Broker]]


async def call_handler(broker: Broker, request: Request, version: int) -> Any:
    """Run ``request`` through the codec and its handler at ``version``."""
    wire_request = type(request).decode(request.encode(version), version)
    ctx = RequestContext(
        broker=broker,
        api_key=type(request).api_key,
        api_version=version,
        correlation_id=1,
        client_id="txn-test",
        peer="127.0.0.1:50000",
        client_host="/127.0.0.1",
    )
    response = await HANDLERS[type(request).api_key](ctx, wire_request)
    return type(response).decode(response.encode(version), version)


@pytest.fixture
async def make_broker(tmp_path: Path) -> AsyncIterator[BrokerFactory]:
    """``await make_broker(data="name", **settings)``: a started broker; a
    second broker over the same ``data`` name is a restart."""
    started: list[Broker] = []

    async def make(data: str = "data", **settings: str) -> Broker:
        props = {
            "log.dirs": str(tmp_path / data),
            "num.partitions": "2",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.num.partitions": "3",
            "group.initial.rebalance.delay.ms": "0",
            **settings,
        }
        b = Broker(BrokerConfig(props))
        await b.start()
        started.append(b)
        return b

    yield make
    for b in started:
        if b._started:
            await b.stop()


@pytest.fixture
async def broker(make_broker: BrokerFactory) -> Broker:
    b = await make_broker()
    b.topics.create_topic("data", 2)
    return b


@dataclass
class TxnProducer:
    """A transactional producer driven request by request."""

    broker: Broker
    transactional_id: str
    producer_id: int = -1
    producer_epoch: int = -1
    sequence: int = 0

    async def init(self, timeout_ms: int = 60_000, version: int = 4) -> Any:
        response = await call_handler(
            self.broker,
            InitProducerIdRequest(
                transactional_id=self.transactional_id, transaction_timeout_ms=timeout_ms
            ),
            version,
        )
        if response.error_code == 0:
            self.producer_id, self.producer_epoch = response.producer_id, response.producer_epoch
            self.sequence = 0
        return response

    async def add(self, topic: str, *partitions: int, version: int = 3) -> dict[int, int]:
        response = await call_handler(
            self.broker,
            AddPartitionsToTxnRequest(
                v3_and_below_transactional_id=self.transactional_id,
                v3_and_below_producer_id=self.producer_id,
                v3_and_below_producer_epoch=self.producer_epoch,
                v3_and_below_topics=[
                    AddPartitionsToTxnTopic(name=topic, partitions=list(partitions))
                ],
            ),
            version,
        )
        return {
            r.partition_index: r.partition_error_code
            for t in response.results_by_topic_v3_and_below
            for r in t.results_by_partition
        }

    def batch(self, count: int) -> bytes:
        """The producer's next transactional batch of ``count`` records."""
        now = time.time_ns() // 1_000_000  # old timestamps would roll a segment per marker
        batch = encode_batch(
            [SimpleRecord(b"v%d" % i, key=b"k%d" % i, timestamp=now) for i in range(count)],
            producer_id=self.producer_id,
            producer_epoch=self.producer_epoch,
            base_sequence=self.sequence,
            is_transactional=True,
        )
        self.sequence += count
        return batch

    def plant_hanging(self, topic: str, partition: int, count: int) -> None:
        """Append a batch straight to the leader's log, as a broker without
        transaction verification (before Kafka 3.6) accepted one for a
        partition never added to the transaction: it hangs, since no marker
        will ever end it."""
        batch = self.batch(count)
        log = self.broker.partition_log(topic, partition)
        assert log is not None
        info = log.append(batch)
        self.broker.producer_state(topic, partition).on_log_append(iter_batches(batch), info)
        log.high_watermark = log.log_end_offset

    async def produce(self, topic: str, partition: int, count: int, version: int = 9) -> Any:
        batch = self.batch(count)
        request = ProduceRequest(
            transactional_id=self.transactional_id,
            acks=-1,
            timeout_ms=1000,
            topic_data=[
                TopicProduceData(
                    name=topic,
                    partition_data=[PartitionProduceData(index=partition, records=batch)],
                )
            ],
        )
        response = await call_handler(self.broker, request, version)
        return response.responses[0].partition_responses[0]

    async def end(self, commit: bool, version: int = 3) -> int:
        response = await call_handler(
            self.broker,
            EndTxnRequest(
                transactional_id=self.transactional_id,
                producer_id=self.producer_id,
                producer_epoch=self.producer_epoch,
                committed=commit,
            ),
            version,
        )
        return int(response.error_code)


async def fetch(broker: Broker, topic: str, partition: int, *, committed: bool) -> Any:
    """One Fetch v11 of ``topic``-``partition`` from offset 0."""
    request = FetchRequest(
        max_wait_ms=0,
        min_bytes=0,
        isolation_level=1 if committed else 0,
        topics=[
            FetchTopic(
                topic=topic,
                partitions=[
                    FetchPartition(partition=partition, fetch_offset=0, partition_max_bytes=1 << 20)
                ],
            )
        ],
    )
    response = await call_handler(broker, request, 11)
    return response.responses[0].partitions[0]
