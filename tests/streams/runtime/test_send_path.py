"""The runtime hands outputs and changelog records to the producer through
``try_send``, awaiting ``send`` only for a record it refuses: every record
reaches the producer once, in order, and an interrupted hand-over keeps what
the producer did not take."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import TopicPartition
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import Producer
from tidal.streams import StreamsError
from tidal.streams.runtime._processing import Processor


class Recorded:
    """A producer that refuses every ``refuse``-th ``try_send``, as one whose
    buffer is full would, and records what each method took."""

    def __init__(self, refuse: int, fail_send_at: int | None = None) -> None:
        self.refuse = refuse
        self.fail_send_at = fail_send_at
        self.calls = 0
        self.taken: list[tuple[str, str, Any, Any, dict[str, Any]]] = []

    def _future(self) -> Any:
        return SimpleNamespace(batch=object(), exception=lambda: None)

    def try_send(self, topic: str, value: Any = None, key: Any = None, **kw: Any) -> Any:
        self.calls += 1
        if self.calls % self.refuse == 0:
            return None
        self.taken.append(("try_send", topic, key, value, kw))
        return self._future()

    async def send(self, topic: str, value: Any = None, key: Any = None, **kw: Any) -> Any:
        await asyncio.sleep(0)
        if self.fail_send_at is not None and len(self.taken) >= self.fail_send_at:
            raise asyncio.CancelledError
        self.taken.append(("send", topic, key, value, kw))
        return self._future()


def processor(producer: Any, outputs: list[Any], begun: list[int]) -> Processor:
    config: Any = SimpleNamespace(deserialization_exception_handler="fail")
    tasks: Any = SimpleNamespace(outputs=outputs)
    return Processor(config, tasks, producer, Any, Any, lambda: begun.append(1))


def outputs(n: int) -> list[Any]:
    return [
        ("out", b"k%d" % i, b"v%d" % i, 1000 + i if i % 2 else -1, (), i % 3 if i % 4 else None)
        for i in range(n)
    ]


async def test_outputs_go_in_order_and_only_refused_ones_are_awaited() -> None:
    producer = Recorded(refuse=7)
    buffered, begun = outputs(50), []
    await processor(producer, buffered, begun).send_outputs()
    assert buffered == []
    assert begun == [1]  # exactly-once: the transaction begins once, before the first record
    assert [(t[2], t[3]) for t in producer.taken] == [(o[1], o[2]) for o in outputs(50)]
    assert producer.calls == 50  # one try_send per record
    assert sum(1 for t in producer.taken if t[0] == "send") == 50 // 7  # each refusal, once
    for record, (_how, _topic, _key, _value, kw) in zip(outputs(50), producer.taken, strict=True):
        ts = record[3] if record[3] >= 0 else None
        assert kw == {"partition": record[5], "timestamp_ms": ts, "headers": None}


async def test_an_interrupted_hand_over_keeps_what_was_not_taken() -> None:
    producer = Recorded(refuse=5, fail_send_at=12)
    buffered = outputs(30)
    with pytest.raises(asyncio.CancelledError):
        await processor(producer, buffered, []).send_outputs()
    taken = len(producer.taken)
    assert taken >= 12
    assert buffered == outputs(30)[taken:]  # the rest goes with the next hand-over


async def test_changelog_records_go_in_order_and_answer_the_last_future() -> None:
    producer = Recorded(refuse=4)
    begun: list[int] = []
    proc = processor(producer, [], begun)
    tp = TopicPartition("app-store-changelog", 2)
    assert await proc.send_changelog([], tp) is None
    assert begun == []  # nothing to send: no transaction begins
    writes = [(b"k%d" % i, None if i % 5 == 0 else b"v%d" % i) for i in range(23)]
    last = await proc.send_changelog(writes, tp)
    assert begun == [1]
    assert [(t[2], t[3]) for t in producer.taken] == writes
    assert {t[1] for t in producer.taken} == {"app-store-changelog"}
    assert all(t[4] == {"partition": 2} for t in producer.taken)
    assert last is not None
    assert any(t[0] == "send" for t in producer.taken)


async def test_a_full_buffer_delays_but_loses_no_output(tmp_path: Path) -> None:
    """Against the embedded broker: a buffer that holds a few records at a
    time makes most hand-overs wait in ``send``; every output arrives, in order."""
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 1}) as b:
        async with Producer(
            bootstrap_servers=b.bootstrap_servers, buffer_memory=2_000, linger_ms=1
        ) as producer:
            await producer.partitions_for("out")
            buffered = [("out", b"k", b"v%03d" % i + b"." * 100, -1, (), 0) for i in range(300)]
            proc = processor(producer, buffered, [])
            await proc.send_outputs()
            assert buffered == []
            await producer.flush(timeout=10)
            proc.raise_delivery_errors()
        async with Consumer(bootstrap_servers=b.bootstrap_servers, fetch_max_wait_ms=50) as c:
            c.assign([TopicPartition("out", 0)])
            c.seek(TopicPartition("out", 0), 0)
            got: list[bytes] = []
            for _ in range(100):
                for records in (await c.getmany(timeout_ms=100)).values():
                    got += [r.value[:4] for r in records if r.value is not None]
                if len(got) >= 300:
                    break
    assert got == [b"v%03d" % i for i in range(300)]


async def test_a_record_failing_in_a_split_batch_is_reported(tmp_path: Path) -> None:
    """A batch the broker finds too large is split; a record still too large alone fails
    while its neighbours go through. The interval's check keeps one future per batch, and
    that record is not the failed one: the failure must still be reported."""
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 1}) as b:
        async with AdminClient(bootstrap_servers=b.bootstrap_servers) as admin:
            await admin.create_topics([NewTopic("out", 1, 1, {"max.message.bytes": "1000"})])
        async with Producer(
            bootstrap_servers=b.bootstrap_servers, linger_ms=100, batch_size=64_000
        ) as producer:
            await producer.partitions_for("out")
            values = [b"%03d" % i + (b"." * 1_500 if i == 30 else b"." * 300) for i in range(40)]
            buffered = [("out", None, v, -1, (), 0) for v in values]
            proc = processor(producer, buffered, [])
            await proc.send_outputs()
            await producer.flush(timeout=10)
            with pytest.raises(StreamsError, match="producing output failed"):
                proc.raise_delivery_errors()
