"""What source and sink worker tasks share: identity, lifecycle, state and pausing.

A :class:`WorkerTask` runs one connector task on the worker's event loop::

    task = WorkerSourceTask(TaskId("file-source", 0), task_config, connector_config, env)
    task.start(TargetState.STARTED)   # status UNASSIGNED -> RUNNING
    task.transition(TargetState.PAUSED)
    await task.stop()                 # final offset commit, task.stop(), clients closed

A task that raises leaves the loop FAILED with the trace in its status; Connect never
restarts it on its own (``POST /connectors/{name}/tasks/{id}/restart`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._metrics import ConnectMetrics, TaskMetrics
from ._offsets import OffsetStore
from ._plugins import ConnectorConverters, WorkerPlugins
from ._status import State, Status, TargetState
from ._worker_config import WorkerConfig

if TYPE_CHECKING:
    from ._processes import TaskProcesses

__all__ = ["TaskEnv", "TaskId", "WorkerTask"]

_log = logging.getLogger("tidal.connectors.runtime")


@dataclass(frozen=True, slots=True, order=True)
class TaskId:
    """A task of a connector (Kafka's ``ConnectorTaskId``)."""

    connector: str
    task: int

    def to_json(self) -> dict[str, Any]:
        """``{"connector": ..., "task": ...}``."""
        return {"connector": self.connector, "task": self.task}

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


@dataclass(slots=True)
class TaskEnv:
    """What the worker gives every task."""

    worker: WorkerConfig
    plugins: WorkerPlugins
    offsets: OffsetStore
    metrics: ConnectMetrics
    worker_id: str
    on_status: Callable[[TaskId, Status], None]
    #: Told of every connector status change (distributed workers publish them).
    on_connector_status: Callable[[str, Status], None] | None = None
    #: The task processes (``task.processes``); None runs tasks on the worker's loop.
    processes: TaskProcesses | None = None


class WorkerTask(ABC):
    """One task's run loop, driven by the worker."""

    def __init__(
        self,
        task_id: TaskId,
        config: dict[str, str],
        connector_config: dict[str, str],
        env: TaskEnv,
    ) -> None:
        self.id = task_id
        self.config = config
        self.connector_config = connector_config
        self.env = env
        self.metrics: TaskMetrics = env.metrics.task(task_id.connector, task_id.task)
        self.status = Status(State.UNASSIGNED, env.worker_id)
        self.target = TargetState.STARTED
        self.stopping = False
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.converters: ConnectorConverters | None = None
        #: Topics this task wrote to or read from (``GET /connectors/{name}/topics``).
        self.topics: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------

    def start(self, target: TargetState) -> None:
        """Begin running on the current event loop."""
        self.target = target
        self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"task {self.id}")

    def transition(self, target: TargetState) -> None:
        """Pause or resume (a STOPPED target is reached by :meth:`stop`)."""
        self.target = target
        if self.status.state in (State.RUNNING, State.PAUSED):
            self._set(target.running_state)
        self._wake.set()

    async def stop(self, timeout_s: float | None = None) -> None:
        """Stop and wait (up to ``task.shutdown.graceful.timeout.ms``), then abandon it."""
        self.stopping = True
        self._wake.set()
        runner = self._runner
        if runner is None:
            return
        timeout = (
            self.env.worker.task_shutdown_timeout_ms / 1000 if timeout_s is None else timeout_s
        )
        done, _ = await asyncio.wait({runner}, timeout=timeout)
        if not done:
            _log.error("Graceful stop of task %s failed; cancelling it", self.id)
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        self.metrics.state(None)

    async def _run(self) -> None:
        try:
            await self.initialize()
            if not self.stopping:
                self._set(self.target.running_state)
                await self.execute()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (a task failure becomes its FAILED status)
            _log.error("Task %s threw an uncaught and unrecoverable exception", self.id,
                       exc_info=exc)  # fmt: skip
            self._set_status(Status.failed(self.env.worker_id, exc))
        finally:
            try:
                await self.close()
            except Exception as exc:  # noqa: BLE001 (stopping must go on)
                _log.error("Task %s failed while stopping", self.id, exc_info=exc)
            if self.status.state is not State.FAILED:
                self._set(State.UNASSIGNED)

    # -- helpers for subclasses -----------------------------------------------------

    def _set(self, state: State) -> None:
        self._set_status(Status(state, self.env.worker_id))

    def _set_status(self, status: Status) -> None:
        self.status = status
        self.metrics.state(status.state)
        self.env.on_status(self.id, status)

    @property
    def paused(self) -> bool:
        """The user paused the connector."""
        return self.target is TargetState.PAUSED

    async def wait_while_paused(self) -> None:
        """Return once resumed or stopping."""
        while self.paused and not self.stopping:
            self._wake.clear()
            await self._wake.wait()

    async def sleep(self, seconds: float) -> None:
        """Sleep, cut short by stop, pause or resume."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    @property
    def failed(self) -> bool:
        """The task ended FAILED."""
        return self.status.state is State.FAILED

    @property
    def done(self) -> bool:
        """The run loop has ended."""
        return self._runner is not None and self._runner.done()

    async def wait(self) -> None:
        """Return once the run loop has ended (at once if it never started)."""
        if self._runner is not None:
            await asyncio.wait({self._runner})

    # -- the parts each kind of task implements ---------------------------------------

    @abstractmethod
    async def initialize(self) -> None:
        """Create clients, converters, transforms, and start the connector's task."""

    @abstractmethod
    async def execute(self) -> None:
        """The loop, until ``stopping``."""

    @abstractmethod
    async def close(self) -> None:
        """Final commit, stop the connector's task, close clients (also after failures)."""
