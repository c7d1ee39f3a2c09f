"""Compacted internal topics read to the end and tailed (Kafka's ``KafkaBasedLog``).

Distributed workers keep their shared state in three compacted topics, each read from the
beginning by every worker and followed afterwards:

* ``config.storage.topic`` (one partition: a total order of config changes);
* ``offset.storage.topic`` (source offsets, key ``["<connector>", {partition}]``);
* ``status.storage.topic`` (the latest status of every connector and task).

:class:`TopicLog` does the reading and writing; :class:`TopicOffsetStore` is the offsets
store on top of it::

    log = TopicLog(worker, "connect-configs", on_record, partitions=1)
    await log.start()                  # creates the topic, reads it to the end
    metadata = await log.send(b"connector-x", b'{"properties": {...}}')
    await log.wait_until(metadata)     # on_record has seen it
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.client.producer import Producer, RecordMetadata

from ._errors import ensure_topic
from ._offsets import Offset, OffsetStore, Partition, offset_key, partition_id
from ._worker_config import WorkerConfig

__all__ = ["TopicLog", "TopicOffsetStore"]

_log = logging.getLogger("tidal.connectors.runtime")


class TopicLog:
    """One compacted topic: read to the end at start, then followed; written with acks."""

    def __init__(
        self,
        worker: WorkerConfig,
        topic: str,
        on_record: Callable[[ConsumerRecord], None],
        *,
        partitions: int,
        replication: int = 3,
        read_committed: bool = False,
    ) -> None:
        self.worker = worker
        self.topic = topic
        self.on_record = on_record
        self.partitions = partitions
        self.replication = replication
        self.read_committed = read_committed
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()
        #: The topic's partitions (known after :meth:`start`).
        self.partition_count = partitions

    async def start(self, timeout_s: float = 30.0) -> None:
        """Create the topic if needed, then read it to the end."""
        async with AdminClient(self.worker.client_settings("admin")) as admin:
            await ensure_topic(
                admin, self.topic, self.partitions, self.replication,
                {"cleanup.policy": "compact"},
            )  # fmt: skip
            described = await admin.describe_topics([self.topic])
        count = self.partition_count = len(described[self.topic].partitions)
        self._producer = Producer(self.worker.client_settings("producer", {"acks": "all"}))
        await self._producer.start()
        isolation = "read_committed" if self.read_committed else "read_uncommitted"
        settings = self.worker.client_settings(
            "consumer", {"enable.auto.commit": "false", "isolation.level": isolation}
        )
        settings.pop("group_id", None)
        self._consumer = Consumer(settings)
        self._consumer.assign([TopicPartition(self.topic, p) for p in range(count)])
        self._consumer.seek_to_beginning(*self._consumer.assignment())
        self._tail = asyncio.get_running_loop().create_task(self._follow(), name=self.topic)
        await self.read_to_end(timeout_s)

    async def _follow(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=200)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (keep following through broker hiccups)
                _log.warning("reading %s failed, retrying: %s", self.topic, exc)
                await asyncio.sleep(0.5)
                continue
            for records in batch.values():
                for record in records:
                    try:
                        self.on_record(record)
                    except Exception as exc:  # noqa: BLE001 (one bad record must not stop us)
                        _log.error("bad record in %s at %s: %s", self.topic, record.offset, exc)
            self._progress.set()

    async def _position(self, tp: TopicPartition) -> int:
        assert self._consumer is not None
        return await self._consumer.position(tp)

    async def read_to_end(self, timeout_s: float = 30.0) -> None:
        """Wait until every record written before this call has been read."""
        consumer = self._consumer
        assert consumer is not None
        ends = await consumer.end_offsets(consumer.assignment())
        await self._wait(ends, timeout_s)

    async def wait_until(self, metadata: RecordMetadata, timeout_s: float = 30.0) -> None:
        """Wait until the record at ``metadata`` has been read."""
        await self._wait({TopicPartition(metadata.topic, metadata.partition): metadata.offset + 1},
                         timeout_s)  # fmt: skip

    async def _wait(self, ends: Mapping[TopicPartition, int], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for tp, end in ends.items():
            while await self._position(tp) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {self.topic} to offset {end} timed out")
                self._progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), 0.2)

    async def send(
        self, key: bytes, value: bytes | None, partition: int | None = None
    ) -> RecordMetadata:
        """Write one record and wait for its acknowledgement."""
        assert self._producer is not None
        future = await self._producer.send(self.topic, value, key=key, partition=partition)
        return await future

    async def stop(self) -> None:
        """Stop following and close the clients."""
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        if self._consumer is not None:
            await self._consumer.close()
        if self._producer is not None:
            await self._producer.close()


def _decode_json(data: bytes | None) -> Any:
    return None if data is None else json.loads(data)


class TopicOffsetStore(OffsetStore):
    """Source offsets in ``offset.storage.topic``, shared by every worker of a cluster."""

    def __init__(self, worker: WorkerConfig) -> None:
        super().__init__()
        self.log = TopicLog(
            worker, str(worker.get("offset.storage.topic")), self._apply,
            partitions=int(worker.get("offset.storage.partitions")),
            replication=worker.replication_factor("offset"),
            read_committed=True,  # offsets of aborted exactly-once transactions never count
        )  # fmt: skip

    def _apply(self, record: ConsumerRecord) -> None:
        if record.key is None:
            return
        connector, partition = json.loads(record.key)
        offset = _decode_json(record.value)
        entries = self._data.setdefault(connector, {})
        pid = partition_id(partition)
        if offset is None:
            entries.pop(pid, None)
        else:
            entries[pid] = (partition, offset)

    async def start(self) -> None:
        """Read every offset stored so far."""
        await self.log.start()

    async def refresh(self) -> None:
        """Catch up with offsets other workers wrote (before a task starts here)."""
        await self.log.read_to_end()

    async def stop(self) -> None:
        """Stop following the topic."""
        await self.log.stop()

    def remember(
        self, connector: str, offsets: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        """Take offsets a transaction just committed to the topic (no write)."""
        entries = self._data.setdefault(connector, {})
        for pid, (partition, offset) in offsets.items():
            if offset is None:
                entries.pop(pid, None)
            else:
                entries[pid] = (dict(partition), dict(offset))

    async def _persist(
        self, connector: str, changed: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        for partition, offset in changed.values():
            value = None if offset is None else json.dumps(offset, separators=(",", ":")).encode()
            await self.log.send(offset_key(connector, partition), value)
