"""Distributed mode: workers sharing connectors and tasks through the broker.

Every worker of a cluster (same ``group.id``) reads the config, offsets and status topics
(see :mod:`._cluster_state`), so any worker answers any REST request: changes are written to
the config topic (one partition, so every worker applies them in the same order) and a
worker returns once it has read its own write back.

Who runs what: each worker joins the consumer group ``group.id`` on the partitions of
``offset.storage.topic``, which serve as slots dealt round robin (it never reads them
through that group). A connector instance lives in slot ``crc32(name) % partitions`` and
its task ``n`` in the ``n + 1``-th slot after it; the worker owning a slot runs what lives
there. The connector's worker publishes the task configs; the tasks' workers start them
from the config topic. When a worker joins, leaves or dies (no heartbeat for
``session.timeout.ms``) the group rebalances eagerly: every worker stops what lives in the
slots it gives up, committing offsets, and starts what lives in the slots it gets, after
reading the offsets topic to the end. Statuses are published to the status topic.

This is an eager version of Kafka Connect's protocol: the group uses the consumer protocol
rather than Kafka's ``connect`` protocol, so Tidal workers cannot share a group with Kafka
Connect workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from tidal.log.client.consumer import Consumer, TopicPartition

from ._cluster_state import ClusterState, ConfigChange, status_value
from ._connector import ConnectorRunner, new_task
from ._distributed_api import ClusterRequests, config_json
from ._metrics import ConnectMetrics
from ._plugins import WorkerPlugins, connector_type
from ._status import State, Status, TargetState
from ._task import TaskId, WorkerTask
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
        # The tasks running here, with the (task, connector) configs they started with.
        self._tasks: dict[TaskId, WorkerTask] = {}
        self._task_inputs: dict[TaskId, tuple[dict[str, str], dict[str, str]]] = {}

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
            # Round robin deals neighbouring slots to different workers, so a connector's
            # tasks (in consecutive slots) spread over the cluster.
            "partition.assignment.strategy": "roundrobin",
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
        self._owned.clear()
        async with self._lock:
            for task_id in list(self._tasks):
                await self._stop_task(task_id)
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
            names = set(self._runners) | {t.connector for t in self._tasks}
            for name in sorted(names):
                await self._guarded(self._reconcile(name), name)
        await self._flush_statuses()

    on_partitions_lost = on_partitions_revoked

    def _slot(self, name: str, task: int = -1) -> int:
        """A connector's slot, and its tasks' in the slots after it."""
        return (zlib.crc32(name.encode()) + 1 + task) % self.offsets.log.partition_count

    def _owns(self, name: str, task: int = -1) -> bool:
        return self._slot(name, task) in self._owned

    # -- applying the config topic ---------------------------------------------------------

    def _on_config(self, record: Any) -> None:
        if record.key is None:
            return
        change = self.cluster.apply_config(record.key.decode(), record.value)
        if change is None or not self._loaded:
            return
        if change.kind in ("restart-connector", "restart-task"):
            self._actions.append(change)
        else:
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
        await self._reconcile_connector(name)
        await self._reconcile_tasks(name)

    async def _reconcile_connector(self, name: str) -> None:
        config = self.cluster.configs.get(name)
        runner = self._runners.get(name)
        if config is None or not self._owns(name):
            if runner is not None:
                del self._runners[name]
                await runner.stop()
                if config is None:
                    self._forget_status(f"status-connector-{name}")
            return
        target = self.cluster.target(name)
        if runner is not None and runner.config != config:
            del self._runners[name]
            await runner.stop()
            runner = None
        if runner is None:
            runner = ConnectorRunner(name, dict(config), target, self.env, run_tasks=False)
            self._runners[name] = runner
            await runner.start()
        elif runner.target is not target:
            await self._apply_target(runner, target)
        else:
            return
        await self._publish_task_configs(runner)

    async def _reconcile_tasks(self, name: str) -> None:
        """Run exactly the tasks of ``name`` whose slots this worker owns."""
        config = self.cluster.configs.get(name)
        target = self.cluster.target(name)
        wanted: dict[TaskId, tuple[dict[str, str], dict[str, str]]] = {}
        if config is not None and target is not TargetState.STOPPED:
            for index, task_config in enumerate(self.cluster.task_configs.get(name, [])):
                if task_config and self._owns(name, index):
                    wanted[TaskId(name, index)] = (task_config, config)
        for task_id in [t for t in self._tasks if t.connector == name]:
            if self._task_inputs[task_id] != wanted.get(task_id):
                await self._stop_task(task_id)
                if config is None:
                    self._forget_status(f"status-task-{task_id.connector}-{task_id.task}")
        for task_id, (task_config, connector_config) in sorted(wanted.items()):
            task = self._tasks.get(task_id)
            if task is None:
                await self._start_task(task_id, task_config, connector_config, target)
            elif task.target is not target:
                task.transition(target)

    async def _start_task(
        self,
        task_id: TaskId,
        task_config: dict[str, str],
        connector_config: dict[str, str],
        target: TargetState,
    ) -> None:
        await self.offsets.refresh()  # what the task's previous owner committed
        kind = connector_type(self.plugins.connector_class(connector_config["connector.class"]))
        task = new_task(kind, task_id, dict(task_config), dict(connector_config), self.env)
        self._tasks[task_id] = task
        self._task_inputs[task_id] = (task_config, connector_config)
        task.start(target)

    async def _stop_task(self, task_id: TaskId) -> None:
        task = self._tasks.pop(task_id)
        self._task_inputs.pop(task_id, None)
        await task.stop()
        runner = self._runners.get(task_id.connector)
        if runner is not None:
            runner.topics |= task.topics

    async def _act(self, change: ConfigChange) -> None:
        name = change.connector
        if change.kind == "restart-task":
            task_id = TaskId(name, change.task)
            if task_id in self._tasks:
                inputs = self._task_inputs[task_id]
                await self._stop_task(task_id)
                await self._start_task(task_id, *inputs, self.cluster.target(name))
            return
        options = change.value or {}
        only_failed = bool(options.get("only-failed"))
        failed = State.FAILED
        runner = self._runners.get(name)
        if runner is not None and (not only_failed or runner.status.state is failed):
            await self._restart_instance(runner)
            await self._publish_task_configs(runner)
        if options.get("include-tasks"):
            for task_id in [t for t in self._tasks if t.connector == name]:
                task = self._tasks[task_id]
                if not only_failed or task.status.state is failed:
                    inputs = self._task_inputs[task_id]
                    await self._stop_task(task_id)
                    await self._start_task(task_id, *inputs, self.cluster.target(name))

    def active_topics(self, name: str) -> dict[str, Any]:
        """Topics used, as far as this worker saw them (its connector and tasks)."""
        answer = super().active_topics(name)
        topics = set(answer[name]["topics"])
        for task_id, task in self._tasks.items():
            if task_id.connector == name:
                topics |= task.topics
        answer[name]["topics"] = sorted(topics)
        return answer

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

    def _forget_status(self, key: str) -> None:
        self._status_queue.put_nowait((key.encode(), None))

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
