"""How the transactional producer reads each error code: answers from the
embedded broker with error codes put in front of them (retried, abortable,
fatal), and calls that run out of ``max_block_ms`` and are made again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import KafkaTimeoutError, TopicPartition
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import (
    Producer,
    TransactionAbortableError,
    TransactionState,
)
from tidal.log.protocol import Request
from tidal.log.protocol.errors import (
    GroupAuthorizationFailedError,
    TransactionalIdAuthorizationFailedError,
)
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    EndTxnRequest,
    EndTxnResponse,
    InitProducerIdRequest,
    InitProducerIdResponse,
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

from .test_transactions import read_all

CONCURRENT_TRANSACTIONS, COORDINATOR_LOADING, NOT_COORDINATOR = 51, 14, 16


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 1}) as b:
        yield b


def _answer(api: type[Request], code: int, request: Any) -> Any:
    """The response of ``api`` with error ``code`` where the code goes."""
    if api is AddPartitionsToTxnRequest:
        return AddPartitionsToTxnResponse(
            results_by_topic_v3_and_below=[
                AddPartitionsToTxnTopicResult(
                    name=t.name,
                    results_by_partition=[
                        AddPartitionsToTxnPartitionResult(
                            partition_index=p, partition_error_code=code
                        )
                        for p in t.partitions
                    ],
                )
                for t in request.v3_and_below_topics
            ]
        )
    if api is TxnOffsetCommitRequest:
        return TxnOffsetCommitResponse(
            topics=[
                TxnOffsetCommitResponseTopic(
                    name=t.name,
                    partitions=[
                        TxnOffsetCommitResponsePartition(
                            partition_index=p.partition_index, error_code=code
                        )
                        for p in t.partitions
                    ],
                )
                for t in request.topics
            ]
        )
    simple = {
        InitProducerIdRequest: InitProducerIdResponse,
        AddOffsetsToTxnRequest: AddOffsetsToTxnResponse,
        EndTxnRequest: EndTxnResponse,
    }
    return simple[api](error_code=code)


class Faults:
    """Answers the next requests of an api with the given error codes
    instead of sending them (``calls`` counts every request by api)."""

    def __init__(self, producer: Producer) -> None:
        self.codes: dict[type[Request], list[int]] = {}
        self.calls: dict[type[Request], int] = {}
        kernel = producer.kernel
        original = kernel.send

        async def send(node: int, api: type[Request], builder: Any = None, **kw: Any) -> Any:
            self.calls[api] = self.calls.get(api, 0) + 1
            queued = self.codes.get(api)
            if queued:
                request = builder(3) if callable(builder) else builder
                return _answer(api, queued.pop(0), request)
            return await original(node, api, builder, **kw)

        kernel.send = send  # type: ignore[method-assign]


async def test_retriable_codes_are_retried(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bs) as admin:
        await admin.create_topics([NewTopic("in", 1, 1)])
    async with Producer(bootstrap_servers=bs, transactional_id="r", retry_backoff_ms=10) as p:
        faults = Faults(p)
        faults.codes = {
            InitProducerIdRequest: [CONCURRENT_TRANSACTIONS, COORDINATOR_LOADING, NOT_COORDINATOR],
            AddPartitionsToTxnRequest: [CONCURRENT_TRANSACTIONS, NOT_COORDINATOR],
            AddOffsetsToTxnRequest: [CONCURRENT_TRANSACTIONS],
            TxnOffsetCommitRequest: [COORDINATOR_LOADING, NOT_COORDINATOR],
            EndTxnRequest: [CONCURRENT_TRANSACTIONS, NOT_COORDINATOR],
        }
        await p.init_transactions()
        p.begin_transaction()
        await p.send("t", "kept", partition=0)
        await p.send_offsets_to_transaction({TopicPartition("in", 0): 3}, "g")
        await p.commit_transaction()
        assert all(not codes for codes in faults.codes.values())
        assert faults.calls[InitProducerIdRequest] == 4
        assert faults.calls[AddPartitionsToTxnRequest] == 3
        assert faults.calls[EndTxnRequest] == 3
    assert await read_all(bs, "t", "read_committed", partitions=1) == [b"kept"]
    async with Consumer(bootstrap_servers=bs, group_id="g") as c:
        tp = TopicPartition("in", 0)
        assert (await c.committed([tp]))[tp] is not None


async def test_an_abortable_code_needs_an_abort(broker: EmbeddedBroker) -> None:
    bs = broker.bootstrap_servers
    async with Producer(bootstrap_servers=bs, transactional_id="a") as p:
        faults = Faults(p)
        await p.init_transactions()
        p.begin_transaction()
        await p.send("t", "dropped", partition=0)
        faults.codes = {AddOffsetsToTxnRequest: [GroupAuthorizationFailedError.code]}
        with pytest.raises(TransactionAbortableError) as info:
            await p.send_offsets_to_transaction({TopicPartition("t", 0): 1}, "g")
        assert isinstance(info.value.__cause__, GroupAuthorizationFailedError)
        with pytest.raises(TransactionAbortableError):
            await p.commit_transaction()
        bumps_before = faults.calls[InitProducerIdRequest]
        await p.abort_transaction()
        assert faults.calls[InitProducerIdRequest] == bumps_before + 1  # the epoch bump
        p.begin_transaction()
        await p.send("t", "kept", partition=0)
        await p.commit_transaction()
    assert await read_all(bs, "t", "read_committed", partitions=1) == [b"kept"]


async def test_a_fatal_code_ends_the_producer(broker: EmbeddedBroker) -> None:
    async with Producer(bootstrap_servers=broker.bootstrap_servers, transactional_id="f") as p:
        faults = Faults(p)
        await p.init_transactions()
        p.begin_transaction()
        await p.send("t", "x", partition=0)
        faults.codes = {EndTxnRequest: [TransactionalIdAuthorizationFailedError.code]}
        with pytest.raises(TransactionalIdAuthorizationFailedError):
            await p.commit_transaction()
        assert p.transaction_state is TransactionState.FATAL_ERROR
        with pytest.raises(TransactionalIdAuthorizationFailedError):
            await p.abort_transaction()


async def test_a_call_out_of_time_can_be_made_again(broker: EmbeddedBroker) -> None:
    async with Producer(
        bootstrap_servers=broker.bootstrap_servers,
        transactional_id="slow",
        max_block_ms=300,
        retry_backoff_ms=20,
    ) as p:
        faults = Faults(p)
        faults.codes = {InitProducerIdRequest: [CONCURRENT_TRANSACTIONS] * 1000}
        with pytest.raises(KafkaTimeoutError):
            await p.init_transactions()
        assert p.transaction_state is TransactionState.INITIALIZING
        faults.codes.clear()
        await p.init_transactions()
        p.begin_transaction()
        await p.send("t", "x", partition=0)
        faults.codes = {EndTxnRequest: [CONCURRENT_TRANSACTIONS] * 1000}
        with pytest.raises(KafkaTimeoutError):
            await p.commit_transaction()
        assert p.transaction_state is TransactionState.COMMITTING
        faults.codes.clear()
        await p.commit_transaction()
        assert p.transaction_state is TransactionState.READY
    assert await read_all(broker.bootstrap_servers, "t", "read_committed", partitions=1) == [b"x"]
