"""The herder: every connector operation the REST API and the command line offer.

A :class:`Herder` runs its connectors on the current event loop (Kafka's
``StandaloneHerder``): configs live in memory, source offsets in the worker's offset store
(a JSON file for standalone), sink offsets in each connector's consumer group::

    herder = Herder(WorkerConfig(props), worker_id="127.0.0.1:8083")
    await herder.start()
    await herder.create_connector("src", {"connector.class": "FileStreamSource", ...})
    herder.connector_status("src")   # {"name": "src", "connector": {"state": "RUNNING", ...}}
    await herder.stop()              # every task commits its offsets and stops

Operations raise :class:`~tidal.connectors.runtime.HerderError` subclasses carrying the
HTTP status and Kafka Connect's message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from tidal._version import __version__
from tidal.connectors.api import ConnectError
from tidal.connectors.config import ConfigInfos
from tidal.log.client.admin import AdminClient
from tidal.log.protocol.errors import KafkaError

from ._connector import ConnectorRunner
from ._metrics import ConnectMetrics
from ._offsets import FileOffsetStore, MemoryOffsetStore, OffsetStore
from ._offsets_api import OffsetsApi
from ._plugins import WorkerPlugins, invalid_config_message, validate_connector_config
from ._processes import TaskProcesses
from ._status import BadRequestError, ConflictError, NotFoundError, State, Status, TargetState
from ._task import TaskEnv, TaskId
from ._worker_config import WorkerConfig

__all__ = ["Herder", "restart_plan"]

_log = logging.getLogger("tidal.connectors.runtime")
_INITIAL_STATES = {
    "RUNNING": TargetState.STARTED,
    "PAUSED": TargetState.PAUSED,
    "STOPPED": TargetState.STOPPED,
}


class Herder:
    """Runs connectors on this worker and answers for them."""

    #: Whether source offsets live where a transaction can write them (distributed mode).
    exactly_once_capable = False

    def __init__(
        self,
        worker: WorkerConfig,
        *,
        worker_id: str,
        plugins: WorkerPlugins | None = None,
        offsets: OffsetStore | None = None,
        metrics: ConnectMetrics | None = None,
    ) -> None:
        self.worker = worker
        self.worker_id = worker_id
        self.plugins = plugins or WorkerPlugins()
        if offsets is None:
            path = worker.offset_storage_file
            offsets = FileOffsetStore(path) if path else MemoryOffsetStore()
        self.offsets = offsets
        self.metrics = metrics or ConnectMetrics()
        self.env = TaskEnv(worker, self.plugins, offsets, self.metrics, worker_id, self._on_status)
        if worker.task_processes:
            self.env.processes = TaskProcesses(self.env)
        self.kafka_cluster_id: str | None = None
        self._runners: dict[str, ConnectorRunner] = {}
        self._lock = asyncio.Lock()
        self._offsets_api = OffsetsApi(self)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, timeout_s: float = 30.0) -> None:
        """Load stored offsets and learn the Kafka cluster id (ConnectError when the
        cluster cannot be reached within ``timeout_s``)."""
        if self.worker.exactly_once_source and not self.exactly_once_capable:
            raise ConnectError(
                "exactly.once.source.support=enabled needs distributed mode "
                "(tidal connect distributed), where source offsets live in a topic"
            )
        await self.offsets.start()
        admin = AdminClient(self.worker.client_settings("admin"))
        try:
            description = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise ConnectError(
                f"cannot reach the Kafka cluster at {self.worker.bootstrap_servers}: "
                f"{exc or type(exc).__name__}"
            ) from exc
        finally:
            await admin.close()
        self.kafka_cluster_id = description.cluster_id

    async def stop(self) -> None:
        """Stop every connector (tasks commit their offsets first)."""
        async with self._lock:
            runners, self._runners = list(self._runners.values()), {}
            await asyncio.gather(*(r.stop() for r in runners))
        if self.env.processes is not None:
            await self.env.processes.close()
        await self.offsets.stop()

    def _on_status(self, task_id: TaskId, status: Status) -> None:
        runner = self._runners.get(task_id.connector)
        if runner is not None:
            runner.task_statuses[task_id.task] = status

    # -- reading --------------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        """The body of ``GET /``."""
        return {"version": __version__, "commit": "", "kafka_cluster_id": self.kafka_cluster_id}

    def connectors(self) -> list[str]:
        """Connector names, sorted."""
        return sorted(self._runners)

    def runner(self, name: str, message: str | None = None) -> ConnectorRunner:
        """The connector called ``name``; NotFoundError otherwise."""
        runner = self._runners.get(name)
        if runner is None:
            raise NotFoundError(message or f"Connector {name} not found")
        return runner

    def connector_info(self, name: str) -> dict[str, Any]:
        """Kafka's ``ConnectorInfo``."""
        return self.runner(name).info()

    def connector_config(self, name: str) -> dict[str, str]:
        """The connector's configuration."""
        return dict(self.runner(name).config)

    def connector_status(self, name: str) -> dict[str, Any]:
        """Kafka's ``ConnectorStateInfo``."""
        return self.runner(name, f"No status found for connector {name}").state_info()

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        """Kafka's ``TaskInfo`` list."""
        runner = self.runner(name)
        return [
            {"id": TaskId(name, i).to_json(), "config": dict(config)}
            for i, config in enumerate(runner.task_configs)
        ]

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        """Kafka's ``TaskState``."""
        runner = self._runners.get(name)
        if runner is None or not 0 <= task < len(runner.task_configs):
            raise NotFoundError(f"No status found for task {TaskId(name, task)}")
        return {"id": task, **runner.task_status(task).to_json()}

    def active_topics(self, name: str) -> dict[str, Any]:
        """The body of ``GET /connectors/{name}/topics``."""
        topics = sorted(self.runner(name).active_topics())
        return {name: {"connector": name, "topics": topics}}

    def reset_active_topics(self, name: str) -> None:
        """Forget the topics a connector used so far."""
        runner = self.runner(name)
        runner.topics.clear()
        for task in runner.tasks.values():
            task.topics.clear()

    def validate(self, props: Mapping[str, str]) -> ConfigInfos:
        """The validate answer for ``props``."""
        return validate_connector_config(self.plugins, self.worker, props)

    # -- creating, updating, deleting -------------------------------------------------

    async def create_connector(
        self, name: str, config: Mapping[str, str], *, initial_state: str | None = None
    ) -> dict[str, Any]:
        """Create and start a connector; ConflictError when the name is taken."""
        _created, info = await self.put_connector_config(
            name, config, allow_replace=False, initial_state=initial_state
        )
        return info

    async def put_connector_config(
        self,
        name: str,
        config: Mapping[str, str],
        *,
        allow_replace: bool = True,
        initial_state: str | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Create a connector or replace its config (restarting it); ``(created, info)``."""
        props = {str(k): str(v) for k, v in config.items()}
        included = props.get("name")
        if included is not None and included != name:
            raise BadRequestError(
                f"Connector name configuration ({included}) doesn't match connector name "
                f"in the URL ({name})"
            )
        props["name"] = name
        target = TargetState.STARTED
        if initial_state is not None:
            if initial_state.upper() not in _INITIAL_STATES:
                raise BadRequestError(f"Invalid initial state {initial_state}")
            target = _INITIAL_STATES[initial_state.upper()]
        infos = self.validate(props)
        if infos["error_count"]:
            raise BadRequestError(invalid_config_message(infos))
        async with self._lock:
            existing = self._runners.get(name)
            if existing is not None:
                if not allow_replace:
                    raise ConflictError(f"Connector {name} already exists")
                target = existing.target
                await existing.stop()
            runner = ConnectorRunner(name, props, target, self.env)
            if existing is not None:
                runner.topics = existing.topics
            self._runners[name] = runner
            await runner.start()
            return existing is None, runner.info()

    async def delete_connector(self, name: str) -> None:
        """Stop and forget a connector; its offsets are kept (as in Kafka)."""
        async with self._lock:
            runner = self.runner(name)
            del self._runners[name]
            await runner.stop()
            self.metrics.connector_state(name, None)

    # -- target states and restarts ---------------------------------------------------

    async def pause_connector(self, name: str) -> None:
        """Pause the connector and its tasks."""
        async with self._lock:
            await self._apply_target(self.runner(name, f"Unknown connector {name}"),
                                     TargetState.PAUSED)  # fmt: skip

    async def resume_connector(self, name: str) -> None:
        """Resume a paused or stopped connector."""
        async with self._lock:
            await self._apply_target(self.runner(name, f"Unknown connector {name}"),
                                     TargetState.STARTED)  # fmt: skip

    async def stop_connector(self, name: str) -> None:
        """Shut the tasks and the connector down, keeping its config (STOPPED)."""
        async with self._lock:
            await self._apply_target(self.runner(name), TargetState.STOPPED)

    @staticmethod
    async def _apply_target(runner: ConnectorRunner, target: TargetState) -> None:
        if target is TargetState.STOPPED:
            if runner.target is not TargetState.STOPPED:
                await runner.stop()
                runner.target = TargetState.STOPPED
                await runner.start()
        elif runner.target is TargetState.STOPPED:
            runner.target = target
            await runner.start()
        else:
            runner.transition(target)

    async def restart_connector(self, name: str) -> None:
        """Restart the connector instance only (its tasks keep running)."""
        async with self._lock:
            runner = self.runner(name)
            await self._restart_instance(runner)

    async def _restart_instance(self, runner: ConnectorRunner) -> None:
        await runner.stop(with_tasks=False)
        await runner.start(with_tasks=False)

    async def restart_connector_and_tasks(
        self, name: str, *, only_failed: bool, include_tasks: bool
    ) -> dict[str, Any]:
        """KIP-745: restart the connector and/or tasks; answers with RESTARTING states."""
        runner = self.runner(name)
        answer, restart_connector, restart_tasks = restart_plan(
            runner.state_info(), only_failed=only_failed, include_tasks=include_tasks
        )
        async with self._lock:
            await self._restart(runner, restart_connector, restart_tasks)
        return answer

    async def _restart(
        self, runner: ConnectorRunner, restart_connector: bool, restart_tasks: list[int]
    ) -> None:
        if restart_connector:
            await self._restart_instance(runner)
        for index in restart_tasks:
            await self._restart_task(runner, index)

    async def restart_task(self, name: str, task: int) -> None:
        """Restart one task."""
        async with self._lock:
            runner = self.runner(name)
            if not 0 <= task < len(runner.task_configs):
                raise NotFoundError(f"Task {TaskId(name, task)} not found")
            await self._restart_task(runner, task)

    async def _restart_task(self, runner: ConnectorRunner, index: int) -> None:
        if index >= len(runner.task_configs):
            return
        await runner.stop_task(index)
        runner.start_task(index)

    # -- offsets (KIP-875) --------------------------------------------------------------

    async def connector_offsets(self, name: str) -> dict[str, Any]:
        """The body of ``GET /connectors/{name}/offsets``."""
        return await self._offsets_api.get(self.runner(name))

    async def alter_connector_offsets(self, name: str, body: Any) -> dict[str, str]:
        """``PATCH /connectors/{name}/offsets`` on a STOPPED connector."""
        async with self._lock:
            return await self._offsets_api.alter(self._stopped(name), body)

    async def reset_connector_offsets(self, name: str) -> dict[str, str]:
        """``DELETE /connectors/{name}/offsets`` on a STOPPED connector."""
        async with self._lock:
            return await self._offsets_api.reset(self._stopped(name))

    def _stopped(self, name: str) -> ConnectorRunner:
        runner = self.runner(name)
        if runner.target is not TargetState.STOPPED or runner.tasks:
            raise BadRequestError(
                "Connectors must be in the STOPPED state before their offsets can be modified. "
                "This can be done for the specified connector by issuing a 'PUT' request to "
                f"the '/connectors/{name}/stop' endpoint"
            )
        return runner


def restart_plan(
    state_info: dict[str, Any], *, only_failed: bool, include_tasks: bool
) -> tuple[dict[str, Any], bool, list[int]]:
    """What a KIP-745 restart restarts: ``(answer with RESTARTING states, connector?, tasks)``."""
    failed = State.FAILED.value
    restart_connector = not only_failed or state_info["connector"]["state"] == failed
    restart_tasks = [
        t["id"]
        for t in state_info["tasks"]
        if include_tasks and (not only_failed or t["state"] == failed)
    ]
    answer = {**state_info, "connector": dict(state_info["connector"]),
              "tasks": [dict(t) for t in state_info["tasks"]]}  # fmt: skip
    if restart_connector:
        answer["connector"]["state"] = State.RESTARTING.value
        answer["connector"].pop("trace", None)
    for entry in answer["tasks"]:
        if entry["id"] in restart_tasks:
            entry["state"] = State.RESTARTING.value
            entry.pop("trace", None)
    return answer, restart_connector, restart_tasks
