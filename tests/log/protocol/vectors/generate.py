"""Capture golden request/response frames from real clients talking to Kafka.

A recording proxy (``tests/peers/capture.py``) sits between each client and
an Apache Kafka broker (``tests/peers/kafka-jvm/kafka.sh``) that advertises
the proxy's address, so every connection of every client goes through it.
The proxy caps the versions in Kafka's ApiVersions answers to the ranges a
Tidal broker advertises (``messages.API_SPECS``), so clients pick exactly the
versions they will use against Tidal; the recorded frames are Kafka's and the
clients' original bytes.

Sessions: confluent-kafka (librdkafka), kafka-python and aiokafka each create
or use topics, produce keyed records with headers with every codec, consume
them in a group, and ask for earliest/latest/by-time offsets. Frames of the
APIs this package declares are kept, at most ``PER_GROUP`` (Produce: one per codec) per (client,
request/response, api, version), as ``<client>/<n>-<api>-v<version>-<kind>.bin``
with ``index.json`` describing each.

Usage (repository root, test extras installed, Java 17 + Maven for the peer)::

    python tests/log/protocol/vectors/generate.py

Rerunning rewrites the files with equally valid bytes (ids, timestamps and
client choices of the day differ).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(REPO / "tests" / "peers"))

from capture import CapturedFrame, CaptureProxy  # noqa: E402

from tidal.log.protocol import API_SPECS  # noqa: E402
from tidal.log.protocol.messages import ApiVersionsResponse  # noqa: E402

KAFKA_PORT = 19392
PROXY_PORT = 19394
BOOTSTRAP = f"127.0.0.1:{PROXY_PORT}"
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
PER_GROUP = 3
PER_GROUP_PRODUCE = 8  # one Produce per codec, plus idempotent ones
T0 = 1_700_000_000_000


def cap_api_versions(api_key: int, api_version: int, payload: bytes) -> bytes:
    """Narrow Kafka's advertised ranges to Tidal's for the APIs we declare."""
    if api_key != 18:
        return payload
    response = ApiVersionsResponse.decode(payload, api_version, pos=4)
    for entry in response.api_keys:
        spec = API_SPECS.get(entry.api_key)
        if spec is not None:
            entry.min_version = max(entry.min_version, spec.min_version)
            entry.max_version = min(entry.max_version, spec.max_version)
    return payload[:4] + response.encode(api_version)


def records(client: str) -> list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
    return [
        (f"key-{i}".encode() if i % 3 else None, f"{client} value {i} ".encode() * 8, [("h", b"v")])
        for i in range(6)
    ]


def librdkafka_session() -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: PLC0415
    from confluent_kafka.admin import AdminClient, NewTopic  # noqa: PLC0415

    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    topics = [f"golden-{codec}" for codec in CODECS]
    for future in admin.create_topics([NewTopic(t, 2, 1) for t in topics]).values():
        future.result()
    for codec in CODECS:
        producer = Producer(
            {
                "bootstrap.servers": BOOTSTRAP,
                "compression.type": codec,
                "linger.ms": 5,
                "enable.idempotence": codec == "zstd",
            }
        )
        for i, (key, value, headers) in enumerate(records("librdkafka")):
            producer.produce(f"golden-{codec}", value, key, timestamp=T0 + i, headers=headers)
        producer.flush(30)
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": "golden-librdkafka",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    seen, deadline = 0, time.monotonic() + 30
    while seen < 6 * len(CODECS) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen += 1
    consumer.commit(asynchronous=False)
    for topic in topics[:2]:
        consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
    consumer.offsets_for_times([TopicPartition(topics[0], 0, T0 + 2)], timeout=10)
    consumer.close()


def kafka_python_session() -> None:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: PLC0415

    for codec in CODECS:
        producer = KafkaProducer(
            bootstrap_servers=BOOTSTRAP,
            compression_type=None if codec == "none" else codec,
            linger_ms=5,
        )
        for i, (key, value, headers) in enumerate(records("kafka-python")):
            producer.send(f"golden-{codec}", value, key, headers, timestamp_ms=T0 + i)
        producer.flush(30)
        producer.close()
    consumer = KafkaConsumer(
        *[f"golden-{codec}" for codec in CODECS],
        bootstrap_servers=BOOTSTRAP,
        group_id="golden-kafka-python",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=4000,
    )
    for _ in consumer:
        pass
    consumer.commit()
    tp = TopicPartition("golden-none", 0)
    consumer.beginning_offsets([tp])
    consumer.end_offsets([tp])
    consumer.offsets_for_times({tp: T0 + 2})
    consumer.close()


async def aiokafka_session() -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: PLC0415

    for codec in CODECS:
        producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP,
            compression_type=None if codec == "none" else codec,
            enable_idempotence=codec == "lz4",
            linger_ms=5,
        )
        await producer.start()
        try:
            for i, (key, value, headers) in enumerate(records("aiokafka")):
                await producer.send(
                    f"golden-{codec}", value, key, timestamp_ms=T0 + i, headers=headers
                )
            await producer.flush()
        finally:
            await producer.stop()
    consumer = AIOKafkaConsumer(
        *[f"golden-{codec}" for codec in CODECS],
        bootstrap_servers=BOOTSTRAP,
        group_id="golden-aiokafka",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=4000)
        while batch:
            batch = await consumer.getmany(timeout_ms=1500)
        await consumer.commit()
        tp = TopicPartition("golden-none", 0)
        await consumer.beginning_offsets([tp])
        await consumer.end_offsets([tp])
        await consumer.offsets_for_times({tp: T0 + 2})
    finally:
        await consumer.stop()


def select(frames: list[CapturedFrame]) -> list[CapturedFrame]:
    """Frames of declared APIs and versions, a few per group, no duplicates."""
    kept: list[CapturedFrame] = []
    counts: dict[tuple[str, str, int, int], int] = {}
    hashes: set[bytes] = set()
    for frame in frames:
        spec = API_SPECS.get(frame.api_key)
        if spec is None or not spec.request.supports(frame.api_version) or not frame.session:
            continue
        group = (frame.session, frame.kind, frame.api_key, frame.api_version)
        digest = hashlib.sha256(
            frame.payload[4:] if frame.kind == "response" else frame.payload[8:]
        )
        limit = PER_GROUP_PRODUCE if frame.api_key == 0 else PER_GROUP
        if counts.get(group, 0) >= limit or digest.digest() in hashes:
            continue
        counts[group] = counts.get(group, 0) + 1
        hashes.add(digest.digest())
        kept.append(frame)
    return kept


def write(frames: list[CapturedFrame]) -> None:
    for session in {f.session for f in frames}:
        shutil.rmtree(HERE / session, ignore_errors=True)
        (HERE / session).mkdir()
    index: list[dict[str, Any]] = []
    for n, frame in enumerate(frames):
        name = API_SPECS[frame.api_key].name
        path = f"{frame.session}/{n:03d}-{name}-v{frame.api_version}-{frame.kind}.bin"
        (HERE / path).write_bytes(frame.payload)
        index.append(
            {
                "file": path,
                "client": frame.session,
                "kind": frame.kind,
                "api_key": frame.api_key,
                "api_version": frame.api_version,
                "correlation_id": frame.correlation_id,
            }
        )
    (HERE / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(frames)} frames to {HERE}")


def main() -> None:
    kafka = REPO / "tests" / "peers" / "kafka-jvm" / "kafka.sh"
    env = {
        **os.environ,
        "KAFKA_JVM_PORT": str(KAFKA_PORT),
        "KAFKA_JVM_DIR": f"/tmp/tidal-kafka-jvm-golden-{KAFKA_PORT}",
    }
    proxy = CaptureProxy(
        ("127.0.0.1", KAFKA_PORT), listen_port=PROXY_PORT, rewrite_response=cap_api_versions
    )
    proxy.start()
    advertised = f"advertised.listeners=PLAINTEXT://{BOOTSTRAP}"
    subprocess.run([str(kafka), "start", advertised], env=env, check=True)
    try:
        for session, run in (
            ("librdkafka", librdkafka_session),
            ("kafka-python", kafka_python_session),
            ("aiokafka", lambda: asyncio.run(aiokafka_session())),
        ):
            proxy.session = session
            run()
            time.sleep(0.5)
            proxy.session = ""
    finally:
        subprocess.run([str(kafka), "stop"], env=env, check=False)
        proxy.stop()
    write(select(proxy.frames))


if __name__ == "__main__":
    main()
