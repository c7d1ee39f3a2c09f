"""One TCP connection to one broker: asyncio streams over a sans-I/O
:class:`~tidal.log.protocol.Connection`.

The socket only shuttles bytes; framing and correlation ids belong to the
protocol engine. Requests are pipelined: :meth:`BrokerConnection.send` writes
at once and waits for its own response, matched by correlation id, so any
number may be in flight. Every wait is bounded (connection setup, each
request); a request that times out closes the connection, as Kafka's clients
do, because later responses on it can no longer be trusted to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable

from tidal.log.client._config import ClientConfig
from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._versions import CLIENT_VERSIONS, broker_versions, negotiate_version
from tidal.log.protocol import (
    NEED_DATA,
    Connection,
    ConnectionClosed,
    ProtocolViolation,
    Request,
    Response,
    ResponseReceived,
    Role,
)
from tidal.log.protocol.errors import UnsupportedVersionError, raise_for_code
from tidal.log.protocol.messages import ApiVersionsRequest, ApiVersionsResponse

__all__ = ["BrokerConnection", "RequestBuilder", "build_request", "warm_codecs"]

log = logging.getLogger(__name__)

#: A request, or a function of the negotiated version that builds one (so
#: callers can set version-dependent fields).
RequestBuilder = Request | Callable[[int], Request]

_API_VERSIONS_FIRST = 3


class _ResponseReader(asyncio.StreamReader):
    """The stream reader under :class:`_ResponseProtocol`: it never holds
    data (the protocol engine keeps its own buffers); ``read`` returns only at
    EOF or a lost connection. Anything fed to it anyway goes to ``on_data``."""

    def __init__(self, on_data: Callable[[bytes], None], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._on_data = on_data

    def feed_data(self, data: bytes) -> None:  # type: ignore[override]  # the transport's bytes
        if data:
            self._on_data(data)


class _ResponseProtocol(asyncio.StreamReaderProtocol, asyncio.BufferedProtocol):
    """A stream protocol whose socket reads land in the protocol engine's own
    buffers (``recv_into`` what :meth:`Connection.get_buffer` hands out).

    A large response is read straight into its frame, allocated whole once
    its size is known, and the Fetch response's RECORDS are views of that
    frame: a fetched record's bytes are copied once in the client, from the
    frame into its key and value. (asyncio's ``StreamReader`` extended a
    buffer with each chunk, copied it out twice per ``read`` and paused the
    socket every 256 KiB; the engine then copied the frame and its RECORDS.)
    Flow control, EOF and connection loss stay StreamReaderProtocol's.
    """

    def __init__(
        self,
        reader: _ResponseReader,
        get_buffer: Callable[[], memoryview],
        updated: Callable[[int], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(reader, loop=loop)
        self._get = get_buffer
        self._updated = updated

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._get()

    def buffer_updated(self, nbytes: int) -> None:
        self._updated(nbytes)


def warm_codecs(api: type[Request]) -> None:
    """Compile the codecs a :class:`BrokerConnection` uses to send ``api`` at
    the highest version this client speaks and to read the answer, so the
    first request does not pay for it (a Fetch pair takes tens of ms)."""
    Connection(Role.CLIENT, records_views=True).prepare(api, CLIENT_VERSIONS[api.api_key][1])


def build_request(builder: RequestBuilder, version: int) -> Request:
    """The request ``builder`` stands for at ``version``."""
    return builder if isinstance(builder, Request) else builder(version)


class BrokerConnection:
    """A connection to ``host:port``; :meth:`connect` before :meth:`send`.

    Example::

        conn = BrokerConnection("127.0.0.1", 9092, config=ClientConfig.build())
        await conn.connect()
        response = await conn.send(MetadataRequest, lambda v: MetadataRequest(topics=[]))
        await conn.close()
    """

    def __init__(
        self, host: str, port: int, *, config: ClientConfig, node_id: int | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.node_id = node_id
        self.config = config
        #: The broker's ApiVersions ranges, by api key (after :meth:`connect`).
        self.api_versions: dict[int, tuple[int, int]] = {}
        # RECORDS arrive as views of their response's frame (no copy): each
        # frame is a buffer of its own, never reused (see Connection).
        self._engine = Connection(Role.CLIENT, client_id=config.client_id, records_views=True)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._waiters: dict[int, asyncio.Future[Response]] = {}
        self._correlation_ids = itertools.count(1)
        self._closed = False
        self._error: Exception | None = None
        #: ``time.monotonic()`` of the last request sent (for idle closing).
        self.last_used = time.monotonic()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """Open and usable."""
        return self._writer is not None and not self._closed

    @property
    def in_flight(self) -> int:
        """Requests written and not yet answered."""
        return len(self._waiters)

    def __repr__(self) -> str:
        return f"<BrokerConnection node={self.node_id} {self.address}>"

    # -- setup -----------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket and exchange ApiVersions, within
        ``socket_connection_setup_timeout_ms`` and ``request_timeout_ms``."""
        setup = self.config.socket_connection_setup_timeout_ms / 1000
        try:
            self._reader, self._writer = await asyncio.wait_for(self._open(), setup)
        except (OSError, TimeoutError) as e:
            self._closed = True
            why = "timed out" if isinstance(e, TimeoutError) else str(e)
            raise KafkaConnectionError(
                f"cannot connect to {self.address}: {why}", address=self.address
            ) from e
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())
        try:
            await self._handshake()
        except BaseException:
            await self.close()
            raise

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """``asyncio.open_connection`` with a :class:`_ResponseProtocol`."""
        loop = asyncio.get_running_loop()
        reader = _ResponseReader(self._receive, loop)
        protocol = _ResponseProtocol(reader, self._engine.get_buffer, self._received, loop)
        transport, _ = await loop.create_connection(lambda: protocol, self.host, self.port)
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    async def _handshake(self) -> None:
        """ApiVersions, from our highest version down, as Kafka's client does
        (KIP-511): a broker that does not know the version answers
        UNSUPPORTED_VERSION with the ApiVersions range it serves, or with no
        ranges at all before Kafka 2.4; the next try uses its highest version
        (v0 when it named none). Each try is lower than the last, so this ends."""
        version = _API_VERSIONS_FIRST
        while True:
            request = ApiVersionsRequest(
                client_software_name=self.config.client_software_name,
                client_software_version="1",
            )
            response = await self._send(request, version, self.config.request_timeout_ms)
            assert isinstance(response, ApiVersionsResponse)
            versions = broker_versions(response)
            if response.error_code == UnsupportedVersionError.code and version > 0:
                offered = versions.get(ApiVersionsRequest.api_key, (0, 0))[1]
                retry = max(0, min(offered, version - 1))
                log.debug("%s: ApiVersions v%d unsupported, trying v%d", self, version, retry)
                version = retry
                continue
            if response.error_code == UnsupportedVersionError.code:
                raise UnsupportedVersionError(f"{self.address} does not answer ApiVersions v0")
            raise_for_code(response.error_code)
            self.api_versions = versions
            return

    # -- requests --------------------------------------------------------------

    def version_for(self, api: int | type[Request]) -> int:
        """The version :meth:`send` uses for ``api`` on this connection."""
        return negotiate_version(api, self.api_versions, CLIENT_VERSIONS)

    async def send(
        self,
        api: type[Request],
        builder: RequestBuilder | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> Response | None:
        """Send a request of type ``api`` and wait for its response.

        ``builder`` is the request or a function of the negotiated version
        returning it (default: ``api()`` with defaults). Returns ``None`` for
        Produce with ``acks=0``, which has no response. Raises
        :class:`KafkaConnectionError` when the connection fails and
        :class:`KafkaTimeoutError` after ``timeout_ms`` (default
        ``request_timeout_ms``).
        """
        if self._closed:
            raise KafkaConnectionError(
                f"connection to {self.address} is closed", address=self.address
            ) from self._error
        version = self.version_for(api)
        request = api() if builder is None else build_request(builder, version)
        return await self._send(request, version, timeout_ms or self.config.request_timeout_ms)

    async def _send(self, request: Request, version: int, timeout_ms: int) -> Response | None:
        if self._closed or self._writer is None:
            raise KafkaConnectionError(
                f"connection to {self.address} is closed", address=self.address
            ) from self._error
        cid = next(self._correlation_ids)
        data = self._engine.send_request(request, version, correlation_id=cid)
        self.last_used = time.monotonic()
        writer = self._writer
        fut: asyncio.Future[Response] | None = None
        if not (type(request).api_key == 0 and getattr(request, "acks", 1) == 0):
            fut = asyncio.get_running_loop().create_future()
            self._waiters[cid] = fut
        writer.write(data)
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                await writer.drain()
                return await fut if fut is not None else None
        except TimeoutError:
            what = type(request).__name__
            err = KafkaTimeoutError(
                f"{what} to {self.address} got no answer within {timeout_ms} ms"
            )
            self._fail(err)
            raise err from None
        except (ConnectionError, OSError) as e:
            err2 = KafkaConnectionError(
                f"connection to {self.address} failed: {e}", address=self.address
            )
            self._fail(err2)
            raise err2 from e

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            # The data goes to _receive as it arrives; this returns at EOF.
            await self._reader.read(1)
            self._receive(b"")
        except (ConnectionError, OSError) as e:
            self._lost(e)

    def _receive(self, data: bytes) -> None:
        """Feed the engine (``b""``: the broker closed) and answer waiters."""
        self._engine.receive_data(data)
        self._dispatch()

    def _received(self, nbytes: int) -> None:
        """``nbytes`` were read into the engine's buffer: answer waiters."""
        self._engine.buffer_updated(nbytes)
        self._dispatch()

    def _dispatch(self) -> None:
        engine = self._engine
        while True:
            event = engine.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, ResponseReceived):
                fut = self._waiters.pop(event.correlation_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(event.response)
                continue
            if isinstance(event, ConnectionClosed):
                why = "closed by the broker"
            elif isinstance(event, ProtocolViolation):
                why = f"protocol violation: {event.reason}"
            else:
                why = f"unexpected event {event!r}"
            self._lost(ConnectionError(why))
            return

    def _lost(self, error: BaseException) -> None:
        self._fail(
            KafkaConnectionError(
                f"connection to {self.address} lost: {error}", address=self.address
            )
        )

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._closed = True
        waiters, self._waiters = self._waiters, {}
        for fut in waiters.values():
            if not fut.done():
                fut.set_exception(error)
                fut.exception()  # a waiter that timed out never retrieves it
        if self._writer is not None:
            self._writer.close()

    # -- shutdown --------------------------------------------------------------

    async def close(self) -> None:
        """Close the socket; requests still waiting fail with
        :class:`KafkaConnectionError`."""
        self._fail(
            KafkaConnectionError(f"connection to {self.address} closed", address=self.address)
        )
        task, self._read_task = self._read_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
