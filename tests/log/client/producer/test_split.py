"""A batch the broker refuses with MESSAGE_TOO_LARGE is split and sent again
(Java's producer does the same); only a lone record still too large fails."""

from __future__ import annotations

import asyncio

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer
from tidal.log.client.producer._batch import ProducerBatch
from tidal.log.protocol.errors import MessageTooLargeError
from tidal.log.records import Compression, decode_batch


async def _topic(bootstrap: str, name: str, max_message_bytes: int) -> None:
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        config = {"max.message.bytes": str(max_message_bytes)}
        await admin.create_topics([NewTopic(name, 1, 1, config)])


async def _read(bootstrap: str, topic: str, count: int) -> list[tuple[int, bytes | None]]:
    got: list[tuple[int, bytes | None]] = []
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        while len(got) < count:
            batch = await consumer.getmany(timeout_ms=5_000)
            assert batch, f"only {len(got)} of {count} records came back"
            for records in batch.values():
                got += [(r.offset, r.value) for r in records]
    return got


@pytest.mark.parametrize("acks", ["all", "1"])
async def test_a_batch_too_large_for_the_topic_is_split(broker: EmbeddedBroker, acks: str) -> None:
    bootstrap = broker.bootstrap_servers
    await _topic(bootstrap, "small-batches", 2_000)
    values = [b"%03d" % i + b"v" * 297 for i in range(40)]  # 40 x 300 B: one 12 KB batch
    async with Producer(
        bootstrap_servers=bootstrap, acks=acks, linger_ms=100, batch_size=64_000
    ) as p:
        futures = [await p.send("small-batches", v, partition=0) for v in values]
        await p.flush()
        assert len({f.batch for f in futures}) == 1
        metadata = [await f for f in futures]
    assert [m.offset for m in metadata] == list(range(40))
    assert await _read(bootstrap, "small-batches", 40) == list(enumerate(values))


async def test_a_record_too_large_alone_fails_without_its_neighbours(
    broker: EmbeddedBroker,
) -> None:
    bootstrap = broker.bootstrap_servers
    await _topic(bootstrap, "one-too-big", 1_000)
    values = [b"a" * 300, b"b" * 300, b"c" * 1_500, b"d" * 300]
    async with Producer(bootstrap_servers=bootstrap, linger_ms=100) as p:
        futures = [await p.send("one-too-big", v, partition=0) for v in values]
        results = await asyncio.gather(*futures, return_exceptions=True)
        after = await p.send_and_wait("one-too-big", b"e")  # the sequence carried on
    assert isinstance(results[2], MessageTooLargeError)
    assert [r.offset for r in results if not isinstance(r, BaseException)] == [0, 1, 2]
    assert after.offset == 3
    expected = [(0, values[0]), (1, values[1]), (2, values[3]), (3, b"e")]
    assert await _read(bootstrap, "one-too-big", 4) == expected


async def test_split_halves_keep_the_sequences_and_answer_for_their_records() -> None:
    batch = ProducerBatch(TopicPartition("t", 0), 5.0)
    futures = [batch.append(None, b"v%d" % i, 100 + i, (), 30) for i in range(5)]
    batch.set_producer(7, 2, 2**31 - 2)  # the second half's sequence wraps
    first, second = batch.split()
    assert (first.values, second.values) == ([b"v0", b"v1"], [b"v2", b"v3", b"v4"])
    assert (first.created, second.created) == (5.0, 5.0)
    headers = [decode_batch(b.encode(Compression.NONE)).header for b in (first, second)]
    assert [(h.producer_id, h.producer_epoch, h.base_sequence) for h in headers] == [
        (7, 2, 2**31 - 2),
        (7, 2, 0),
    ]
    second.complete(50, -1)
    assert not batch.done.done()
    first.fail(MessageTooLargeError("still too large"))
    await asyncio.sleep(0)
    assert batch.done.done()
    assert [f.exception() is not None for f in futures] == [True, True, False, False, False]
    assert [(await f).offset for f in futures[2:]] == [50, 51, 52]
    with pytest.raises(MessageTooLargeError):
        await futures[0]
