"""The kernel every client is built on: connections, metadata, coordinators.

One :class:`Kernel` per client object. It owns

* a pool of :class:`BrokerConnection`, one per node, opened on first use with
  reconnect backoff (bootstrap addresses get node ids -1, -2, ... as in Kafka),
  plus one more to each coordinator's broker for the coordinator requests
  (``COORDINATOR_APIS``) so that they never wait behind a long-poll Fetch (pool
  id :func:`coordinator_connection_id`, ``2**31 - 1 - node id``, as in Java);
* the :class:`Cluster` metadata cache, refreshed on demand (coalesced) and
  every ``metadata_max_age_ms``; idle connections close after
  ``connections_max_idle_ms``;
* coordinator lookups (FindCoordinator), cached until invalidated;
* :meth:`retry`: backoff within a deadline on retriable errors.

Callers send with the negotiated version handed to their builder::

    kernel = Kernel(ClientConfig.build(bootstrap_servers=servers))
    await kernel.start()
    resp = await kernel.send(node_id, ListOffsetsRequest, lambda v: ListOffsetsRequest(...))
    node = await kernel.coordinator("my-group")
    await kernel.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from tidal.log.client._cluster import Cluster, ClusterMetadata
from tidal.log.client._config import ClientConfig
from tidal.log.client._connection import BrokerConnection, RequestBuilder
from tidal.log.client._coordinators import (
    COORDINATOR_APIS,
    CoordinatorCache,
    CoordinatorType,
    broker_id,
    coordinator_connection_id,
    is_coordinator_connection,
)
from tidal.log.client._errors import ClientClosedError, KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._types import Node
from tidal.log.protocol import Request
from tidal.log.protocol.errors import KafkaError
from tidal.log.protocol.messages import MetadataRequest, MetadataResponse
from tidal.log.protocol.messages.metadata import MetadataRequestTopic

__all__ = ["Kernel"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Kernel:
    """Connections, metadata and coordinators for one client (see module doc)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.cluster = Cluster()
        self._bootstrap = {
            -(i + 1): Node(-(i + 1), host, port)
            for i, (host, port) in enumerate(config.bootstrap_addresses)
        }
        self._nodes: dict[int, Node] = {}
        # Pooled by connection id: the node id, or coordinator_connection_id(node id).
        self._conns: dict[int, BrokerConnection] = {}
        self._connecting: dict[int, asyncio.Task[BrokerConnection]] = {}
        self._backoff: dict[int, tuple[float, int]] = {}  # node -> (until, failures)
        self._refreshing: asyncio.Task[ClusterMetadata] | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self.coordinators = CoordinatorCache(self)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, timeout_ms: int | None = None) -> None:
        """Fetch the first metadata from a bootstrap server within ``timeout_ms``
        (default ``default_api_timeout_ms``); an unreachable bootstrap list
        raises :class:`KafkaConnectionError` naming the addresses."""
        timeout = timeout_ms if timeout_ms is not None else self.config.default_api_timeout_ms
        try:
            async with asyncio.timeout(timeout / 1000):
                await self.retry(self.refresh_metadata, timeout_ms=None)
        except TimeoutError:
            addresses = ", ".join(n.address for n in self._bootstrap.values())
            raise KafkaConnectionError(
                f"no bootstrap server reachable ({addresses}) within {timeout} ms",
                address=addresses,
            ) from None
        self._maintainer = asyncio.get_running_loop().create_task(self._maintain())

    async def close(self) -> None:
        """Stop background work and close every connection."""
        self._closed = True
        tasks: list[asyncio.Task[Any]] = [
            t for t in (self._maintainer, self._refreshing) if t is not None
        ]
        tasks += self._connecting.values()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        conns, self._conns = list(self._conns.values()), {}
        for c in conns:
            await c.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- nodes and connections ---------------------------------------------------

    def node(self, node_id: int) -> Node | None:
        """The broker ``node_id`` (bootstrap ids are negative)."""
        return self._nodes.get(node_id) or self._bootstrap.get(node_id)

    def add_node(self, node: Node) -> None:
        """Remember a broker learnt outside Metadata (a coordinator)."""
        self._nodes[node.node_id] = node

    async def connection(self, node_id: int) -> BrokerConnection:
        """An open connection to ``node_id``, connecting (once) if needed;
        ``coordinator_connection_id(node)`` names the coordinator connection
        to ``node``."""
        if self._closed:
            raise ClientClosedError("the client is closed")
        conn = self._conns.get(node_id)
        if conn is not None and conn.connected:
            return conn
        task = self._connecting.get(node_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._connect(node_id))
            self._connecting[node_id] = task
            task.add_done_callback(lambda _t: self._connecting.pop(node_id, None))
        return await asyncio.shield(task)

    async def _connect(self, conn_id: int) -> BrokerConnection:
        node_id = broker_id(conn_id)  # backoff is per broker, whichever connection failed
        node = self.node(node_id)
        if node is None:
            raise KafkaConnectionError(f"unknown broker node {node_id}")
        until, failures = self._backoff.get(node_id, (0.0, 0))
        delay = until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = BrokerConnection(node.host, node.port, config=self.config, node_id=node_id)
        try:
            await conn.connect()
        except KafkaError:
            base = self.config.reconnect_backoff_ms * 2**failures
            wait = min(base, self.config.reconnect_backoff_max_ms) * random.uniform(0.8, 1.2)
            self._backoff[node_id] = (time.monotonic() + wait / 1000, failures + 1)
            raise
        self._backoff.pop(node_id, None)
        old = self._conns.get(conn_id)
        if old is not None:
            await old.close()
        self._conns[conn_id] = conn
        return conn

    def disconnect(self, node_id: int) -> None:
        """Drop the pooled connection ``node_id`` (a node id or a coordinator
        connection id) after an error."""
        conn = self._conns.pop(node_id, None)
        if conn is not None:
            asyncio.get_running_loop().create_task(conn.close())

    # -- requests ----------------------------------------------------------------

    async def send(
        self,
        node_id: int,
        api: type[Request],
        builder: RequestBuilder | None = None,
        *,
        timeout_ms: int | None = None,
        coordinator: bool | None = None,
    ) -> Any:
        """Send to ``node_id`` at the highest common version of ``api``.

        ``builder(version)`` (or a ready request) makes the request. Returns
        the response (``None`` for Produce acks=0). A failed connection is
        dropped from the pool and :class:`KafkaConnectionError` raised; this
        call does not retry (see :meth:`retry`).

        ``coordinator`` picks the node's coordinator connection (default:
        for the coordinator-only APIs, ``COORDINATOR_APIS``), where requests
        do not queue behind Fetch and Produce to the same broker.
        """
        use_coordinator = api in COORDINATOR_APIS if coordinator is None else coordinator
        conn_id = coordinator_connection_id(node_id) if use_coordinator else node_id
        conn = await self.connection(conn_id)
        try:
            return await conn.send(api, builder, timeout_ms=timeout_ms)
        except (KafkaConnectionError, KafkaTimeoutError):
            if self._conns.get(conn_id) is conn:
                self.disconnect(conn_id)
            raise

    def least_loaded_node(self) -> int:
        """A connected node with the fewest requests in flight, else a known
        node, else a bootstrap address."""
        connected = [
            c
            for conn_id, c in self._conns.items()
            if c.connected and c.node_id is not None and not is_coordinator_connection(conn_id)
        ]
        if connected:
            best = min(connected, key=lambda c: c.in_flight)
            assert best.node_id is not None
            return best.node_id
        known = [n for n in self._nodes if self._backoff.get(n, (0.0, 0))[0] <= time.monotonic()]
        pool = known or list(self._nodes) or list(self._bootstrap)
        return random.choice(pool)

    async def send_to_any(
        self, api: type[Request], builder: RequestBuilder | None = None, **kwargs: Any
    ) -> Any:
        """:meth:`send` to the least loaded node."""
        return await self.send(self.least_loaded_node(), api, builder, **kwargs)

    async def retry(
        self,
        op: Callable[[], Awaitable[T]],
        *,
        timeout_ms: int | None = None,
        retriable: Callable[[KafkaError], bool] | None = None,
    ) -> T:
        """Run ``op`` until it succeeds, backing off after errors that
        ``retriable`` accepts (default: ``e.retriable``), for at most
        ``timeout_ms`` (``None``: no deadline of its own, the caller bounds it);
        then :class:`KafkaTimeoutError` with the last error as its cause."""
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        attempt = 0
        while True:
            try:
                return await op()
            except KafkaError as e:
                ok = retriable(e) if retriable is not None else e.retriable
                if not ok or self._closed:
                    raise
                wait = self.backoff_ms(attempt) / 1000
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise KafkaTimeoutError(
                        f"gave up after {timeout_ms} ms; last error: {e}"
                    ) from e
                log.debug("retrying after %s", e)
                if isinstance(e, KafkaConnectionError) or not isinstance(e, KafkaTimeoutError):
                    self.cluster.request_update()
                attempt += 1
                await asyncio.sleep(wait)

    def backoff_ms(self, attempt: int) -> float:
        """Exponential retry backoff with jitter (Kafka's KIP-580)."""
        base: float = self.config.retry_backoff_ms * 2.0**attempt
        return min(base, float(self.config.retry_backoff_max_ms)) * random.uniform(0.8, 1.2)

    # -- metadata ----------------------------------------------------------------

    async def refresh_metadata(self) -> ClusterMetadata:
        """Fetch metadata for the tracked topics (``cluster.topics``) and
        install it; concurrent calls share one request."""
        task = self._refreshing
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._refresh())
            self._refreshing = task
        return await asyncio.shield(task)

    async def _refresh(self) -> ClusterMetadata:
        metadata = await self.fetch_metadata(sorted(self.cluster.topics))
        self.cluster.update(metadata)
        return metadata

    async def fetch_metadata(
        self,
        topics: Iterable[str] | None,
        *,
        node_id: int | None = None,
        allow_auto_create: bool | None = None,
    ) -> ClusterMetadata:
        """One Metadata request (``None``: all topics, ``[]``: brokers only).
        Learns the brokers but leaves the cache alone. ``allow_auto_create``
        overrides the ``allow_auto_create_topics`` setting."""
        names = None if topics is None else list(topics)
        auto_create = (
            self.config.allow_auto_create_topics if allow_auto_create is None else allow_auto_create
        )

        def build(version: int) -> MetadataRequest:
            wanted: list[MetadataRequestTopic] | None
            if names is None:
                wanted = [] if version == 0 else None
            else:
                wanted = [MetadataRequestTopic(name=n) for n in names]
                if version == 0 and not wanted:
                    wanted = None  # v0 cannot ask for no topics; the broker list comes anyway
            return MetadataRequest(topics=wanted, allow_auto_topic_creation=auto_create)

        target = self.least_loaded_node() if node_id is None else node_id
        response: MetadataResponse = await self.send(target, MetadataRequest, build)
        metadata = ClusterMetadata.from_response(response)
        if metadata.nodes:
            self._nodes.update(metadata.nodes)
        return metadata

    async def wait_for_topic(self, topic: str, timeout_ms: int) -> ClusterMetadata:
        """Track ``topic`` and refresh until it has partitions; after
        ``timeout_ms`` raise :class:`KafkaTimeoutError` naming it (or the
        topic's own error, such as an invalid name)."""
        self.cluster.add_topics([topic])
        deadline = time.monotonic() + timeout_ms / 1000
        attempt = 0
        while True:
            md = self.cluster.metadata
            if md.partitions_for(topic) and not self.cluster.stale:
                return md
            try:
                md = await asyncio.wait_for(self.refresh_metadata(), deadline - time.monotonic())
            except (TimeoutError, KafkaError) as e:
                if isinstance(e, KafkaError) and not e.retriable:
                    raise
                if time.monotonic() >= deadline:
                    break
                md = self.cluster.metadata
            if md.partitions_for(topic):
                return md
            code = md.topic_error(topic)
            if code not in (0, 3, 5):  # not unknown / leader not available: final
                md.raise_for_topic(topic)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(self.backoff_ms(attempt) / 1000, remaining))
            attempt += 1
        raise KafkaTimeoutError(f"topic '{topic}' not present in metadata after {timeout_ms} ms")

    def request_update(self) -> None:
        """Ask the background task for a metadata refresh soon."""
        self.cluster.request_update()
        self._wake.set()

    async def _maintain(self) -> None:
        max_age = self.config.metadata_max_age_ms / 1000
        backoff = self.config.retry_backoff_ms / 1000
        while not self._closed:
            age = time.monotonic() - self.cluster.metadata.updated_at
            wait = 0.0 if self.cluster.stale else max(max_age - age, 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, backoff))
            self._wake.clear()
            if self.cluster.stale or time.monotonic() - self.cluster.metadata.updated_at >= max_age:
                try:
                    await self.refresh_metadata()
                except KafkaError as e:
                    log.debug("metadata refresh failed: %s", e)
            self._close_idle()

    def _close_idle(self) -> None:
        idle = self.config.connections_max_idle_ms
        if idle < 0:
            return
        now = time.monotonic()
        for conn_id, conn in list(self._conns.items()):
            if conn.in_flight == 0 and now - conn.last_used > idle / 1000:
                self.disconnect(conn_id)

    # -- coordinators ------------------------------------------------------------

    async def coordinator(self, key: str, key_type: CoordinatorType = CoordinatorType.GROUP) -> int:
        """The node id coordinating ``key`` (a group id or transactional id)."""
        return await self.coordinators.find(key, key_type)

    def invalidate_coordinator(
        self, key: str, key_type: CoordinatorType = CoordinatorType.GROUP
    ) -> None:
        """Forget the coordinator of ``key`` (after NOT_COORDINATOR and the like)."""
        self.coordinators.invalidate(key, key_type)

    async def send_to_coordinator(
        self,
        key: str,
        api: type[Request],
        builder: RequestBuilder | None = None,
        *,
        key_type: CoordinatorType = CoordinatorType.GROUP,
        error_code: Callable[[Any], int] | None = None,
        timeout_ms: int | None = None,
    ) -> Any:
        """Send to the coordinator of ``key``, following it when it moves
        (see :meth:`CoordinatorCache.send`)."""
        return await self.coordinators.send(
            key, key_type, api, builder, error_code=error_code, timeout_ms=timeout_ms
        )
