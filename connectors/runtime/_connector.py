"""One connector on a worker: its instance, its task configs and its running tasks.

The target state decides what runs: STARTED runs the connector and its tasks, PAUSED keeps
both but stops data flowing, STOPPED shuts both down (Kafka 3.5's ``PUT .../stop``). A
failure of the connector itself (``start`` or ``task_configs`` raising, or
``context.raise_error``) marks it FAILED with the trace, and no tasks run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tidal.connectors.api import Connector, SinkConnector, invoke
from tidal.connectors.config import ConfigError

from ._offsets import TaskOffsetReader
from ._plugins import connector_type
from ._processes import ProcessTask
from ._sink import WorkerSinkTask
from ._source import WorkerSourceTask
from ._status import State, Status, TargetState
from ._task import TaskEnv, TaskId, WorkerTask

__all__ = ["ConnectorRunner", "new_task"]

_log = logging.getLogger("tidal.connectors.runtime")


class _ConnectorContext:
    def __init__(self, runner: ConnectorRunner) -> None:
        self._runner = runner
        self._loop = asyncio.get_running_loop()

    def request_task_reconfiguration(self) -> None:
        """Regenerate the task configs soon (safe from any thread)."""
        self._loop.call_soon_threadsafe(self._runner.schedule_reconfiguration)

    def raise_error(self, error: BaseException) -> None:
        """Mark the connector FAILED (safe from any thread)."""
        self._loop.call_soon_threadsafe(self._runner.fail, error)

    @property
    def offset_storage_reader(self) -> TaskOffsetReader:
        """Committed source offsets of the connector."""
        return TaskOffsetReader(self._runner.env.offsets, self._runner.name)


def new_task(
    kind: str, task_id: TaskId, config: dict[str, str], connector_config: dict[str, str],
    env: TaskEnv,
) -> WorkerTask:  # fmt: skip
    """A source or sink worker task (not started), in a task process when the worker
    has them (``task.processes``)."""
    if env.processes is not None:
        return ProcessTask(task_id, kind, config, connector_config, env)
    cls: type[WorkerTask] = WorkerSinkTask if kind == "sink" else WorkerSourceTask
    return cls(task_id, config, connector_config, env)


class ConnectorRunner:
    """Starts, pauses, stops and restarts one connector and its tasks."""

    def __init__(
        self,
        name: str,
        config: dict[str, str],
        target: TargetState,
        env: TaskEnv,
        *,
        run_tasks: bool = True,
    ) -> None:
        self.name = name
        #: False when the tasks run elsewhere (distributed mode places them one by one).
        self.run_tasks = run_tasks
        self.config = config
        self.target = target
        self.env = env
        self.status = Status(State.UNASSIGNED, env.worker_id)
        self.instance: Connector | None = None
        self.task_configs: list[dict[str, str]] = []
        self.tasks: dict[int, WorkerTask] = {}
        self.task_statuses: dict[int, Status] = {}
        self.topics: set[str] = set()
        self.type = connector_type(env.plugins.connector_class(config["connector.class"]))
        self._reconfigure: asyncio.Task[None] | None = None

    # -- the connector instance -------------------------------------------------------

    async def start(self, *, with_tasks: bool = True) -> None:
        """Start the connector (unless STOPPED), then its tasks (unless it failed).

        ``with_tasks=False`` restarts the instance alone: running tasks are kept, and
        restarted only if the connector now gives different task configs.
        """
        previous = self.task_configs
        if self.target is TargetState.STOPPED:
            self.task_configs = []
            self._set(Status(State.STOPPED, self.env.worker_id))
            return
        try:
            instance = self.env.plugins.new_connector(self.config["connector.class"])
            instance.initialize(_ConnectorContext(self))
            self.instance = instance
            await invoke(instance.start, self.config)
            self.task_configs = await self._task_configs(instance)
        except Exception as exc:  # noqa: BLE001 (a failing connector shows FAILED)
            _log.error("Connector %s failed to start", self.name, exc_info=exc)
            self._set(Status.failed(self.env.worker_id, exc))
            return
        self._set(Status(self.target.running_state, self.env.worker_id))
        if with_tasks:
            await self.start_tasks()
        elif self.task_configs != previous:
            configs, self.task_configs = self.task_configs, previous
            await self.stop_tasks()
            self.task_configs = configs
            await self.start_tasks()

    async def _task_configs(self, instance: Connector) -> list[dict[str, str]]:
        max_tasks = int(self.config.get("tasks.max", "1"))
        configs = await invoke(instance.task_configs, max_tasks)
        enforce = self.config.get("tasks.max.enforce", "true").strip().lower() != "false"
        if enforce and len(configs) > max_tasks:
            raise ConfigError(
                f"The connector {self.name} has generated {len(configs)} tasks, which is "
                f"greater than {max_tasks}, the maximum number of tasks it is configured to "
                "create."
            )
        task_cls = instance.task_class()
        out = []
        for config in configs:
            task_config = {str(k): str(v) for k, v in config.items()}
            task_config["task.class"] = f"{task_cls.__module__}.{task_cls.__qualname__}"
            if isinstance(instance, SinkConnector):
                for key in ("topics", "topics.regex"):
                    if self.config.get(key):
                        task_config[key] = self.config[key]
            out.append(task_config)
        return out

    async def stop(self, *, with_tasks: bool = True) -> None:
        """Stop the tasks (unless ``with_tasks=False``), then the connector."""
        if self._reconfigure is not None:
            self._reconfigure.cancel()
        if with_tasks:
            await self.stop_tasks()
        instance, self.instance = self.instance, None
        if instance is not None:
            try:
                await invoke(instance.stop)
            except Exception as exc:  # noqa: BLE001 (stopping goes on)
                _log.error("Connector %s failed to stop", self.name, exc_info=exc)

    def fail(self, error: BaseException) -> None:
        """``context.raise_error``: the connector is FAILED."""
        self._set(Status.failed(self.env.worker_id, error))

    def schedule_reconfiguration(self) -> None:
        """``context.request_task_reconfiguration``: regenerate task configs soon."""
        if self._reconfigure is None or self._reconfigure.done():
            self._reconfigure = asyncio.get_running_loop().create_task(self._reconfigured())

    async def _reconfigured(self) -> None:
        if self.instance is None or self.target is TargetState.STOPPED:
            return
        try:
            configs = await self._task_configs(self.instance)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return
        if configs != self.task_configs:
            await self.stop_tasks()
            self.task_configs = configs
            await self.start_tasks()

    # -- tasks ------------------------------------------------------------------------

    async def start_tasks(self) -> None:
        """Start a task per task config."""
        for index in range(len(self.task_configs)):
            self.start_task(index)

    def start_task(self, index: int) -> None:
        """Start (or start again) task ``index``."""
        if not self.run_tasks:
            return
        task = new_task(self.type, TaskId(self.name, index), self.task_configs[index],
                        self.config, self.env)  # fmt: skip
        self.tasks[index] = task
        self.task_statuses[index] = task.status
        task.start(self.target)

    async def stop_tasks(self) -> None:
        """Stop every task at once and wait for them."""
        tasks, self.tasks = self.tasks, {}
        await asyncio.gather(*(t.stop() for t in tasks.values()))
        for task in tasks.values():
            self.topics |= task.topics
        self.task_statuses.clear()

    async def stop_task(self, index: int) -> None:
        """Stop one task."""
        task = self.tasks.pop(index, None)
        if task is not None:
            await task.stop()
            self.topics |= task.topics

    def active_topics(self) -> set[str]:
        """Topics the connector's tasks used since it was created (or topics were reset)."""
        return self.topics.union(*(t.topics for t in self.tasks.values()))

    def task_status(self, index: int) -> Status:
        """A task's latest status."""
        return self.task_statuses.get(index, Status(State.UNASSIGNED, self.env.worker_id))

    def transition(self, target: TargetState) -> None:
        """Pause or resume the connector and its tasks."""
        self.target = target
        if self.status.state in (State.RUNNING, State.PAUSED):
            self._set(Status(target.running_state, self.env.worker_id))
        for task in self.tasks.values():
            task.transition(target)

    def _set(self, status: Status) -> None:
        self.status = status
        self.env.metrics.connector_state(self.name, status.state)
        if self.env.on_connector_status is not None:
            self.env.on_connector_status(self.name, status)

    def info(self) -> dict[str, Any]:
        """Kafka's ``ConnectorInfo``."""
        return {
            "name": self.name,
            "config": dict(self.config),
            "tasks": [TaskId(self.name, i).to_json() for i in range(len(self.task_configs))],
            "type": self.type,
        }

    def state_info(self) -> dict[str, Any]:
        """Kafka's ``ConnectorStateInfo`` (the body of ``GET .../status``)."""
        return {
            "name": self.name,
            "connector": self.status.to_json(),
            "tasks": [
                {"id": i, **self.task_status(i).to_json()} for i in range(len(self.task_configs))
            ],
            "type": self.type,
        }
