"""Two connection engines wired together in memory, for tests without sockets.

Example::

    pair = ConnectionPair()
    pair.client_send(ApiVersionsRequest(), version=3)
    [event] = pair.broker_events()          # RequestReceived
    pair.broker_send(event.header, ApiVersionsResponse(api_keys=[]))
    [answer] = pair.client_events()         # ResponseReceived
"""

from __future__ import annotations

from tidal.log.protocol._connection import NEED_DATA, Connection, ConnectionClosed, Event, Role
from tidal.log.protocol._headers import RequestHeader
from tidal.log.protocol._schema import Request, Response

__all__ = ["ConnectionPair"]


class ConnectionPair:
    """A client :class:`Connection` and a broker :class:`Connection` whose
    output is delivered to each other; ``chunk`` splits deliveries into
    pieces of that many bytes to exercise reassembly."""

    def __init__(
        self, *, client: Connection | None = None, broker: Connection | None = None, chunk: int = 0
    ) -> None:
        self.client = client or Connection(Role.CLIENT, client_id="tidal-test")
        self.broker = broker or Connection(Role.BROKER)
        self.chunk = chunk

    def _deliver(self, data: bytes | bytearray, to: Connection) -> None:
        if not self.chunk:
            to.receive_data(data)
            return
        for i in range(0, len(data), self.chunk):
            to.receive_data(data[i : i + self.chunk])

    def client_send(self, request: Request, version: int) -> bytearray:
        """Send ``request`` from the client to the broker; return the bytes."""
        data = self.client.send_request(request, version)
        self._deliver(data, self.broker)
        return data

    def broker_send(
        self, header: RequestHeader, response: Response, *, version: int | None = None
    ) -> bytearray:
        """Answer the request with ``header``; return the bytes."""
        data = self.broker.send_response(header, response, version=version)
        self._deliver(data, self.client)
        return data

    def send_raw_to_broker(self, data: bytes) -> None:
        self._deliver(data, self.broker)

    @staticmethod
    def _drain(conn: Connection) -> list[Event]:
        events: list[Event] = []
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                return events
            events.append(event)
            if conn.failed is not None or isinstance(event, ConnectionClosed):
                return events

    def broker_events(self) -> list[Event]:
        """Every event the broker can produce from what it received so far."""
        return self._drain(self.broker)

    def client_events(self) -> list[Event]:
        """Every event the client can produce from what it received so far."""
        return self._drain(self.client)
