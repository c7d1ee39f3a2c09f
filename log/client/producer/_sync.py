"""A synchronous producer for scripts: the asyncio producer on a loop thread.

Example::

    with SyncProducer(bootstrap_servers="localhost:9092") as producer:
        future = producer.send("events", b"hello")
        producer.flush()
        print(future.result())  # RecordMetadata(...)
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._sync import LoopThread
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.producer._batch import RecordMetadata
from tidal.log.client.producer._config import ProducerConfig
from tidal.log.client.producer._producer import Producer

__all__ = ["SyncProducer"]


class SyncProducer:
    """Blocking facade over :class:`Producer` (same settings)."""

    def __init__(
        self, config: Mapping[str, object] | ProducerConfig | None = None, /, **settings: object
    ) -> None:
        self._loop = LoopThread("tidal-producer")
        try:
            self._producer = self._loop.run(self._make(config, settings))
        except BaseException:
            self._loop.stop()
            raise

    @staticmethod
    async def _make(
        config: Mapping[str, object] | ProducerConfig | None, settings: dict[str, object]
    ) -> Producer:
        producer = Producer(config, **settings)
        try:
            await producer.start()
        except BaseException:
            await producer.close()
            raise
        return producer

    def send(
        self, topic: str, value: Any = None, key: Any = None, **kwargs: Any
    ) -> concurrent.futures.Future[RecordMetadata]:
        """Queue a record (blocking for buffer space like :meth:`Producer.send`);
        a future of its metadata."""

        async def queue() -> concurrent.futures.Future[RecordMetadata]:
            fut = await self._producer.send(topic, value, key, **kwargs)
            out: concurrent.futures.Future[RecordMetadata] = concurrent.futures.Future()

            def done(_f: object) -> None:
                try:
                    out.set_result(fut.result())
                except BaseException as e:  # noqa: BLE001 - handed to the caller's future
                    out.set_exception(e)

            fut.add_done_callback(done)
            return out

        return self._loop.run(queue())

    def send_and_wait(
        self, topic: str, value: Any = None, key: Any = None, **kw: Any
    ) -> RecordMetadata:
        """Send one record and block until it is acknowledged."""
        return self._loop.run(self._producer.send_and_wait(topic, value, key, **kw))

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything sent so far is acknowledged (see :meth:`Producer.flush`)."""
        self._loop.run(self._producer.flush(timeout))

    def init_transactions(self) -> None:
        """See :meth:`Producer.init_transactions`."""
        self._loop.run(self._producer.init_transactions())

    def begin_transaction(self) -> None:
        """See :meth:`Producer.begin_transaction`."""

        async def begin() -> None:
            self._producer.begin_transaction()

        self._loop.run(begin())

    def send_offsets_to_transaction(
        self,
        offsets: Mapping[TopicPartition, OffsetAndMetadata | int],
        group_metadata: ConsumerGroupMetadata | str,
    ) -> None:
        """See :meth:`Producer.send_offsets_to_transaction`."""
        self._loop.run(self._producer.send_offsets_to_transaction(offsets, group_metadata))

    def commit_transaction(self) -> None:
        """See :meth:`Producer.commit_transaction`."""
        self._loop.run(self._producer.commit_transaction())

    def abort_transaction(self) -> None:
        """See :meth:`Producer.abort_transaction`."""
        self._loop.run(self._producer.abort_transaction())

    def close(self, timeout: float | None = None) -> None:
        """Flush, close the producer and stop its thread."""
        if self._loop.loop.is_closed():
            return
        try:
            self._loop.run(self._producer.close(timeout))
        finally:
            self._loop.stop()

    def __enter__(self) -> SyncProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
