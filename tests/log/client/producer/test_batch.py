"""A producer batch keeps its records as lists and encodes them in one call."""

from __future__ import annotations

import asyncio

import pytest

from tidal.log.client._types import TopicPartition
from tidal.log.client.producer._accumulator import RecordAccumulator
from tidal.log.client.producer._batch import ProducerBatch, RecordMetadata, record_size
from tidal.log.records import Compression, Header, _batch, decode_batch


@pytest.mark.parametrize("compiled", [True, False])
async def test_a_batch_encodes_its_records_in_order(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if compiled and not _batch.SPEEDUPS:
        pytest.skip("the compiled record encoder is not in use")
    monkeypatch.setattr(_batch, "_use_speedups", compiled)
    tp = TopicPartition("events", 2)
    batch = ProducerBatch(tp, 0.0)
    hdrs = (Header("trace", b"abc"), Header("none", None))
    futures = [
        batch.append(b"k0", b"v0", 1_000, (), 30),
        batch.append(None, None, 999, hdrs, 30),
        batch.append(b"", b"x" * 5000, 1_002, (), 30),
    ]
    assert batch.record_count == 3
    batch.set_producer(7, 1, 40)
    raw = batch.encode(Compression.LZ4)
    assert batch.encode(Compression.LZ4) is raw  # kept for retries
    decoded = decode_batch(raw)
    assert (decoded.header.producer_id, decoded.header.producer_epoch) == (7, 1)
    assert decoded.header.base_sequence == 40
    assert decoded.header.max_timestamp == 1_002
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in decoded.records] == [
        (0, 1_000, b"k0", b"v0", ()),
        (1, 999, None, None, hdrs),
        (2, 1_002, b"", b"x" * 5000, ()),
    ]
    batch.set_producer(7, 2, 0)  # an epoch bump encodes again
    assert decode_batch(batch.encode(Compression.NONE)).header.producer_epoch == 2
    batch.complete(100, -1)
    assert [await f for f in futures] == [
        RecordMetadata("events", 2, 100, 1_000),
        RecordMetadata("events", 2, 101, 999),
        RecordMetadata("events", 2, 102, 1_002),
    ]


async def test_the_accumulator_fills_a_batch_then_opens_another() -> None:
    acc = RecordAccumulator(batch_size=250, buffer_memory=10_000)
    tp = TopicPartition("events", 0)
    size = record_size(None, b"v" * 50, ())
    assert acc.try_reserve(6 * size)
    for i in range(5):
        fut = acc.append(tp, None, b"v" * 50, i, (), size, abort_on_new_batch=False)
        assert fut is not None
    # A batch holds what it encodes to (61 + 57 a record) and takes a record while
    # that plus the record's bound (71) fits: 61 + 3 x 57 = 232, and 232 + 71 > 250.
    assert [b.record_count for b in acc.batches[tp]] == [3, 2]
    # a sticky record joins the open batch, but does not open a new one
    assert acc.append(tp, None, b"v" * 50, 5, (), size, abort_on_new_batch=True) is not None
    assert acc.append(tp, None, b"v" * 50, 6, (), size, abort_on_new_batch=True) is None
    first = acc.batches[tp][0]
    assert (first.keys, first.values, first.timestamps, first.headers) == (
        [None, None, None],
        [b"v" * 50] * 3,
        [0, 1, 2],
        [(), (), ()],
    )
    assert first.size == len(first.encode(Compression.NONE)) == 232
    assert acc.used_memory == 6 * size
    first.complete(0, 5)
    await asyncio.sleep(0)  # the done callback returns the batch's memory
    assert acc.used_memory == 3 * size
    assert first not in acc.incomplete


async def test_a_batch_counts_the_exact_size_of_its_records() -> None:
    batch = ProducerBatch(TopicPartition("events", 0), 0.0)
    hdrs = (Header("trace", b"abc"), Header("é" * 70, None))
    records = [
        (b"k" * 200, b"v" * 20_000, 1_700_000_000_000, hdrs),
        (None, None, 1_699_999_000_000, ()),  # before the first: a negative delta
        (b"", b"", 1_700_000_000_000 + 2**40, ()),
    ] + [(None, b"x" * i, 1_700_000_000_000 + i, ()) for i in range(100)]  # offset deltas > 63
    for key, value, ts, headers in records:
        batch.append(key, value, ts, headers, record_size(key, value, headers))
    assert batch.size == len(batch.encode(Compression.NONE))


async def test_a_batch_fills_to_batch_size_by_encoded_bytes() -> None:
    acc = RecordAccumulator(batch_size=16_384, buffer_memory=1 << 20)
    tp = TopicPartition("lines", 0)
    value = b"x" * 100
    bound = record_size(None, value, ())
    while len(acc.batches.get(tp, ())) < 2:
        assert acc.try_reserve(bound)
        acc.append(tp, None, value, 1_700_000_000_000, (), bound, abort_on_new_batch=False)
    first = acc.batches[tp][0]
    encoded = len(first.encode(Compression.NONE))
    # As full as Java's MemoryRecordsBuilder makes it: 148 records of 109-110 bytes,
    # where adding up the 121-byte bounds stopped at 134 (14.7 KB).
    assert first.size == encoded
    assert 16_384 - bound < encoded <= 16_384
    assert first.record_count == 148
