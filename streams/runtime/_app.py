"""``App``: one instance of a streams application, from topology to running.

Example::

    from tidal.streams import App

    app = App("word-count")  # no bootstrap servers: an embedded broker
    (app.stream("lines", value_serde="str")
        .flat_map_values(str.split)
        .group_by(lambda key, word: word)
        .count(name="counts")
        .to_stream().to("word-counts"))
    app.run()  # until Ctrl-C / SIGTERM; a final commit, then exit

Run it as several processes with the same ``application_id`` and
``bootstrap_servers`` and they share the work: each is a member of the
consumer group ``application_id`` and runs some of the tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from tidal._gc import throughput_gc
from tidal.log.client.admin import AdminClient
from tidal.streams._contract import CompiledTopologyProtocol, StreamsError, TaskId
from tidal.streams.runtime._config import (
    AT_LEAST_ONCE,
    DEFAULT_STATE_DIR,
    AppConfig,
    BuilderFacade,
    ConfigurationError,
    check_metrics_port,
    mapping,
    state_path,
)
from tidal.streams.runtime._metrics import StreamsMetrics
from tidal.streams.runtime._runtime import StreamsRuntime
from tidal.streams.runtime._tasks import StoreOpener, default_store_opener
from tidal.streams.runtime._topics import prepare_topics

if TYPE_CHECKING:
    from tidal.log.broker import EmbeddedBroker

__all__ = ["App"]

log = logging.getLogger("tidal.streams.runtime")

#: Seconds after the start without a place in the group before the app says
#: it is waiting (a group's first rebalance alone takes 3 s on the broker's defaults).
JOIN_WAIT_LOG_S = 5.0


class App(BuilderFacade):
    """A streams application instance.

    Settings (Kafka Streams' names in snake case):

    * ``application_id``: the consumer group, the prefix of internal topics
      and the state directory's name;
    * ``bootstrap_servers``: a Kafka-compatible cluster; None (the default)
      starts an embedded broker whose log lives in
      ``<state_dir>/<application_id>/broker``;
    * ``state_dir``: where task state lives (``./tidal-state``);
    * ``processing_guarantee``: ``"at_least_once"`` or ``"exactly_once_v2"``
      (outputs, changelogs and consumed offsets commit in one Kafka
      transaction; see docs/streams-runtime.md);
    * ``commit_interval_ms``: Kafka Streams' defaults: 30000 under
      at-least-once, 100 under exactly-once;
    * ``default_key_serde`` / ``default_value_serde``: serdes (or their
      names) for topics and stores that name none;
    * ``deserialization_exception_handler``: ``"fail"`` or
      ``"log_and_continue"``, with ``dead_letter_topic`` for the skipped
      records;
    * ``auto_offset_reset``: where a new group starts (``"earliest"``);
    * ``client_config``, ``consumer_config``, ``producer_config``: Kafka
      client settings passed through; ``broker_config``: the embedded
      broker's settings;
    * ``metrics_registry`` / ``metrics_port``: see :mod:`._metrics`;
    * ``topology``: a compiled topology to run instead of ``app.builder``'s;
    * ``store_opener``: ``(StoreSpec, task_dir) -> PartitionStore``, how a
      task's stores open (default: :func:`tidal.streams.state.open_store`).
    """

    def __init__(
        self,
        application_id: str,
        bootstrap_servers: str | None = None,
        *,
        state_dir: str | Path = DEFAULT_STATE_DIR,
        processing_guarantee: str = AT_LEAST_ONCE,
        commit_interval_ms: int | None = None,
        default_key_serde: Any = None,
        default_value_serde: Any = None,
        deserialization_exception_handler: str = "fail",
        dead_letter_topic: str | None = None,
        auto_offset_reset: str = "earliest",
        client_config: Mapping[str, object] | None = None,
        consumer_config: Mapping[str, object] | None = None,
        producer_config: Mapping[str, object] | None = None,
        broker_config: Mapping[str, object] | None = None,
        metrics_registry: CollectorRegistry | None = None,
        metrics_port: int | None = None,
        topology: CompiledTopologyProtocol | None = None,
        store_opener: StoreOpener = default_store_opener,
    ) -> None:
        self.config = AppConfig(
            application_id=application_id,
            bootstrap_servers=bootstrap_servers,
            state_dir=state_path(state_dir),
            processing_guarantee=processing_guarantee,
            commit_interval_ms=commit_interval_ms,
            deserialization_exception_handler=deserialization_exception_handler,
            dead_letter_topic=dead_letter_topic,
            auto_offset_reset=auto_offset_reset,
            client_config=dict(mapping("client_config", client_config or {})),
            consumer_config=dict(mapping("consumer_config", consumer_config or {})),
            producer_config=dict(mapping("producer_config", producer_config or {})),
            broker_config=dict(mapping("broker_config", broker_config or {})),
        )
        super().__init__(application_id, default_key_serde, default_value_serde, topology)
        self.metrics = StreamsMetrics(application_id, metrics_registry)
        self._metrics_port = check_metrics_port(metrics_port)
        #: When to say the app is still waiting to join its group (once).
        self._join_log_at: float | None = None
        self._store_opener = store_opener
        self._broker: EmbeddedBroker | None = None
        self._runtime: StreamsRuntime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = threading.Event()
        #: How many :meth:`wait` calls are processing; :meth:`close` stops them first.
        self._waiting = 0
        self._wait_done: asyncio.Event | None = None
        self._bootstrap: str | None = bootstrap_servers
        #: The port ``/metrics`` is served on once started (``metrics_port=0``: a free one).
        self.metrics_port: int | None = None
        #: ``created``, ``running``, ``stopped`` or ``failed``.
        self.state = "created"

    @property
    def application_id(self) -> str:
        return self.config.application_id

    def configure(self, **overrides: Any) -> None:
        """Change settings before the app starts (``tidal run`` flags use this).

        Takes :class:`AppConfig` field names; each value is checked as in the
        constructor. ``application_id`` cannot change for a topology given
        already compiled (it names the internal topics).
        """
        if self.state != "created":
            raise StreamsError("settings can change only before the app starts")
        unknown = set(overrides) - set(AppConfig.__dataclass_fields__)
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "state_dir" in overrides:
            overrides["state_dir"] = state_path(overrides["state_dir"])
        new_id = overrides.get("application_id", self.config.application_id)
        self.config = dataclasses.replace(self.config, **overrides)
        if new_id != self._application_id:
            self.rename(new_id)
            # Same series, new label: nothing was recorded before the start.
            self.metrics.application_id = new_id
        self._bootstrap = self.config.bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        """The cluster address (the embedded broker's once it is started)."""
        if self._bootstrap is None:
            raise StreamsError("the embedded broker is not started yet: await app.start() first")
        return self._bootstrap

    # -- starting and stopping -----------------------------------------------------

    async def start(self) -> None:
        """Start the broker (if embedded), create topics, join the group.

        Processing then goes on in the background until :meth:`close`;
        :meth:`run_async` does start, wait and close in one call.
        """
        if self.state != "created":
            raise StreamsError(f"the app is {self.state}; an App starts once")
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested.is_set():
            self._stop.set()
        topology = self.topology()
        try:
            if self.config.bootstrap_servers is None:
                from tidal.log.broker import EmbeddedBroker  # noqa: PLC0415 - only when embedded

                self.config.broker_dir.mkdir(parents=True, exist_ok=True)
                self._broker = EmbeddedBroker(self.config.broker_dir, self.config.broker_config)
                await self._broker.start()
                self._bootstrap = self._broker.bootstrap_servers
            settings = self.client_settings()
            async with AdminClient(settings) as admin:
                dlq = [self.config.dead_letter_topic] if self.config.dead_letter_topic else []
                await prepare_topics(
                    admin, topology, create_sources=self._broker is not None, extra=dlq
                )
            self._runtime = StreamsRuntime(
                self.config, topology, settings, self.metrics, self._store_opener
            )
            await self._runtime.start()
            self._join_log_at = time.monotonic() + JOIN_WAIT_LOG_S
            if self._metrics_port is not None:
                self.metrics_port = self.metrics.serve(self._metrics_port)
            where = f"embedded broker in {self.config.broker_dir}" if self._broker else "cluster"
            log.info(
                "app '%s' running against %s (%s)", self.application_id, self._bootstrap, where
            )
        except BaseException:
            self.state = "failed"
            await self._shutdown(failed=True)
            raise
        self.state = "running"

    def client_settings(self) -> dict[str, object]:
        """Settings shared by the app's clients: the cluster and ``client_config``."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.config.application_id,
            **self.config.client_config,
        }

    def stop(self) -> None:
        """Ask the app to stop (safe from signal handlers and other threads).

        The run loop then makes a final commit and closes cleanly.
        """
        self._stop_requested.set()
        loop, event = self._loop, self._stop
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    async def wait(
        self, *, timeout: float | None = None, stop_when_idle_ms: int | None = None
    ) -> None:
        """Process until :meth:`stop`, ``timeout`` seconds, or (with
        ``stop_when_idle_ms``) until every input is read to its end and
        nothing arrived for that long. Raises what stopped the app."""
        runtime, stop = self._running()
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = self.config.commit_interval / 1000
        poll_ms = min(100, self.config.commit_interval)
        next_commit = time.monotonic() + interval
        done = self._wait_done = self._wait_done or asyncio.Event()
        self._waiting += 1
        done.clear()
        try:
            while not stop.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if (
                    stop_when_idle_ms is not None
                    and now - runtime.last_activity >= stop_when_idle_ms / 1000
                    and runtime.caught_up()
                ):
                    break
                await runtime.run_once(poll_ms)
                if self._join_log_at is not None and time.monotonic() >= self._join_log_at:
                    self._join_log_at = None
                    self._log_join_wait(runtime)
                if time.monotonic() >= next_commit:
                    async with runtime.lock:
                        await runtime.commit()
                    next_commit = time.monotonic() + interval
        except BaseException as e:
            if not isinstance(e, asyncio.CancelledError):
                runtime.fail()
                self.state = "failed"
                log.error("the app stops: %s", e)
            raise
        finally:
            self._waiting -= 1
            if self._waiting == 0:
                done.set()

    def _log_join_wait(self, runtime: StreamsRuntime) -> None:
        """Say so when the app has not joined its group yet: after a member was
        killed (no LeaveGroup), the group waits for that member's session to
        time out before it rebalances, and the app sits idle until then."""
        if runtime.consumer.group_metadata().generation_id >= 0:
            return
        log.info(
            "waiting to join group %s (a previous member may still hold tasks until its "
            "session times out after %d ms)",
            self.application_id,
            runtime.consumer.config.session_timeout_ms,
        )

    async def close(self) -> None:
        """Final commit (unless the app failed), leave the group, stop the broker.

        A :meth:`wait` still processing is stopped first (it returns normally):
        closing an app is not a failure of it.
        """
        if self.state in ("stopped", "created"):
            return
        if self._waiting and self._wait_done is not None:
            self.stop()
            await self._wait_done.wait()
        await self._shutdown(failed=self.state == "failed")
        if self.state != "failed":
            self.state = "stopped"

    async def _shutdown(self, *, failed: bool) -> None:
        runtime, self._runtime = self._runtime, None
        self.metrics.stop_serving()
        try:
            if runtime is not None:
                if failed:
                    runtime.fail()
                await runtime.close()
        finally:
            if self._broker is not None:
                await self._broker.stop()
                self._broker = None

    async def run_async(
        self, *, timeout: float | None = None, stop_when_idle_ms: int | None = None
    ) -> None:
        """Start, process (see :meth:`wait`), then close after a final commit."""
        await self.start()
        try:
            await self.wait(timeout=timeout, stop_when_idle_ms=stop_when_idle_ms)
        finally:
            await asyncio.shield(self.close())

    def run(
        self,
        *,
        timeout: float | None = None,
        stop_when_idle_ms: int | None = None,
        handle_signals: bool = True,
    ) -> None:
        """Run until stopped, blocking (a fresh event loop).

        SIGINT (Ctrl-C) and SIGTERM stop the app after a final commit when
        ``handle_signals`` is true and this is the main thread.

        The garbage collector runs with raised thresholds meanwhile, restored on return
        (``TIDAL_GC_THRESHOLD`` sets others, ``off`` keeps Python's; see :mod:`tidal._gc`).
        """

        async def main() -> None:
            loop = asyncio.get_running_loop()
            installed = []
            if handle_signals and threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.add_signal_handler(sig, self.stop)
                        installed.append(sig)
            try:
                await self.run_async(timeout=timeout, stop_when_idle_ms=stop_when_idle_ms)
            finally:
                for sig in installed:
                    loop.remove_signal_handler(sig)

        with throughput_gc():
            asyncio.run(main())

    def _running(self) -> tuple[StreamsRuntime, asyncio.Event]:
        if self._runtime is None or self._stop is None:
            raise StreamsError("the app is not running: await app.start() first")
        return self._runtime, self._stop

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- local queries -------------------------------------------------------------

    def local_tasks(self) -> list[TaskId]:
        """The tasks this instance is processing now (restored and running)."""
        if self._runtime is None:
            return []
        return sorted(t.id for t in self._runtime.tasks.tasks.values() if not t.restoring)

    def store(self, name: str, *, key_serde: Any = None, value_serde: Any = None) -> Any:
        """A read-only view of store ``name`` over this instance's tasks.

        Keys and values are read with the given serdes (default: the app's
        default serdes, else msgpack). Only tasks running here are seen;
        other instances hold the rest of the keys.
        """
        from tidal.streams.state import ReadOnlyKeyValueStore  # noqa: PLC0415

        runtime, _ = self._running()
        if name not in runtime.tasks.store_names():
            known = ", ".join(sorted(runtime.tasks.store_names())) or "none"
            raise KeyError(f"no store '{name}' in the topology (its stores: {known})")
        ks, vs = self.store_serdes(runtime.topology, name, key_serde, value_serde)
        return ReadOnlyKeyValueStore(lambda: runtime.tasks.store_instances(name), ks, vs)
