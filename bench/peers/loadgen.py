"""The load generator of ``bench/broker.py``: one load, in its own process.

    python bench/peers/loadgen.py '{"role": "produce", "bootstrap": "127.0.0.1:9092",
        "topic": "t", "messages": 1000, "value_size": 100, "partitions": 1, "config": {}}'

Roles: ``produce`` (creates the topic, then produces), ``consume`` (reads it back
with one assigned consumer) and ``ceiling`` (``produce()`` calls with no broker).
It prints ``ready`` just before its clock starts, ``progress N`` a few times a
second, then ``result {json}`` (seconds, client CPU seconds) or ``error "text"``.
The client is confluent-kafka (librdkafka) and only it: nothing else is imported,
so the process carries nothing the measurement does not need.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["consume_load", "produce_ceiling", "produce_load", "worker_main"]

PROGRESS_SECONDS = 0.25
STALL_SECONDS = 60.0
FLUSH_SECONDS = 300.0
CONSUME_BATCH = 10_000
CEILING_CHUNK = 50_000


def emit(line: str) -> None:
    """One line to the orchestrating process."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def worker_main(spec: dict[str, Any]) -> int:
    """Run one load (``spec["role"]``) and print ``result {json}``."""
    roles: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "produce": produce_load,
        "consume": consume_load,
        "ceiling": produce_ceiling,
    }
    try:
        result = roles[spec["role"]](spec)
    except Exception as exc:  # noqa: BLE001 - reported to the orchestrator, which goes on
        emit("error " + json.dumps(f"{type(exc).__name__}: {exc}"))
        return 1
    emit("result " + json.dumps(result))
    return 0


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create ``topic`` and wait until it has a leader for every partition."""
    from confluent_kafka import Producer  # noqa: PLC0415 - only the worker needs it
    from confluent_kafka.admin import AdminClient, NewTopic  # noqa: PLC0415

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(timeout=60)
    probe = Producer({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        meta = probe.list_topics(topic, timeout=10).topics.get(topic)
        if (
            meta is not None
            and meta.error is None
            and len(meta.partitions) == partitions
            and all(p.leader >= 0 for p in meta.partitions.values())
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no leader after 60 s")


def produce_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Produce ``messages`` records of random ``value_size`` bytes, timed from the
    first ``produce()`` until ``flush()`` has every acknowledgement."""
    from confluent_kafka import Producer  # noqa: PLC0415 - only the worker needs it

    bootstrap, topic, count = spec["bootstrap"], spec["topic"], spec["messages"]
    create_topic(bootstrap, topic, spec["partitions"])
    failures: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:  # called for failures only
        if err is not None:
            failures.append(str(err))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            **spec["config"],
            "delivery.report.only.error": True,
            "on_delivery": on_delivery,
        }
    )
    producer.list_topics(topic, timeout=30)  # connected, metadata known
    value = os.urandom(spec["value_size"])
    produce, poll = producer.produce, producer.poll

    def produce_when_room() -> None:
        while True:
            poll(0.001)
            try:
                produce(topic, value)
            except BufferError:
                continue
            return

    emit("ready")
    cpu0, start = os.times(), time.perf_counter()
    sent, next_report = 0, start + PROGRESS_SECONDS
    while sent < count:
        chunk = min(1000, count - sent)
        for _ in range(chunk):
            try:
                produce(topic, value)
            except BufferError:
                produce_when_room()
        sent += chunk
        poll(0)
        if (now := time.perf_counter()) >= next_report:
            emit(f"progress {sent}")
            next_report = now + PROGRESS_SECONDS
    left = producer.flush(FLUSH_SECONDS)
    seconds, cpu1 = time.perf_counter() - start, os.times()
    if left or failures:
        raise RuntimeError(f"{left} records unacknowledged, {len(failures)} failed: {failures[:3]}")
    return {"seconds": seconds, "client_cpu_seconds": _cpu(cpu1) - _cpu(cpu0)}


def consume_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Read ``messages`` records back from offset 0 of every partition with one
    assigned consumer (no group rebalance), timed from ``assign`` to the last.

    Record counts come from the records read, not from ListOffsets: Tansu's
    memory storage answers ListOffsets (latest) with figures below the records
    it serves."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: PLC0415

    bootstrap, topic, count = spec["bootstrap"], spec["topic"], spec["messages"]
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"bench-{topic}", **spec["config"]}
    )
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=30).topics[topic].partitions)
        consume, size = consumer.consume, spec["value_size"]
        last_offsets: dict[int, int] = {}
        emit("ready")
        cpu0, start = os.times(), time.perf_counter()
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got, next_report, last_seen = 0, start + PROGRESS_SECONDS, start
        while got < count:
            # Ask for no more than is left: consume() waits until it has them all.
            batch = consume(min(CONSUME_BATCH, count - got), 1.0)
            now = time.perf_counter()
            if batch:
                for message in batch:
                    if message.error() is not None:
                        raise RuntimeError(f"consume error: {message.error()}")
                last = batch[-1]
                if len(last.value()) != size:
                    raise RuntimeError(f"a value of {len(last.value())} bytes, not {size}")
                last_offsets[last.partition()] = last.offset()
                got += len(batch)
                last_seen = now
            elif now - last_seen > STALL_SECONDS:
                raise RuntimeError(f"no record for {STALL_SECONDS:.0f} s after {got}")
            if now >= next_report:
                emit(f"progress {got}")
                next_report = now + PROGRESS_SECONDS
        seconds, cpu1 = time.perf_counter() - start, os.times()
        # One partition: offsets 0 .. count-1 were read, nothing skipped or repeated.
        if len(partitions) == 1 and last_offsets.get(partitions[0]) != count - 1:
            raise RuntimeError(f"last offset {last_offsets}, expected {count - 1}")
        return {"seconds": seconds, "client_cpu_seconds": _cpu(cpu1) - _cpu(cpu0)}
    finally:
        consumer.close()


def produce_ceiling(spec: dict[str, Any]) -> dict[str, Any]:
    """How fast this Python process can call ``produce()`` at all: records go into
    librdkafka's queue for a broker that is not there, so no broker is involved.
    The queue is purged every ``CEILING_CHUNK`` records (not timed), so its memory
    is reused as it is in a real run."""
    from confluent_kafka import Producer  # noqa: PLC0415 - only the worker needs it

    count = spec["messages"]
    producer = Producer(
        {
            "bootstrap.servers": spec["bootstrap"],
            **spec["config"],
            "queue.buffering.max.messages": CEILING_CHUNK + 1,
            "log_level": 0,
        }
    )
    value, produce = os.urandom(spec["value_size"]), producer.produce
    seconds, done = 0.0, 0
    while done < count:
        chunk = min(CEILING_CHUNK, count - done)
        start = time.perf_counter()
        for _ in range(chunk):
            produce("ceiling", value)
        seconds += time.perf_counter() - start
        done += chunk
        producer.purge()
        producer.poll(0)  # purged records leave the queue when their reports are served
    producer.flush(0)
    return {"seconds": seconds}


def _cpu(times: os.times_result) -> float:
    return times.user + times.system


if __name__ == "__main__":
    sys.exit(worker_main(json.loads(sys.argv[1])))
