"""A sans-I/O Kafka connection: bytes in, events out, bytes to send back.

The same engine serves both ends (h11 style). It owns the int32 length
framing, correlation ids and, on a client, the api key and version of each
request in flight, which a response needs to be decoded::

    client = Connection(Role.CLIENT, client_id="app")
    data = client.send_request(MetadataRequest(topics=None), version=12)
    ...  # write data to the socket; feed what comes back:
    client.receive_data(received)
    event = client.next_event()  # ResponseReceived, NEED_DATA, ...

A broker gets :class:`RequestReceived` (header + decoded body),
:class:`UnsupportedRequest` for an unknown api key or a version it does not
serve (it may answer, as Kafka does for ApiVersions, or close), and
:class:`ProtocolViolation` for oversized or malformed frames, after which the
connection is finished and every later call returns the same event.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import struct
from collections import deque
from dataclasses import dataclass

from tidal.log.protocol._chunks import Piece, PiecesBuffer
from tidal.log.protocol._compiler import codec_for
from tidal.log.protocol._exceptions import ProtocolDecodeError, ProtocolError
from tidal.log.protocol._headers import (
    RequestHeader,
    ResponseHeader,
    request_header_version,
    response_header_version,
)
from tidal.log.protocol._schema import Request, Response
from tidal.log.protocol._types import DEFAULT_LIMITS, DecodeLimits
from tidal.log.protocol.messages import API_SPECS, ApiSpec

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "NEED_DATA",
    "Connection",
    "ConnectionClosed",
    "Event",
    "NeedData",
    "ProtocolViolation",
    "RequestReceived",
    "ResponseReceived",
    "Role",
    "UnsupportedRequest",
]

#: Kafka's ``socket.request.max.bytes`` default.
DEFAULT_MAX_FRAME_SIZE = 104_857_600
_SIZE = struct.Struct(">i")
#: What get_buffer offers between frames (asyncio reads at most 256 KiB too).
_SCRATCH_SIZE = 256 * 1024
_API_VERSIONS = 18


class Role(enum.Enum):
    CLIENT = "client"
    BROKER = "broker"


class NeedData:
    """More bytes are needed before the next event."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A request a broker must handle (and answer unless it is Produce acks=0)."""

    header: RequestHeader
    request: Request


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response a client was waiting for, with the request it answers and
    the version its body was read in (0 for an ApiVersions answer a broker sent
    as v0 because it did not know the version asked)."""

    correlation_id: int
    api_version: int
    request: Request
    response: Response


@dataclass(frozen=True, slots=True)
class UnsupportedRequest:
    """A request of an unknown api key or of a version the broker does not
    serve; its body was not decoded. ``header.client_id`` is best effort."""

    header: RequestHeader
    reason: str


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """Bytes that break the protocol; the connection cannot continue."""

    reason: str
    correlation_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its side (``receive_data(b"")``) at a frame boundary."""


Event = (
    RequestReceived
    | ResponseReceived
    | UnsupportedRequest
    | ProtocolViolation
    | ConnectionClosed
    | NeedData
)


@dataclass(slots=True)
class _InFlight:
    api_version: int
    request: Request


class Connection:
    """One end of a Kafka connection, without I/O. See the module docstring.

    With ``records_views`` (a client), the RECORDS fields of responses are
    read-only ``memoryview`` slices of the response's frame instead of
    ``bytes`` copies: a Fetch response's record data is then never copied
    between the socket and the record decoder. Each frame is a buffer of its
    own that is never reused, so the views stay valid while they are held.
    """

    def __init__(
        self,
        role: Role,
        *,
        client_id: str | None = None,
        apis: dict[int, ApiSpec] | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        limits: DecodeLimits = DEFAULT_LIMITS,
        records_views: bool = False,
    ) -> None:
        self.role = role
        self.client_id = client_id
        self.apis = API_SPECS if apis is None else apis
        self.max_frame_size = max_frame_size
        self.limits = limits
        #: Decode RECORDS fields of responses as read-only views of their frame.
        self.records_views = records_views
        self._views_limits = (limits, dataclasses.replace(limits, records_views=True))
        # Framing state. ``_head`` holds the first bytes of a frame until its
        # 4-byte size is known; ``_frame`` is then allocated at its final size
        # and filled in place (``_filled`` bytes so far), so a frame spread
        # over many reads is copied once, never appended to and copied again.
        # Whole frames wait in ``_ready``; ``_bad_size`` is a size past the
        # limit, reported (after the frames before it) by next_event.
        self._head = bytearray()
        self._frame: bytearray | None = None
        self._filled = 0
        self._ready: deque[bytes | bytearray] = deque()
        self._bad_size: int | None = None
        self._scratch: bytearray | None = None  # get_buffer's, between frames
        self._eof = False
        self._error: ProtocolViolation | None = None
        self._in_flight: dict[int, _InFlight] = {}
        self._correlation_ids = itertools.count()
        self._awaiting_answer: set[int] = set()

    # -- state ---------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Requests sent (client) or received (broker) and not yet answered."""
        return len(self._in_flight) if self.role is Role.CLIENT else len(self._awaiting_answer)

    @property
    def failed(self) -> ProtocolViolation | None:
        """The violation that ended this connection, if any."""
        return self._error

    # -- input ---------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes read from the peer; ``b""`` means the peer closed.

        ``data`` is not kept: every byte is copied into a frame of this
        connection's own, so the caller may reuse its buffer at once.
        """
        if not data:
            self._eof = True
            return
        if self._error is not None or self._bad_size is not None:
            return  # nothing after a violation is read
        with memoryview(data) as view:
            self._split(view.cast("B") if view.format != "B" or view.ndim != 1 else view)

    def get_buffer(self) -> memoryview:
        """A writable buffer to read the next bytes into, for a reader that
        fills buffers in place (``recv_into``, asyncio's ``BufferedProtocol``);
        report how many bytes went in with :meth:`buffer_updated` before
        asking for another.

        Inside a frame this is the rest of the frame itself, so its bytes are
        never copied after the read; between frames it is a scratch buffer
        that this connection reuses, so nothing is kept that points into it
        (whole frames are copied out of it, the start of a larger one into
        that frame).
        """
        frame = self._frame
        if frame is not None:
            return memoryview(frame)[self._filled :]
        if self._scratch is None:
            self._scratch = bytearray(_SCRATCH_SIZE)
        return memoryview(self._scratch)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were read into the buffer :meth:`get_buffer` returned."""
        frame = self._frame
        if frame is not None:
            if nbytes < 0 or nbytes > len(frame) - self._filled:
                raise ProtocolError(f"{nbytes} bytes do not fit the buffer handed out")
            self._filled += nbytes
            if self._filled == len(frame):
                self._ready.append(frame)
                self._frame = None
            return
        if self._scratch is None or not 0 < nbytes <= len(self._scratch):
            raise ProtocolError(f"{nbytes} bytes do not fit the buffer handed out")
        with memoryview(self._scratch) as view:
            self.receive_data(view[:nbytes])

    def _split(self, view: memoryview) -> None:
        """Cut ``view`` into frames: copy each byte once, into its frame."""
        pos = 0
        end = len(view)
        head = self._head
        while pos < end:
            frame = self._frame
            if frame is not None:
                filled = self._filled
                take = min(end - pos, len(frame) - filled)
                frame[filled : filled + take] = view[pos : pos + take]
                pos += take
                if filled + take < len(frame):
                    self._filled = filled + take
                    return
                self._ready.append(frame)
                self._frame = None
                continue
            if head or end - pos < 4:
                take = min(4 - len(head), end - pos)
                head += view[pos : pos + take]
                pos += take
                if len(head) < 4:
                    return
                (size,) = _SIZE.unpack_from(head)
                head.clear()
            else:
                (size,) = _SIZE.unpack_from(view, pos)
                pos += 4
            if size < 0 or size > self.max_frame_size:
                self._bad_size = size
                return
            if end - pos >= size:
                # The whole frame is here: one copy, straight out of ``data``.
                self._ready.append(view[pos : pos + size].tobytes())
                pos += size
            else:
                self._frame = bytearray(size)
                self._filled = 0

    def next_event(self) -> Event:
        """The next complete event, or :data:`NEED_DATA`."""
        if self._error is not None:
            return self._error
        if self._ready:
            frame = self._ready.popleft()
            # Decoders read the frame through a read-only view: their slices
            # copy once (``bytes(view[a:b])``) or, for RECORDS with
            # ``records_views``, not at all. Ownership: a frame is allocated
            # for one message and never written again once it is here, so
            # views of it stay valid for as long as anyone holds them (they
            # keep the frame alive); nothing may hand out views of a buffer
            # that is reused, like ``_head`` or the caller's ``data``.
            view = memoryview(frame).toreadonly()
            if self.role is Role.BROKER:
                return self._request_event(view)
            return self._response_event(view)
        if self._bad_size is not None:
            size, limit = self._bad_size, self.max_frame_size
            return self._fail(f"frame of {size} bytes exceeds the maximum of {limit} bytes")
        if self._eof:
            partial = len(self._head) or (4 + self._filled if self._frame is not None else 0)
            if not partial:
                return ConnectionClosed()
            return self._fail(f"connection closed inside a frame ({partial} bytes)")
        return NEED_DATA

    def _fail(self, reason: str, correlation_id: int | None = None) -> ProtocolViolation:
        self._error = ProtocolViolation(reason, correlation_id)
        self._head.clear()
        self._frame = None
        self._ready.clear()
        return self._error

    def _request_event(self, frame: memoryview) -> Event:
        try:
            api_key, api_version, correlation_id = RequestHeader.peek(frame)
        except ProtocolDecodeError as e:
            return self._fail(str(e))
        spec = self.apis.get(api_key)
        flexible = spec.flexible_from if spec is not None else None
        header_version = request_header_version(api_version, flexible)
        try:
            header, pos = RequestHeader.decode(frame, header_version)
        except ProtocolDecodeError as e:
            return self._fail(f"bad request header: {e}", correlation_id)
        if spec is None:
            return UnsupportedRequest(header, f"unknown api key {api_key}")
        if not spec.serves(api_version):
            return UnsupportedRequest(header, f"{spec.name} v{api_version} is not supported")
        try:
            # Kafka's broker ignores bytes after a request body, and librdkafka
            # 2.16 sends Metadata v12 with a stray v8-10 field and tag after it.
            request = spec.request.decode(frame, api_version, self.limits, pos, exact=False)
        except ProtocolDecodeError as e:
            return self._fail(str(e), correlation_id)
        if not (api_key == 0 and getattr(request, "acks", 1) == 0):
            self._awaiting_answer.add(correlation_id)
        return RequestReceived(header, request)

    def _response_event(self, frame: memoryview) -> Event:
        if len(frame) < 4:
            return self._fail("response shorter than its header")
        (correlation_id,) = _SIZE.unpack_from(frame)
        pending = self._in_flight.pop(correlation_id, None)
        if pending is None:
            return self._fail(f"response to unknown correlation id {correlation_id}")
        cls = type(pending.request)
        header_version = response_header_version(
            cls.api_key, pending.api_version, cls.flexible_from
        )
        spec = self.apis.get(cls.api_key)
        response_cls = spec.response if spec is not None else None
        if response_cls is None:
            return self._fail(f"no response declared for api key {cls.api_key}")
        version = pending.api_version
        limits = self._limits_for_responses()
        try:
            _, pos = ResponseHeader.decode(frame, header_version)
            try:
                response = response_cls.decode(frame, version, limits, pos)
            except ProtocolDecodeError:
                # A broker that does not know this ApiVersions version answers
                # with a v0 body (KIP-511); Kafka's client falls back the same way.
                if cls.api_key != _API_VERSIONS or version == 0:
                    raise
                version = 0
                response = response_cls.decode(frame, version, limits, pos)
        except ProtocolDecodeError as e:
            return self._fail(str(e), correlation_id)
        return ResponseReceived(correlation_id, version, pending.request, response)

    def _limits_for_responses(self) -> DecodeLimits:
        limits = self.limits
        if not self.records_views:
            return limits
        if self._views_limits[0] is not limits:
            self._views_limits = (limits, dataclasses.replace(limits, records_views=True))
        return self._views_limits[1]

    def prepare(self, api: type[Request], version: int) -> None:
        """Compile now, rather than on first use, the codecs that sending
        ``api`` at ``version`` and reading its answer on this connection take
        (compiling a Fetch pair takes tens of milliseconds)."""
        codec_for(api, version, DEFAULT_LIMITS)
        spec = self.apis.get(api.api_key)
        if spec is not None and spec.response is not None and spec.response.supports(version):
            codec_for(spec.response, version, self._limits_for_responses())

    # -- output --------------------------------------------------------------

    def send_request(
        self, request: Request, version: int, *, correlation_id: int | None = None
    ) -> bytearray:
        """Frame ``request`` in ``version``; the bytes to write to the socket.

        Correlation ids count up from 0 unless given. Produce with ``acks=0``
        expects no response and is not kept in flight. The result is a fresh
        buffer the caller owns: a ``bytes`` copy of a 1 MiB frame would cost
        more than encoding it.
        """
        if self.role is not Role.CLIENT:
            raise ProtocolError("only a client sends requests")
        cls = type(request)
        if correlation_id is None:
            correlation_id = next(self._correlation_ids)
        if correlation_id in self._in_flight:
            raise ProtocolError(f"correlation id {correlation_id} is already in flight")
        header = RequestHeader(cls.api_key, version, correlation_id, self.client_id)
        out = bytearray(4)
        header.encode_into(out, request_header_version(version, cls.flexible_from))
        request.encode_into(out, version)
        _SIZE.pack_into(out, 0, len(out) - 4)
        if not (cls.api_key == 0 and getattr(request, "acks", 1) == 0):
            self._in_flight[correlation_id] = _InFlight(version, request)
        return out

    def send_response(
        self, header: RequestHeader, response: Response, *, version: int | None = None
    ) -> bytearray:
        """Frame the answer to the request with ``header`` (a fresh buffer).

        ``version`` defaults to the request's; pass 0 to answer an
        unsupported ApiVersions request with a v0 body (KIP-511).
        """
        if self.role is not Role.BROKER:
            raise ProtocolError("only a broker sends responses")
        self._awaiting_answer.discard(header.correlation_id)
        cls = type(response)
        version = header.api_version if version is None else version
        out = bytearray(4)
        header_version = response_header_version(cls.api_key, version, cls.flexible_from)
        ResponseHeader(header.correlation_id).encode_into(out, header_version)
        response.encode_into(out, version)
        _SIZE.pack_into(out, 0, len(out) - 4)
        return out

    def send_response_pieces(
        self, header: RequestHeader, response: Response, *, version: int | None = None
    ) -> list[Piece]:
        """Like :meth:`send_response`, but ``RecordsChunk`` values in RECORDS
        fields stay out of line: the frame comes back as byte runs and chunks,
        in wire order, for the I/O layer to write (``sendfile`` the chunks)."""
        if self.role is not Role.BROKER:
            raise ProtocolError("only a broker sends responses")
        self._awaiting_answer.discard(header.correlation_id)
        cls = type(response)
        version = header.api_version if version is None else version
        out = PiecesBuffer(b"\0\0\0\0")
        header_version = response_header_version(cls.api_key, version, cls.flexible_from)
        ResponseHeader(header.correlation_id).encode_into(out, header_version)
        response.encode_into(out, version)
        _SIZE.pack_into(out, 0, len(out) - 4 + out.chunk_bytes)
        return out.pieces()
