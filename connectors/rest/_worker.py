"""A Connect worker: a herder plus its REST API on the ``listeners``.

::

    async with ConnectWorker({"bootstrap.servers": "localhost:9092",
                              "listeners": "http://127.0.0.1:0"}) as worker:
        print(worker.url)            # http://127.0.0.1:41234 (a free port was chosen)
        await worker.herder.create_connector("lines", {...})

The listeners are bound before the herder starts, so the worker id (Kafka's ``host:port``
shown as ``worker_id`` in every status) names the real port. uvicorn runs inside the
caller's event loop and leaves signal handling to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import uvicorn

from tidal.connectors.runtime import DistributedHerder, Herder, WorkerConfig, WorkerPlugins

from ._app import create_app

__all__ = ["ConnectWorker", "bind_listener"]

_log = logging.getLogger("tidal.connectors.rest")


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (the worker's owner handles signals)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing."""
        yield


def bind_listener(listener: str) -> socket.socket:
    """A listening socket for ``http://host:port`` (port 0: any free port)."""
    parts = urlsplit(listener)
    host = parts.hostname or "0.0.0.0"  # noqa: S104 (Kafka's "http://:8083" means every interface)
    port = parts.port if parts.port is not None else 8083
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {listener}: {exc.strerror or exc}") from None
    return sock


class ConnectWorker:
    """A worker serving the Connect REST API: standalone, or with ``distributed=True`` a
    member of the ``group.id`` cluster."""

    def __init__(
        self,
        config: WorkerConfig | Mapping[str, str],
        *,
        plugins: WorkerPlugins | None = None,
        distributed: bool = False,
    ) -> None:
        self.config = config if isinstance(config, WorkerConfig) else WorkerConfig(config)
        self.distributed = distributed
        self._plugins = plugins
        self._sockets: list[socket.socket] = []
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._herder: Herder | None = None
        self.urls: list[str] = []

    @property
    def herder(self) -> Herder:
        """The worker's herder (after :meth:`start`)."""
        assert self._herder is not None, "the worker is not started"
        return self._herder

    @property
    def url(self) -> str:
        """The first listener's URL, with the port actually bound."""
        return self.urls[0]

    async def start(self) -> None:
        """Bind the listeners, start the herder, then serve the REST API."""
        try:
            for listener in self.config.listeners:
                sock = bind_listener(listener)
                self._sockets.append(sock)
                host, port = sock.getsockname()[:2]
                shown = urlsplit(listener).hostname or host
                self.urls.append(f"http://{shown}:{port}")
            worker_id = self._worker_id()
            herder_cls = DistributedHerder if self.distributed else Herder
            self._herder = herder_cls(self.config, worker_id=worker_id, plugins=self._plugins)
            await self._herder.start()
            app = create_app(self._herder)
            config = uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off", ws="none",
                http="h11", server_header=False,
            )  # fmt: skip
            self._server = _Server(config)
            self._serving = asyncio.get_running_loop().create_task(
                self._server.serve(sockets=self._sockets), name="connect rest"
            )
            while not self._server.started:
                if self._serving.done():
                    self._serving.result()
                    raise RuntimeError("the REST server stopped while starting")
                await asyncio.sleep(0.01)
        except BaseException:
            await self.stop()
            raise

    def _worker_id(self) -> str:
        advertised_host = self.config.get("rest.advertised.host.name")
        advertised_port = self.config.get("rest.advertised.port")
        url = urlsplit(self.urls[0])
        return f"{advertised_host or url.hostname}:{advertised_port or url.port}"

    async def stop(self) -> None:
        """Stop serving, then stop every connector (committing offsets)."""
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._serving), 10)
            if not self._serving.done():
                self._serving.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._serving
        self._server = self._serving = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        if self._herder is not None:
            await self._herder.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
