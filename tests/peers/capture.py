"""A recording TCP proxy for Kafka connections (asyncio, loopback).

It sits between Kafka clients and a broker, forwards every frame unchanged
and records each request and response frame (without its int32 length) with
the api key, api version and correlation id it belongs to::

    with CaptureProxy(("127.0.0.1", 19092), listen_port=19094) as proxy:
        ...  # point clients at 127.0.0.1:19094
    for frame in proxy.frames:
        print(frame.kind, frame.api_key, frame.api_version, len(frame.payload))

For clients to stay on the proxy after bootstrap, the broker must advertise
the proxy's address (Kafka: ``advertised.listeners``). ``rewrite_response``
may replace a response payload before it is forwarded (the recorded frame is
the broker's original); the golden-vector generator uses it to cap the
versions Kafka advertises to the ranges a Tidal broker serves.

The proxy runs its own event loop in a background thread so that
synchronous clients (confluent-kafka, kafka-python) can be driven from the
calling thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["CaptureProxy", "CapturedFrame"]

_SIZE = struct.Struct(">i")
_REQUEST_PREFIX = struct.Struct(">hhi")

ResponseRewriter = Callable[[int, int, bytes], bytes]


@dataclass(frozen=True)
class CapturedFrame:
    """One frame seen by the proxy; ``payload`` excludes the length prefix."""

    session: str
    connection: int
    kind: str  # "request" or "response"
    api_key: int
    api_version: int
    correlation_id: int
    payload: bytes


@dataclass
class _Link:
    number: int
    pending: dict[int, tuple[int, int]] = field(default_factory=dict)


class CaptureProxy:
    """Forward ``listen_port`` to ``upstream`` and record every frame."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        listen_port: int = 0,
        rewrite_response: ResponseRewriter | None = None,
    ) -> None:
        self.upstream = upstream
        self.listen_port = listen_port
        self.rewrite_response = rewrite_response
        self.frames: list[CapturedFrame] = []
        #: Label stored with each frame; set it between client sessions.
        self.session = ""
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> CaptureProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> int:
        """Start listening; return the port."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        return future.result(timeout=10)

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self.listen_port

    def stop(self) -> None:
        """Close the listener and every proxied connection; stop the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _record(
        self, link: _Link, kind: str, key: int, version: int, cid: int, data: bytes
    ) -> None:
        frame = CapturedFrame(self.session, link.number, kind, key, version, cid, data)
        with self._lock:
            self.frames.append(frame)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._connections += 1
        link = _Link(self._connections)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(
                self._pump_requests(link, reader, up_writer),
                self._pump_responses(link, up_reader, writer),
            )
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()
            self._tasks.discard(task)

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
        try:
            head = await reader.readexactly(4)
        except asyncio.IncompleteReadError:
            return None
        (size,) = _SIZE.unpack(head)
        return await reader.readexactly(size)

    async def _pump_requests(
        self, link: _Link, reader: asyncio.StreamReader, upstream: asyncio.StreamWriter
    ) -> None:
        while (payload := await self._read_frame(reader)) is not None:
            key, version, cid = _REQUEST_PREFIX.unpack_from(payload)
            link.pending[cid] = (key, version)
            self._record(link, "request", key, version, cid, payload)
            upstream.write(_SIZE.pack(len(payload)) + payload)
            await upstream.drain()
        upstream.close()

    async def _pump_responses(
        self, link: _Link, upstream: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (payload := await self._read_frame(upstream)) is not None:
            (cid,) = _SIZE.unpack_from(payload)
            key, version = link.pending.pop(cid, (-1, -1))
            self._record(link, "response", key, version, cid, payload)
            if self.rewrite_response is not None and key >= 0:
                payload = self.rewrite_response(key, version, payload)
            writer.write(_SIZE.pack(len(payload)) + payload)
            await writer.drain()
        writer.close()
