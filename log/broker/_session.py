"""One client connection: bytes to requests, handlers, responses in order.

Kafka answers the requests of a connection in the order they arrived. Here
each request runs as its own task as soon as it is decoded, so a Fetch long
poll or a JoinGroup that waits does not hold up the requests behind it, while
the answers queue in arrival order::

    pending:  [Fetch (waiting)] [Metadata (done)] [Produce (done)]
               ^ head: nothing is written until it completes

Tasks start in arrival order and Produce never awaits, so the appends of one
connection happen in order too. At most ``MAX_IN_FLIGHT`` requests are
pending; past that, requests are left undecoded until half have been
answered, and responses are not written while the transport asks us to
pause.

A client that closes while its requests are held must still be noticed, or
the connection and its long polls would outlive it by up to ``max_wait_ms``:
so the socket is still read, into the codec's buffer, and an EOF or a reset
ends the connection (the held requests with it, as Kafka drops what a muted
connection had not read). Only past ``MAX_HELD_BYTES`` does the connection
stop reading; then, where the OS can tell (Linux's ``POLLRDHUP``), a timer
asks the socket whether the peer has gone. A lost connection cancels every
pending handler.

Bad input: a protocol violation (oversized, truncated or malformed frame) or
a request for an API or version not served closes the connection with a log
line naming the peer, except an unknown ApiVersions version, which gets
Kafka's v0 answer with UNSUPPORTED_VERSION (KIP-511). A failing handler gets
UNKNOWN_SERVER_ERROR in the response where it has room for one, else the
connection is closed. So does an acks=0 Produce that failed (Kafka's way of
telling such a producer to refresh its metadata).
"""

from __future__ import annotations

import asyncio
import logging
import select
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from tidal.log.broker._context import RequestContext
from tidal.log.broker._failures import UNKNOWN_SERVER_ERROR, error_response
from tidal.log.broker._sendfile import SegmentChunk, send_chunk
from tidal.log.protocol import (
    NEED_DATA,
    Connection,
    ConnectionClosed,
    Piece,
    ProtocolViolation,
    Request,
    RequestHeader,
    RequestReceived,
    Role,
    UnsupportedRequest,
)
from tidal.log.protocol.messages import ApiVersionsRequest

if TYPE_CHECKING:
    from tidal.log.broker._server import BrokerServer

__all__ = ["MAX_HELD_BYTES", "MAX_IN_FLIGHT", "ClientSession"]

_log = logging.getLogger("tidal.log.broker.connection")

#: Requests of one connection decoded but not yet answered before decoding pauses.
MAX_IN_FLIGHT = 100
#: Bytes read while decoding is paused before reading pauses too.
MAX_HELD_BYTES = 1 << 20
#: Seconds between asking a socket that is not read whether its peer is gone.
PEER_CHECK_INTERVAL = 0.25
_FETCH = 1
#: poll() events meaning the peer closed or reset. Only POLLRDHUP (Linux)
#: tells of a FIN behind unread bytes, so without it there is no check.
_PEER_GONE = (
    select.POLLRDHUP | select.POLLHUP | select.POLLERR if hasattr(select, "POLLRDHUP") else 0
)


class _Pending:
    """A request awaiting its answer: a handler task, or a ready ``frame``."""

    __slots__ = ("answer", "frame", "header", "name", "request", "started", "task")

    def __init__(
        self,
        header: RequestHeader,
        request: Request | None,
        name: str,
        task: asyncio.Future[Any] | None,
        frame: bytearray | None = None,
    ) -> None:
        self.header = header
        self.request = request
        self.name = name
        self.task = task
        self.frame = frame
        self.started = time.perf_counter()
        self.answer = not (header.api_key == 0 and getattr(request, "acks", 1) == 0)

    def done(self) -> bool:
        return self.task is None or self.task.done()


class ClientSession(asyncio.Protocol):
    """The asyncio protocol of one client connection."""

    def __init__(self, server: BrokerServer) -> None:
        self.server = server
        broker = server.broker
        assert broker is not None, "sessions start once the broker has"
        self.broker = broker
        self.metrics = server.metrics
        self.conn = Connection(Role.BROKER, apis=server.specs, max_frame_size=server.max_frame_size)
        self.peer = "?"
        self.client_host = ""
        self.transport: asyncio.Transport | None = None
        self.pending: deque[_Pending] = deque()
        self.closing = False
        self._can_write = True
        self._sending = False
        self._decoding_paused = False
        self._held_bytes = 0
        self._reading_paused = False
        self._peer_check: asyncio.TimerHandle | None = None
        self.closed = asyncio.get_running_loop().create_future()

    # ---- asyncio callbacks -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.client_host = str(peer[0])
            self.peer = f"{peer[0]}:{peer[1]}"
        self.server.sessions.add(self)
        self.metrics.connection_opened()
        _log.debug("connection from %s", self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.sessions.discard(self)
        self.metrics.connection_closed()
        self._drop_pending()
        if not self.closed.done():
            self.closed.set_result(None)
        _log.debug("connection from %s closed%s", self.peer, f": {exc}" if exc else "")

    def pause_writing(self) -> None:
        self._can_write = False

    def resume_writing(self) -> None:
        self._can_write = True
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.metrics.bytes_in(len(data))
        self.conn.receive_data(data)
        if not self._decoding_paused:
            self._process_events()
            return
        self._held_bytes += len(data)
        if self._held_bytes > MAX_HELD_BYTES and not self._reading_paused:
            self._pause_reading()

    def eof_received(self) -> bool | None:
        if self._decoding_paused:
            _log.debug("%s closed with requests held: closing", self.peer)
            self.close()
            return None
        self.conn.receive_data(b"")
        self._process_events()
        return None

    # ---- requests ----------------------------------------------------------------

    def _process_events(self) -> None:
        conn = self.conn
        while not self.closing:
            if len(self.pending) >= MAX_IN_FLIGHT:
                self._decoding_paused = True
                return
            event = conn.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, RequestReceived):
                self._dispatch(event)
            elif isinstance(event, UnsupportedRequest):
                self._unsupported(event)
            elif isinstance(event, ProtocolViolation):
                _log.warning("closing connection from %s: %s", self.peer, event.reason)
                self.abort()
            elif isinstance(event, ConnectionClosed):
                self.close()

    def _resume_decoding(self) -> None:
        self._decoding_paused = False
        self._held_bytes = 0
        if self._reading_paused:
            self._reading_paused = False
            if self._peer_check is not None:
                self._peer_check.cancel()
                self._peer_check = None
            assert self.transport is not None
            self.transport.resume_reading()
        self._process_events()

    def _pause_reading(self) -> None:
        self._reading_paused = True
        assert self.transport is not None
        self.transport.pause_reading()
        if _PEER_GONE:
            loop = asyncio.get_running_loop()
            self._peer_check = loop.call_later(PEER_CHECK_INTERVAL, self._check_peer)

    def _check_peer(self) -> None:
        """While reading is paused, close if the peer has closed or reset."""
        self._peer_check = None
        if self.closing or not self._reading_paused or self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        poller = select.poll()
        poller.register(sock.fileno(), _PEER_GONE)
        if any(events & _PEER_GONE for _, events in poller.poll(0)):
            _log.debug("%s closed with requests held: closing", self.peer)
            self.abort()
            return
        loop = asyncio.get_running_loop()
        self._peer_check = loop.call_later(PEER_CHECK_INTERVAL, self._check_peer)

    def _dispatch(self, event: RequestReceived) -> None:
        header = event.header
        spec = self.server.specs[header.api_key]
        ctx = RequestContext(
            broker=self.broker,
            api_key=header.api_key,
            api_version=header.api_version,
            correlation_id=header.correlation_id,
            client_id=header.client_id,
            peer=self.peer,
            client_host=self.client_host,
        )
        handler = self.server.handlers[header.api_key]
        task: asyncio.Future[Any] = asyncio.ensure_future(handler(ctx, event.request))
        self.pending.append(_Pending(header, event.request, spec.name, task))
        task.add_done_callback(self._on_done)

    def _unsupported(self, event: UnsupportedRequest) -> None:
        header = event.header
        if header.api_key == ApiVersionsRequest.api_key:
            from tidal.log.broker.handlers.api_versions import (  # noqa: PLC0415
                unsupported_version_response,
            )

            _log.info("ApiVersions v%d from %s: answering v0", header.api_version, self.peer)
            frame = self.conn.send_response(header, unsupported_version_response(), version=0)
            self.pending.append(_Pending(header, None, "ApiVersions", None, frame))
            self._flush()
            return
        _log.warning(
            "closing connection from %s (client %r): %s",
            self.peer, header.client_id, event.reason,
        )  # fmt: skip
        self.close()

    def _on_done(self, task: asyncio.Future[Any]) -> None:
        if not self.closing:
            self._flush()

    # ---- responses ---------------------------------------------------------------

    def _flush(self) -> None:
        transport = self.transport
        while (
            self.pending
            and self.pending[0].done()
            and self._can_write
            and not self._sending
            and not self.closing
        ):
            pending = self.pending.popleft()
            pieces = self._encode(pending)
            if pieces is None:
                continue
            assert transport is not None
            if any(isinstance(p, SegmentChunk) for p in pieces):
                self._sending = True
                asyncio.get_running_loop().create_task(self._send_pieces(pieces))
                return
            size = 0
            for piece in pieces:
                size += len(piece)
            transport.writelines(pieces)  # type: ignore[arg-type]
            self.metrics.bytes_out(size)
        if self._decoding_paused and len(self.pending) < MAX_IN_FLIGHT // 2 and not self.closing:
            self._resume_decoding()

    def _encode(self, pending: _Pending) -> list[Piece] | None:
        """The frame answering ``pending``; None when nothing is sent."""
        if pending.frame is not None:
            return [pending.frame]
        task = pending.task
        assert task is not None
        assert pending.request is not None
        elapsed = time.perf_counter() - pending.started
        self.metrics.request(pending.name, elapsed)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "%s v%d from %s (client %r, correlation %d) took %.2f ms",
                pending.name, pending.header.api_version, self.peer,
                pending.header.client_id, pending.header.correlation_id, elapsed * 1000,
            )  # fmt: skip
        if task.cancelled():
            self.abort()
            return None
        exc = task.exception()
        header = pending.header
        if exc is None:
            response = task.result()
            if not pending.answer:
                if _has_errors(response):
                    _log.info("closing connection from %s: acks=0 Produce failed", self.peer)
                    self.close()
                return None
        else:
            _log.error(
                "%s v%d from %s failed", pending.name, header.api_version, self.peer,
                exc_info=exc,
            )  # fmt: skip
            response = error_response(pending.request, header.api_version, UNKNOWN_SERVER_ERROR)
            if response is None or not pending.answer:
                self.abort()
                return None
        try:
            if header.api_key == _FETCH:
                return self.conn.send_response_pieces(header, response)
            return [self.conn.send_response(header, response)]
        except Exception:  # noqa: BLE001 - any encode failure ends the connection
            _log.exception("cannot encode the %s answer to %s", pending.name, self.peer)
            self.abort()
            return None

    async def _send_pieces(self, pieces: list[Piece]) -> None:
        transport = self.transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        try:
            for piece in pieces:
                if isinstance(piece, SegmentChunk):
                    await send_chunk(loop, transport, piece)
                else:
                    transport.write(piece)  # type: ignore[arg-type]
                self.metrics.bytes_out(len(piece))
        except (OSError, RuntimeError) as exc:
            _log.warning("closing connection from %s: sendfile failed: %s", self.peer, exc)
            self.abort()
            return
        finally:
            self._sending = False
        self._flush()

    # ---- closing -----------------------------------------------------------------

    def close(self) -> None:
        """Close after what is already written (pending answers are dropped)."""
        if self.transport is not None and not self.closing:
            self.closing = True
            self.transport.close()

    def abort(self) -> None:
        """Close at once."""
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def _drop_pending(self) -> None:
        """Cancel the handlers of unanswered requests (and the peer check).

        Only once the connection is lost: the handlers of requests read just
        before an EOF have started by then (an acks=0 Produce has appended).
        """
        if self._peer_check is not None:
            self._peer_check.cancel()
            self._peer_check = None
        for pending in self.pending:
            if pending.task is not None:
                pending.task.cancel()
        self.pending.clear()


def _has_errors(response: Any) -> bool:
    return any(
        p.error_code
        for topic in getattr(response, "responses", ())
        for p in getattr(topic, "partition_responses", ())
    )
