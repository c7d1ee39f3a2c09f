"""The broker in-process, on a free loopback port, for applications and tests.

Async::

    async with EmbeddedBroker(data_dir=tmp, config={"num.partitions": 3}) as broker:
        Producer({"bootstrap.servers": broker.bootstrap_servers})

From synchronous code the broker runs on an event loop of its own thread::

    with EmbeddedBroker.sync(data_dir=tmp) as broker:
        Producer({"bootstrap.servers": broker.bootstrap_servers})

Without ``data_dir`` the log lives in a temporary directory removed at stop.
A ``data_dir`` another broker (in this process or another) is using makes
``start`` raise ``tidal.log.storage.DataDirInUseError``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._metrics import BrokerMetrics
from tidal.log.broker._server import BrokerServer

__all__ = ["EmbeddedBroker", "EmbeddedBrokerThread"]


class EmbeddedBroker:
    """A Tidal broker served on ``host`` (loopback) and a free port."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        config: Mapping[str, object] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        self._temp_dir: str | None = None
        if data_dir is None:
            self._temp_dir = data_dir = tempfile.mkdtemp(prefix="tidal-broker-")
        self.data_dir = Path(data_dir)
        props: dict[str, object] = dict(config or {})
        props["log.dirs"] = str(self.data_dir)
        self.config = BrokerConfig(props)
        self.server = BrokerServer(self.config, listen=(host, port), metrics=metrics)
        self._running = False

    @classmethod
    def sync(
        cls,
        data_dir: str | Path | None = None,
        config: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> EmbeddedBrokerThread:
        """The same broker on a background thread, for ``with`` blocks."""
        return EmbeddedBrokerThread(data_dir, config, **kwargs)

    @property
    def broker(self) -> Broker:
        """The running broker's state."""
        assert self.server.broker is not None, "the broker is not started"
        return self.server.broker

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for clients."""
        return self.server.bootstrap_servers

    @property
    def port(self) -> int:
        """The port the broker listens on."""
        return self.server.port

    async def start(self) -> None:
        """Recover the data directory and start serving."""
        await self.server.start()
        self._running = True

    async def stop(self) -> None:
        """Close connections and shut down cleanly (flushed, clean-shutdown marker)."""
        if self._running:
            self._running = False
            await self.server.stop()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class EmbeddedBrokerThread:
    """An :class:`EmbeddedBroker` on an event loop in a daemon thread."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        config: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        self._args = (data_dir, config, kwargs)
        self._embedded: EmbeddedBroker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    @property
    def embedded(self) -> EmbeddedBroker:
        """The broker running on the thread."""
        assert self._embedded is not None, "the broker is not started"
        return self._embedded

    @property
    def broker(self) -> Broker:
        """The running broker's state (touch it only from the broker's loop)."""
        return self.embedded.broker

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for clients."""
        return self.embedded.bootstrap_servers

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The broker's event loop (for ``run_coroutine_threadsafe``)."""
        assert self._loop is not None
        return self._loop

    def start(self, timeout: float = 60.0) -> None:
        """Start the thread and wait until the broker accepts connections."""
        self._thread = threading.Thread(target=self._run, name="tidal-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the embedded broker did not start within {timeout} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        data_dir, config, kwargs = self._args
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self._embedded = EmbeddedBroker(data_dir, config, **kwargs)  # type: ignore[arg-type]
            await self._embedded.start()
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            self._error = exc
            self._ready.set()
            if self._embedded is not None:
                await self._embedded.stop()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._embedded.stop()

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the broker down cleanly and join the thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> EmbeddedBrokerThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
