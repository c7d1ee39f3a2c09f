"""The broker's asyncio TCP server: listen, track connections, stop cleanly.

``BrokerServer`` owns a :class:`Broker` and its listening socket; each
accepted connection is a :class:`ClientSession` (``_session.py``). Start and
stop order::

    start: broker state (recovery, groups) -> listen -> advertise the bound address
    stop:  stop accepting -> close connections (pending requests cancelled)
           -> broker state (flush, snapshots, clean-shutdown marker)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._metrics import BrokerMetrics
from tidal.log.broker._session import ClientSession
from tidal.log.broker.handlers import registry
from tidal.log.broker.handlers.api_versions import served_specs

__all__ = ["BrokerServer", "parse_address"]

_log = logging.getLogger(__name__)

#: How long ``stop`` waits for connections to finish closing.
_CLOSE_TIMEOUT = 5.0


def parse_address(text: str, *, default_port: int = 9092) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a listener (``PLAINTEXT://host:port``)
    as ``(host, port)``; raises ``ValueError`` naming the bad text."""
    value = text.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split(",", 1)[0]
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = value, str(default_port)
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"bad address {text!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"bad address {text!r}: port {port} is out of range")
    return host, port


class BrokerServer:
    """A broker over ``config``, serving the Kafka protocol on a TCP port.

    >>> server = BrokerServer(BrokerConfig({"log.dirs": "/tmp/tidal"}))  # doctest: +SKIP
    >>> await server.start()                                            # doctest: +SKIP
    >>> server.bootstrap_servers                                        # doctest: +SKIP
    '127.0.0.1:9092'
    """

    def __init__(
        self,
        config: BrokerConfig,
        *,
        listen: tuple[str, int] | None = None,
        advertise: tuple[str, int] | None = None,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        self.config = config
        self.listen = listen if listen is not None else parse_address(config.get("listeners"))
        advertised = config.get("advertised.listeners")
        if advertise is None and advertised:
            advertise = parse_address(advertised)
        self._advertise = advertise
        self.metrics = metrics if metrics is not None else BrokerMetrics()
        self.handlers = registry()
        self.specs = served_specs()
        self.max_frame_size: int = config.get("socket.request.max.bytes")
        self.sessions: set[ClientSession] = set()
        self.broker: Broker | None = None
        self._server: asyncio.Server | None = None

    @property
    def host(self) -> str:
        """The host clients are told to connect to."""
        assert self.broker is not None
        return self.broker.advertised_host

    @property
    def port(self) -> int:
        """The port clients are told to connect to."""
        assert self.broker is not None
        return self.broker.advertised_port

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for a client's ``bootstrap.servers``."""
        host = self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    async def start(self) -> None:
        """Recover the data directory, then accept connections."""
        broker = Broker(self.config)
        self.broker = broker
        self.metrics.attach(broker)
        await broker.start()
        host, port = self.listen
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: ClientSession(self), host or None, port, reuse_address=True, backlog=1024
            )
        except BaseException:
            await broker.stop()
            raise
        bound_host, bound_port = self._server.sockets[0].getsockname()[:2]
        if self._advertise is not None:
            adv_host, adv_port = self._advertise
            broker.advertised_host = adv_host or bound_host
            broker.advertised_port = adv_port or bound_port
        else:
            wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 - only compared
            broker.advertised_host = socket.getfqdn() if wildcard else bound_host
            broker.advertised_port = bound_port
        _log.info(
            "listening on %s:%d, advertising %s", bound_host, bound_port, self.bootstrap_servers
        )

    async def stop(self) -> None:
        """Stop accepting, close every connection, shut the broker state down."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        sessions = list(self.sessions)
        for session in sessions:
            session.abort()
        if sessions:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(s.closed for s in sessions)), _CLOSE_TIMEOUT
                )
        if server is not None:
            await server.wait_closed()
        if self.broker is not None:
            await self.broker.stop()
        _log.info("stopped")
