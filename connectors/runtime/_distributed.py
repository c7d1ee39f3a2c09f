"""Distributed mode: workers sharing connectors through the broker.

Every worker of a cluster (same ``group.id``) reads the config, offsets and status topics
(see :mod:`._cluster_state`), so any worker answers any REST request: changes are written to
the config topic (one partition, so every worker applies them in the same order) and a
worker returns once it has read its own write back.

Who runs what: each worker joins the consumer group ``group.id`` on the partitions of
``offset.storage.topic``, which serve as slots (it never reads them through that group). A
connector lives in slot ``crc32(name) % partitions`` and runs, with all its tasks, on the
worker that owns that slot. When a worker joins, leaves or dies (no heartbeat for
``session.timeout.ms``) the group rebalances eagerly: every worker stops the connectors of
the slots it gives up, committing their offsets, and starts those of the slots it gets,
after reading the offsets topic to the end. Statuses are published to the status topic.

This is an eager, connector-granular version of Kafka Connect's protocol: the group uses
the consumer protocol rather than Kafka's ``connect`` protocol, so Tidal workers cannot
share a group with Kafka Connect workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from tidal.log.client.consumer import Consumer, TopicPartition

from ._cluster_state import ClusterState, ConfigChange, status_value
from ._connector import ConnectorRunner
from ._distributed_api import ClusterRequests, config_json
from ._herder import restart_plan
from ._metrics import ConnectMetrics
from ._plugins import WorkerPlugins
from ._status import State, Status
from ._task import TaskId
from ._topic_log import TopicLog, TopicOffsetStore
from ._worker_config import WorkerConfig

__all__ = ["DistributedHerder"]

_log = logging.getLogger("tidal.connectors.runtime")


class DistributedHerder(ClusterRequests):
    """A herder whose connectors are shared with the other workers of ``group.id``."""

    offsets: TopicOffsetStore
    exactly_once_capable = True

    def __init__(
        self,
        worker: WorkerConfig,
        *,
        worker_id: str,
        plugins: WorkerPlugins | None = None,
        metrics: ConnectMetrics | None = None,
    ) -> None:
        super().__init__(worker, worker_id=worker_id, plugins=plugins,
                         offsets=TopicOffsetStore(worker), metrics=metrics)  # fmt: skip
        self.cluster = ClusterState()
        self.config_log = TopicLog(
            worker, str(worker.get("config.storage.topic")), self._on_config,
            partitions=1, replication=worker.replication_factor("config"),
        )  # fmt: skip
        self.status_log = TopicLog(
            worker, str(worker.get("status.storage.topic")), self._on_status_record,
            partitions=int(worker.get("status.storage.partitions")),
            replication=worker.replication_factor("status"),
        )  # fmt: skip
        self.env.on_connector_status = self._publish_connector_status
        self._owned: set[int] = set()
        self._loaded = False
        self._dirty: set[str] = set()
        self._actions: list[ConfigChange] = []
        self._wakeup = asyncio.Event()
        self._status_queue: asyncio.Queue[tuple[bytes, bytes | None]] = asyncio.Queue()
        self._member: Consumer | None = None
        self._loops: list[asyncio.Task[None]] = []

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, timeout_s: float = 30.0) -> None:
        """Read the internal topics, then join the worker group."""
        await super().start(timeout_s)
        await self.status_log.start(timeout_s)
        await self.config_log.start(timeout_s)
        self._loaded = True
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._reconcile_loop(), name="connect reconcile"),
            loop.create_task(self._status_writer(), name="connect status"),
        ]
        settings = self.worker.client_settings("consumer", {
            "group.id": self.worker.group_id, "enable.auto.commit": "false",
            "session.timeout.ms": str(self.worker.get("session.timeout.ms")),
            "heartbeat.interval.ms": str(self.worker.get("heartbeat.interval.ms")),
            "max.poll.interval.ms": str(self.worker.get("rebalance.timeout.ms")),
            "partition.assignment.strategy": "range",
            "client.id": f"connect-{self.worker_id}",
        })  # fmt: skip
        self._member = Consumer(settings)
        self._member.subscribe([self.offsets.log.topic], listener=self)
        self._loops.append(loop.create_task(self._membership(), name="connect membership"))

    async def stop(self) -> None:
        """Leave the group (stopping every connector here), then close everything."""
        for task in self._loops:
            if task.get_name() == "connect membership":
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._member is not None:
            await self._member.close()
        await super().stop()
        await self._flush_statuses()
        for task in self._loops:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.config_log.stop()
        await self.status_log.stop()

    async def _membership(self) -> None:
        member = self._member
        assert member is not None
        while True:
            try:
                await member.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (stay in the group through hiccups)
                _log.warning("worker group %s: %s", self.worker.group_id, exc)
                await asyncio.sleep(0.5)

    # -- the group's rebalance listener -------------------------------------------------

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """New slots: start their connectors."""
        assert self._member is not None
        self._member.pause(*assigned)
        self._owned |= {tp.partition for tp in assigned}
        _log.info("worker %s owns slots %s", self.worker_id, sorted(self._owned))
        async with self._lock:
            for name in sorted(self.cluster.configs):
                await self._guarded(self._reconcile(name), name)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Slots taken away: stop their connectors (offsets committed) before anyone else
        may start them."""
        self._owned -= {tp.partition for tp in revoked}
        async with self._lock:
            for name in sorted(self._runners):
                await self._guarded(self._reconcile(name), name)
        await self._flush_statuses()

    on_partitions_lost = on_partitions_revoked

    def _owns(self, name: str) -> bool:
        return zlib.crc32(name.encode()) % self.offsets.log.partition_count in self._owned

    # -- applying the config topic ---------------------------------------------------------

    def _on_config(self, record: Any) -> None:
        if record.key is None:
            return
        change = self.cluster.apply_config(record.key.decode(), record.value)
        if change is None or not self._loaded:
            return
        if change.kind in ("restart-connector", "restart-task"):
            self._actions.append(change)
        elif change.kind != "tasks":
            self._dirty.add(change.connector)
        self._wakeup.set()

    def _on_status_record(self, record: Any) -> None:
        if record.key is not None:
            self.cluster.apply_status(record.key.decode(), record.value)

    async def _reconcile_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            dirty, self._dirty = self._dirty, set()
            actions, self._actions = self._actions, []
            async with self._lock:
                for name in sorted(dirty):
                    await self._guarded(self._reconcile(name), name)
                for action in actions:
                    await self._guarded(self._act(action), action.connector)

    async def _guarded(self, work: Any, name: str) -> None:
        try:
            await work
        except Exception as exc:  # noqa: BLE001 (one connector must not stop the others)
            _log.error("worker %s could not update connector %s", self.worker_id, name,
                       exc_info=exc)  # fmt: skip
            self._publish_connector_status(name, Status.failed(self.worker_id, exc))

    async def _reconcile(self, name: str) -> None:
        """Make what runs here for ``name`` match the cluster's config and target."""
        config = self.cluster.configs.get(name)
        runner = self._runners.get(name)
        if config is None or not self._owns(name):
            if runner is not None:
                del self._runners[name]
                await runner.stop()
            if config is None and runner is not None:
                await self._forget_statuses(name, len(runner.task_configs))
            return
        target = self.cluster.target(name)
        if runner is not None and runner.config != config:
            del self._runners[name]
            await runner.stop()
            runner = None
        if runner is None:
            await self.offsets.refresh()
            runner = ConnectorRunner(name, dict(config), target, self.env)
            self._runners[name] = runner
            await runner.start()
        elif runner.target is not target:
            await self._apply_target(runner, target)
        else:
            return
        await self._publish_task_configs(runner)

    async def _act(self, change: ConfigChange) -> None:
        runner = self._runners.get(change.connector)
        if runner is None:
            return
        if change.kind == "restart-task":
            await self._restart_task(runner, change.task)
            return
        options = change.value or {}
        _, restart_connector, tasks = restart_plan(
            runner.state_info(), only_failed=bool(options.get("only-failed")),
            include_tasks=bool(options.get("include-tasks")),
        )  # fmt: skip
        await self._restart(runner, restart_connector, tasks)
        await self._publish_task_configs(runner)

    async def _publish_task_configs(self, runner: ConnectorRunner) -> None:
        if self.cluster.task_configs.get(runner.name) == runner.task_configs:
            return
        for index, config in enumerate(runner.task_configs):
            await self.config_log.send(f"task-{runner.name}-{index}".encode(),
                                       config_json({"properties": config}))  # fmt: skip
        metadata = await self.config_log.send(
            f"commit-{runner.name}".encode(), config_json({"tasks": len(runner.task_configs)})
        )
        await self.config_log.wait_until(metadata)

    # -- statuses -------------------------------------------------------------------------

    def _on_status(self, task_id: TaskId, status: Status) -> None:
        super()._on_status(task_id, status)
        if status.state is not State.UNASSIGNED:  # a stopped task: the next owner reports
            key = f"status-task-{task_id.connector}-{task_id.task}"
            self._status_queue.put_nowait((key.encode(), status_value(status)))

    def _publish_connector_status(self, name: str, status: Status) -> None:
        key = f"status-connector-{name}".encode()
        self._status_queue.put_nowait((key, status_value(status)))

    async def _forget_statuses(self, name: str, tasks: int) -> None:
        self._status_queue.put_nowait((f"status-connector-{name}".encode(), None))
        for index in range(tasks):
            self._status_queue.put_nowait((f"status-task-{name}-{index}".encode(), None))

    async def _status_writer(self) -> None:
        while True:
            key, value = await self._status_queue.get()
            try:
                await self.status_log.send(key, value)
            except Exception as exc:  # noqa: BLE001 (statuses are best effort, as in Kafka)
                _log.warning("could not publish status %s: %s", key.decode(), exc)
            finally:
                self._status_queue.task_done()

    async def _flush_statuses(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._status_queue.join(), 10)
