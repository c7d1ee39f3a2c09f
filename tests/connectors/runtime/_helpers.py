"""What the worker and REST tests share: a quick broker, worker settings, HTTP, waiting."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition

#: Broker settings that keep group changes quick.
BROKER_CONFIG = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
}

STRING = "org.apache.kafka.connect.storage.StringConverter"


def worker_props(bootstrap: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A standalone worker on a free port, with string converters and quick commits."""
    props = {
        "bootstrap.servers": bootstrap,
        "listeners": "http://127.0.0.1:0",
        "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
        "offset.flush.interval.ms": "200",
        "key.converter": STRING,
        "value.converter": STRING,
        "consumer.session.timeout.ms": "6000",
        "consumer.heartbeat.interval.ms": "500",
    }
    props.update({k.replace("_", "."): v for k, v in extra.items()})
    return props


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """One request as a user's HTTP client makes it: ``(status, JSON body or None)``."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


async def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """:func:`http` off the event loop (the worker serves on the loop)."""
    return await asyncio.to_thread(http, method, url, body)


async def wait_for(
    check: Callable[[], Awaitable[bool] | bool], timeout: float = 20.0, what: str = "condition"
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def lines(path: Path) -> list[str]:
    """The lines of a file, [] when it does not exist yet."""
    return path.read_text().splitlines() if path.exists() else []


async def read_topic(
    bootstrap: str, topic: str, count: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """The first ``count`` records of ``topic`` (every partition), in offset order."""
    records: list[ConsumerRecord] = []
    async with Consumer(bootstrap_servers=bootstrap, group_id=None) as consumer:
        async with AdminClient(bootstrap_servers=bootstrap) as admin:
            await wait_for(lambda: _has_topic(admin, topic), timeout, f"topic {topic}")
            partitions = (await admin.describe_topics([topic]))[topic].partitions
        consumer.assign([TopicPartition(topic, p.partition) for p in partitions])
        consumer.seek_to_beginning(*consumer.assignment())
        deadline = time.monotonic() + timeout
        while len(records) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(records)} of {count} records in {topic}")
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def _has_topic(admin: AdminClient, topic: str) -> bool:
    return topic in await admin.list_topics(internal=True)


async def read_available(bootstrap: str, topic: str, timeout: float = 20.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` written so far (every partition), in offset order."""
    records: list[ConsumerRecord] = []
    async with (
        Consumer(bootstrap_servers=bootstrap, group_id=None) as consumer,
        AdminClient(bootstrap_servers=bootstrap) as admin,
    ):
        await wait_for(lambda: _has_topic(admin, topic), timeout, f"topic {topic}")
        partitions = (await admin.describe_topics([topic]))[topic].partitions
        assigned = [TopicPartition(topic, p.partition) for p in partitions]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout
        for tp in assigned:
            while await consumer.position(tp) < ends[tp]:
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read {topic} to its end")
                for part in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(part)
    return sorted(records, key=lambda r: (r.partition, r.offset))
