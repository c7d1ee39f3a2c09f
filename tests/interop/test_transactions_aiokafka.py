"""aiokafka transactions against a Tidal broker.

aiokafka sends every transaction API at v0 (AddPartitionsToTxn,
AddOffsetsToTxn, EndTxn, TxnOffsetCommit) and filters aborted records in
its own fetcher from Fetch's aborted-transactions list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

aiokafka = pytest.importorskip("aiokafka", reason="aiokafka is not installed: pip install aiokafka")

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402

from tidal.log.broker import EmbeddedBroker  # noqa: E402

TOPIC = "aio-txn"


async def read(bootstrap: str, isolation: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(TOPIC, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        values: list[bytes] = []
        for _ in range(50):
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                values += [m.value for m in messages]
            if await consumer.position(tp) >= end:
                break
        return values
    finally:
        await consumer.stop()


async def test_commit_abort_and_offsets(tmp_path: Path) -> None:
    async with EmbeddedBroker(tmp_path, {"num.partitions": 1}) as broker:
        bootstrap = broker.bootstrap_servers
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio-app")
        await producer.start()
        try:
            async with producer.transaction():
                for i in range(5):
                    await producer.send(TOPIC, b"committed-%d" % i)
            await producer.begin_transaction()
            for i in range(4):
                await producer.send(TOPIC, b"aborted-%d" % i)
            await producer.abort_transaction()
            async with producer.transaction():
                offsets = {TopicPartition(TOPIC, 0): 3}
                await producer.send_offsets_to_transaction(offsets, "aio-group")
        finally:
            await producer.stop()

        assert await read(bootstrap, "read_committed") == [b"committed-%d" % i for i in range(5)]
        assert len(await read(bootstrap, "read_uncommitted")) == 9
        check = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="aio-group")
        await check.start()
        try:
            assert await check.committed(TopicPartition(TOPIC, 0)) == 3
        finally:
            await check.stop()
