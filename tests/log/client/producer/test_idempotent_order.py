"""An idempotent producer keeps each partition in send order, without duplicates.

The broker accepts any first sequence from a producer id it holds no state
for (Kafka's ``checkSequence`` does too), so until a partition has acked a
batch of the producer's current epoch, a later batch reaching it before an
earlier one (a request overtaking others on the wire, or written while the
earlier one failed with a retriable error) would be appended first, and the
earlier ones re-sent after an epoch bump land behind it. Each test produces
keyed records through sockets to the embedded broker and reads every
partition back from the start.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.broker.handlers import produce as produce_handler
from tidal.log.broker.producer import InitProducerIdResult
from tidal.log.client import _kernel
from tidal.log.client._connection import BrokerConnection
from tidal.log.client._types import TopicPartition as ClientTopicPartition
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer, RecordFuture
from tidal.log.client.producer._idempotence import IdempotenceState
from tidal.log.protocol.errors import (
    CoordinatorLoadInProgressError,
    NotLeaderOrFollowerError,
    OutOfOrderSequenceNumberError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages.produce import PartitionProduceResponse

PARTITIONS = 4
KEYS = 50
OUT_OF_ORDER = OutOfOrderSequenceNumberError.code
INT32_MAX = 2**31 - 1


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": PARTITIONS}) as b:
        yield b


class ProduceAnswers:
    """Wraps the broker's per-partition append: counts its answers and can
    refuse the first attempts at a partition with a retriable error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[tuple[str, int], int] = defaultdict(int)
        self.codes: dict[int, int] = defaultdict(int)
        #: (topic, partition) -> (error code, which calls, 1-based) to refuse
        self.faults: dict[tuple[str, int], tuple[int, range]] = {}
        real = produce_handler.append_partition

        def append_partition(
            broker: Any, topic: str, index: int, records: bytes | None, **kw: Any
        ) -> PartitionProduceResponse:
            self.calls[topic, index] += 1
            fault = self.faults.get((topic, index))
            if fault is not None and self.calls[topic, index] in fault[1]:
                answer = PartitionProduceResponse(index=index, error_code=fault[0])
            else:
                answer = real(broker, topic, index, records, **kw)
            self.codes[answer.error_code] += 1
            return answer

        monkeypatch.setattr(produce_handler, "append_partition", append_partition)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> ProduceAnswers:
    return ProduceAnswers(monkeypatch)


async def produce(
    bootstrap: str, topics: list[str], count: int, **config: Any
) -> dict[tuple[str, int], list[int]]:
    """Send ``count`` keyed records to each topic, alternating; the values
    (send indexes) each partition got, in send order."""
    futures: list[tuple[str, int, RecordFuture]] = []
    async with Producer(bootstrap_servers=bootstrap, **config) as p:
        for i in range(count):
            for topic in topics:
                fut = await p.send(topic, str(i).encode(), b"k%d" % (i % KEYS))
                futures.append((topic, i, fut))
            if i % 500 == 0:
                await asyncio.sleep(0)
        await p.flush()
    sent: dict[tuple[str, int], list[int]] = defaultdict(list)
    for topic, i, fut in futures:
        sent[topic, fut.result().partition].append(i)
    return sent


async def read_back(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], list[int]]:
    """Every record of every partition of ``topics``, from offset 0, in offset order."""
    tps = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
    got: dict[tuple[str, int], list[int]] = defaultdict(list)
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as c:
        c.assign(tps)
        c.seek_to_beginning()
        ends = await c.end_offsets(tps)
        total, n = sum(ends.values()), 0
        deadline = time.monotonic() + 30
        while n < total and time.monotonic() < deadline:
            for tp, records in (await c.getmany(timeout_ms=500)).items():
                for r in records:
                    assert r.value is not None
                    got[tp.topic, tp.partition].append(int(r.value))
                    n += 1
    return got


def assert_in_send_order(
    sent: dict[tuple[str, int], list[int]], got: dict[tuple[str, int], list[int]]
) -> None:
    assert sorted(got) == sorted(sent)
    for tp, values in sent.items():
        written = got[tp]
        assert len(written) == len(set(written)), f"{tp}: duplicates"
        assert written == values, f"{tp}: not in send order"


def producer_epochs(broker: EmbeddedBroker, topics: list[str]) -> set[int]:
    """The epochs the partitions' producer state ended at."""
    return {
        entry.producer_epoch
        for t in topics
        for p in range(PARTITIONS)
        for entry in broker.broker.producer_state(t, p).producers.values()
    }


@pytest.fixture
def slow_handshakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections to the leader take a while to open, and requests waiting
    for one resume latest-first (each waiter's wake-up is up to the event
    loop): a sender must not rely on waiting requests going out in order."""
    real = _kernel.Kernel.connection
    waiting = itertools.count()

    async def connection(self: _kernel.Kernel, node_id: int) -> BrokerConnection:
        ready = self._conns.get(node_id)
        if node_id < 0 or (ready is not None and ready.connected):
            return await real(self, node_id)
        nth = next(waiting)
        conn = await real(self, node_id)
        await asyncio.sleep(max(0.0, 0.2 - 0.02 * nth))
        return conn

    monkeypatch.setattr(_kernel.Kernel, "connection", connection)


async def test_auto_created_topics_keep_send_order(
    broker: EmbeddedBroker, answers: ProduceAnswers
) -> None:
    topics = ["new-a", "new-b"]
    sent = await produce(broker.bootstrap_servers, topics, 20_000)
    assert_in_send_order(sent, await read_back(broker.bootstrap_servers, topics))
    assert answers.codes[OUT_OF_ORDER] == 0
    assert producer_epochs(broker, topics) == {0}


async def test_requests_overtaking_on_a_new_connection_keep_send_order(
    broker: EmbeddedBroker, answers: ProduceAnswers, slow_handshakes: None
) -> None:
    topics = ["new-a", "new-b"]
    sent = await produce(broker.bootstrap_servers, topics, 20_000)
    assert_in_send_order(sent, await read_back(broker.bootstrap_servers, topics))
    assert producer_epochs(broker, topics) == {0}


@pytest.mark.parametrize("code", [NotLeaderOrFollowerError.code, UnknownTopicOrPartitionError.code])
@pytest.mark.parametrize("refused", [range(1, 2), range(1, 4)])
async def test_retriable_errors_on_the_first_produces_keep_send_order(
    broker: EmbeddedBroker, answers: ProduceAnswers, code: int, refused: range
) -> None:
    """The first attempts at each partition are refused; batches sent behind
    them must not be written first."""
    topics = ["faulty"]
    for p in range(PARTITIONS):
        answers.faults["faulty", p] = (code, refused)
    sent = await produce(
        broker.bootstrap_servers,
        topics,
        20_000,
        max_in_flight_requests_per_connection=5,
        batch_size=4096,
        retry_backoff_ms=5,
    )
    assert_in_send_order(sent, await read_back(broker.bootstrap_servers, topics))
    assert all(answers.calls["faulty", p] > refused.stop for p in range(PARTITIONS))


@pytest.mark.parametrize("code", [NotLeaderOrFollowerError.code, UnknownTopicOrPartitionError.code])
async def test_retriable_errors_while_pipelining_keep_send_order(
    broker: EmbeddedBroker, answers: ProduceAnswers, code: int
) -> None:
    """Refusals once the partition knows the producer: the batches behind
    the refused one are answered OUT_OF_ORDER_SEQUENCE_NUMBER and retried in
    order, at the same epoch."""
    topics = ["busy"]
    for p in range(PARTITIONS):
        answers.faults["busy", p] = (code, range(4, 7))
    sent = await produce(
        broker.bootstrap_servers,
        topics,
        20_000,
        max_in_flight_requests_per_connection=5,
        batch_size=4096,
        retry_backoff_ms=5,
    )
    assert_in_send_order(sent, await read_back(broker.bootstrap_servers, topics))
    assert producer_epochs(broker, topics) == {0}


async def test_coordinator_loading_is_retried_quietly(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ids = broker.broker.producer_ids
    real = ids.init_producer_id
    loading = [3]

    def init_producer_id(*args: Any, **kwargs: Any) -> InitProducerIdResult:
        if loading[0] > 0:
            loading[0] -= 1
            return InitProducerIdResult(CoordinatorLoadInProgressError.code)
        return real(*args, **kwargs)

    monkeypatch.setattr(ids, "init_producer_id", init_producer_id)
    caplog.set_level(logging.INFO, logger="tidal.log.client.producer")
    async with Producer(bootstrap_servers=broker.bootstrap_servers, retry_backoff_ms=10) as p:
        fut = await p.send("loading", b"v", b"k", partition=0)
        await p.flush()
        assert (await fut).offset == 0
    assert loading == [0]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


def test_acknowledged_sequences_per_partition_and_epoch() -> None:
    state = IdempotenceState()
    tp = ClientTopicPartition("t", 0)
    state.set_producer(7, 0)
    assert not state.has_acked(tp)
    assert state.is_next(tp, 0)
    assert not state.is_behind(tp, 0)
    state.acknowledged(tp, 7, 0, 9)
    assert state.has_acked(tp)
    assert state.is_next(tp, 10)
    assert not state.is_next(tp, 20)
    assert state.is_behind(tp, 0)
    assert state.is_behind(tp, 9)
    assert not state.is_behind(tp, 10)
    state.acknowledged(tp, 7, 0, 4)  # older: ignored
    state.acknowledged(tp, 7, 1, 99)  # another epoch: ignored
    assert state.is_next(tp, 10)
    state.acknowledged(tp, 7, 0, 2**30)
    state.acknowledged(tp, 7, 0, INT32_MAX)  # wraps to 0 next
    assert state.is_next(tp, 0)
    assert not state.is_behind(tp, 0)
    state.acknowledged(tp, 7, 0, 3)
    assert state.is_next(tp, 4)
    assert state.is_behind(tp, INT32_MAX)
    state.set_producer(7, 1)  # a new epoch starts every partition afresh
    assert not state.has_acked(tp)
    assert state.is_next(tp, 0)
