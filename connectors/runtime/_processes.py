"""Task processes: a worker's tasks spread over ``task.processes`` child processes.

Python runs one thread of bytecode at a time, so a worker whose tasks all share its event
loop uses one core, where Kafka Connect gives each task a thread. With
``task.processes=N`` the worker starts up to N task processes (``python -m
tidal.connectors.runtime._task_host``) and runs each task in the one running the fewest,
with its own event loop, clients and collector::

    worker process                         task process (one of N)
    REST API, herder, configs, statuses    WorkerSourceTask / WorkerSinkTask:
    source offsets (the single writer)     poll, transforms, converters, produce,
    metrics export                         consume, put, DLQ, transactions
            |  start / transition / stop  ->  |
            |  <- status, metrics, topics,    |
            |     source offsets to write     |

A task here is a :class:`ProcessTask`, which drives its twin in the task process and
mirrors its status. Source offsets of a standalone worker are written by the worker
(the task process asks, and waits for them to be durable); with ``offset.storage.topic``
each task process reads and writes the topic itself, as other workers do. A task process
that dies takes its tasks to FAILED with the reason in their trace; the next task
started gets a new process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from typing import Any

from tidal.connectors.api import ConnectError

from ._channel import Channel, ChannelError
from ._offsets import partition_id
from ._status import Status, TargetState
from ._task import TaskEnv, TaskId, WorkerTask
from ._topic_log import TopicOffsetStore

__all__ = ["ProcessTask", "TaskProcessError", "TaskProcesses"]

_log = logging.getLogger("tidal.connectors.runtime")

#: How long a new task process may take to import Tidal and report ready.
START_TIMEOUT_S = 60.0
#: Beyond ``task.shutdown.graceful.timeout.ms``: the task process enforces that timeout
#: itself, the worker waits this much longer for its answer.
STOP_MARGIN_S = 5.0
#: How long a task process may take to stop its tasks and exit when the worker stops.
EXIT_TIMEOUT_S = 30.0


class TaskProcessError(ConnectError):
    """A task process could not be started or ended while running tasks."""


def task_key(task_id: TaskId) -> list[Any]:
    """A task id as it crosses the channel."""
    return [task_id.connector, task_id.task]


class TaskProcesses:
    """Up to ``task.processes`` task processes of one worker; each task goes to the one
    running the fewest tasks."""

    def __init__(self, env: TaskEnv) -> None:
        self.env = env
        self.count = env.worker.task_processes
        self._hosts: list[TaskHost | None] = [None] * self.count
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def pids(self) -> list[int]:
        """Process ids of the running task processes."""
        return [h.pid for h in self._hosts if h is not None and h.alive]

    async def place(self, task: ProcessTask) -> TaskHost:
        """The process ``task`` runs in, started if needed."""
        async with self._lock:
            if self._closed:
                raise TaskProcessError("the worker is stopping")
            slot = min(range(self.count), key=lambda i: (self._load(i), i))
            host = self._hosts[slot]
            if host is None or not host.alive:
                host = TaskHost(self.env, slot)
                self._hosts[slot] = host
                await host.spawn()
            host.tasks[task.id] = task
            return host

    def _load(self, slot: int) -> int:
        host = self._hosts[slot]
        return len(host.tasks) if host is not None and host.alive else 0

    async def close(self) -> None:
        """Stop every task process (their tasks should be stopped already)."""
        async with self._lock:
            self._closed = True
            hosts = [h for h in self._hosts if h is not None]
            await asyncio.gather(*(h.close() for h in hosts))


class TaskHost:
    """One task process, seen from the worker."""

    def __init__(self, env: TaskEnv, slot: int) -> None:
        self.env = env
        self.slot = slot
        self.tasks: dict[TaskId, ProcessTask] = {}
        self.alive = True
        self.pid = 0
        self._process: asyncio.subprocess.Process | None = None
        self._channel: Channel | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def spawn(self) -> None:
        """Start the process and wait until it is ready for tasks."""
        ours, theirs = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tidal.connectors.runtime._task_host",
                str(theirs.fileno()), pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            ours.close()
            self.alive = False
            raise
        finally:
            theirs.close()
        self.pid = self._process.pid
        self._channel = channel = await Channel.open(ours)
        channel.send({
            "op": "init",
            "worker": self.env.worker.props,
            "worker_id": self.env.worker_id,
            "sys_path": list(sys.path),
            "log_level": logging.getLevelName(logging.getLogger().getEffectiveLevel()),
            "offsets": "topic" if isinstance(self.env.offsets, TopicOffsetStore) else "worker",
        })  # fmt: skip
        try:
            ready = await asyncio.wait_for(channel.receive(), START_TIMEOUT_S)
        except (TimeoutError, ChannelError) as exc:
            ready = None
            _log.error("Task process %d did not start: %s", self.pid, exc or "timed out")
        if ready is None or ready.get("op") != "ready":
            await self._abandon()
            code = self._process.returncode
            error = (ready or {}).get("error")
            raise TaskProcessError(
                f"task process {self.pid} failed to start"
                + (f": {error}" if error else f" (exit code {code})")
            )
        self._reader = asyncio.get_running_loop().create_task(
            self._read(channel), name=f"task process {self.slot}"
        )
        _log.info("Task process %d (slot %d) started", self.pid, self.slot)

    def send(self, message: dict[str, Any]) -> None:
        """Send to the process (dropped once it has gone)."""
        if self.alive and self._channel is not None:
            self._channel.send(message)

    # -- what the process says ----------------------------------------------------------

    async def _read(self, channel: Channel) -> None:
        reason = "closed its channel"
        try:
            while (message := await channel.receive()) is not None:
                self._dispatch(message)
        except ChannelError as exc:
            reason = f"sent a bad message: {exc}"
        except Exception as exc:  # noqa: BLE001 (a bug here must not strand the tasks)
            _log.error("Reading task process %d failed", self.pid, exc_info=exc)
            reason = f"could not be read: {exc!r}"
        await self._ended(reason)

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "offsets":
            write = asyncio.get_running_loop().create_task(self._write_offsets(message))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)
            return
        task = self.tasks.get(TaskId(*message["task"]))
        if task is None:
            return
        if op == "status":
            task.reported(Status.from_record(message["status"]))
        elif op == "metrics":
            task.metrics.apply(message["counts"], message["lags"])
            task.topics.update(message["topics"])
        elif op == "ended":
            task.topics.update(message["topics"])
            del self.tasks[task.id]
            task.ended(None)

    async def _write_offsets(self, message: dict[str, Any]) -> None:
        error = None
        try:
            offsets = {partition_id(p): (p, o) for p, o in message["offsets"]}
            await self.env.offsets.write(str(message["connector"]), offsets)
        except Exception as exc:  # noqa: BLE001 (the task hears of it and fails its commit)
            error = f"{type(exc).__name__}: {exc}"
        self.send({"op": "offsets-written", "id": message["id"], "error": error})

    async def _ended(self, reason: str) -> None:
        was_alive, self.alive = self.alive, False
        code = None
        if self._process is not None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self._process.wait(), 5.0)
        # A dead process's host is replaced in its slot, so close() never reaches it.
        if self._channel is not None:
            await self._channel.close()
        if self.tasks:
            why = f"task process {self.pid} {reason}" + (
                f" and exited with code {code}" if code is not None else ""
            )
            if was_alive:
                _log.error("%s; its tasks %s failed", why, ", ".join(map(str, self.tasks)))
            tasks, self.tasks = self.tasks, {}
            for task in tasks.values():
                task.ended(TaskProcessError(why))

    # -- stopping ---------------------------------------------------------------------

    async def close(self) -> None:
        """Ask the process to stop its tasks and exit; kill it if it does not."""
        self.send({"op": "exit"})
        process = self._process
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), EXIT_TIMEOUT_S)
            except TimeoutError:
                _log.error("Task process %d did not exit; killing it", self.pid)
                await self._abandon()
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=5.0)
        if self._channel is not None:
            await self._channel.close()
        self.alive = False

    async def _abandon(self) -> None:
        self.alive = False
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self._channel is not None:
            await self._channel.close()


class ProcessTask(WorkerTask):
    """A task running in one of ``env.processes``, as the worker sees it: it starts,
    pauses and stops its twin there and shows the status the twin reports."""

    def __init__(
        self,
        task_id: TaskId,
        kind: str,
        config: dict[str, str],
        connector_config: dict[str, str],
        env: TaskEnv,
    ) -> None:
        super().__init__(task_id, config, connector_config, env)
        self.kind = kind
        self._host: TaskHost | None = None
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def pid(self) -> int | None:
        """The task process this task runs in (None until placed)."""
        return self._host.pid if self._host is not None else None

    def transition(self, target: TargetState) -> None:
        """Pause or resume, here and in the task process."""
        super().transition(target)
        if self._host is not None:
            self._host.send({"op": "transition", "task": task_key(self.id), "target": target.value})

    async def stop(self, timeout_s: float | None = None) -> None:
        """Stop the task in its process (which commits its offsets) and wait for it."""
        timeout = (
            self.env.worker.task_shutdown_timeout_ms / 1000 if timeout_s is None else timeout_s
        )
        self.stopping = True
        self._tell_stop(timeout)
        await super().stop(timeout + STOP_MARGIN_S)

    def _tell_stop(self, timeout: float) -> None:
        if self._host is not None and not self._ended.done():
            self._host.send({"op": "stop", "task": task_key(self.id), "timeout": timeout})

    # -- what the task process reports --------------------------------------------------

    def reported(self, status: Status) -> None:
        """The twin's status changed."""
        self._set_status(status)

    def ended(self, error: BaseException | None) -> None:
        """The twin's run loop ended (``error``: its process went away instead)."""
        if self._ended.done():
            return
        if error is None:
            self._ended.set_result(None)
        else:
            self._ended.set_exception(error)

    # -- the run loop: the twin's, seen from here -----------------------------------------

    async def initialize(self) -> None:
        """Place the task in a process and start its twin there."""
        assert self.env.processes is not None, "a ProcessTask runs where task processes are"
        self._host = host = await self.env.processes.place(self)
        offsets = self.env.offsets.offsets(self.id.connector) if self.kind == "source" else []
        host.send({
            "op": "start", "task": task_key(self.id), "kind": self.kind,
            "config": self.config, "connector_config": self.connector_config,
            "target": self.target.value, "offsets": offsets,
        })  # fmt: skip
        if self.stopping:  # stopped while the process was starting
            self._tell_stop(self.env.worker.task_shutdown_timeout_ms / 1000)

    async def execute(self) -> None:
        """Wait for the twin to end (a dead process fails the task)."""
        await asyncio.shield(self._ended)

    async def close(self) -> None:
        """Make sure the twin has ended (or give up on it after the stop timeout)."""
        if self._host is None:
            return
        timeout = self.env.worker.task_shutdown_timeout_ms / 1000
        self._tell_stop(timeout)
        try:
            await asyncio.wait_for(asyncio.shield(self._ended), timeout + STOP_MARGIN_S)
        except TaskProcessError:
            pass
        except TimeoutError:
            _log.error("Task %s did not stop in task process %d", self.id, self._host.pid)
