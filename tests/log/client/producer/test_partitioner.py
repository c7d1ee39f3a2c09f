"""murmur2 partitions equal Java's (known vectors) and librdkafka's
``murmur2_random`` partitioner (confluent-kafka as the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.producer import Producer, murmur2, murmur2_partition

# Kafka's UtilsTest / librdkafka rdmurmur2.c unit test vectors.
VECTORS = {
    b"kafka": 0xD067CF64,
    b"giberish123456789": 0x8F552B0C,
    b"1234": 0x9FC97B14,
    b"234": 0xE7C009CA,
    b"": 0x106E08D9,
}


@pytest.mark.parametrize(("key", "expected"), VECTORS.items())
def test_murmur2_vectors(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


def test_to_positive_is_a_mask_not_abs() -> None:
    # murmur2(b"kafka") has the sign bit set: Java's toPositive clears it.
    assert murmur2_partition(b"kafka", 1000) == (0xD067CF64 & 0x7FFFFFFF) % 1000


def _confluent_partitions(bootstrap: str, keys: list[bytes]) -> list[int]:
    from confluent_kafka import Producer as CProducer  # noqa: PLC0415 - optional peer

    got: dict[bytes, int] = {}

    def on_delivery(err: Any, msg: Any) -> None:
        assert err is None, err
        got[msg.key()] = msg.partition()

    p = CProducer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for k in keys:
        p.produce("hashed", b"v", key=k, on_delivery=on_delivery)
    assert p.flush(20) == 0
    return [got[k] for k in keys]


async def test_partitions_equal_librdkafka_murmur2_random(tmp_path: Any) -> None:
    pytest.importorskip("confluent_kafka", reason="pip install confluent-kafka")
    import asyncio  # noqa: PLC0415

    keys = [f"key-{i}".encode() for i in range(200)] + list(VECTORS)
    async with EmbeddedBroker(data_dir=tmp_path, config={"num.partitions": 7}) as b:
        theirs = await asyncio.to_thread(_confluent_partitions, b.bootstrap_servers, keys)
        async with Producer(bootstrap_servers=b.bootstrap_servers) as p:
            futs = [await p.send("hashed", b"v", key=k) for k in keys]
            ours = [(await f).partition for f in futs]
    assert ours == theirs
    assert ours == [murmur2_partition(k, 7) for k in keys]
    assert len(set(ours)) == 7
