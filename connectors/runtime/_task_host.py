"""A task process: runs the tasks a worker places here (``task.processes``).

Started by the worker as ``python -m tidal.connectors.runtime._task_host FD``, with FD one
end of a socket pair (see :mod:`._processes` for the whole picture). The worker sends
``init`` first (its settings, id, ``sys.path`` and log level); this process answers
``ready``, then runs tasks::

    worker -> here   start {task, kind, config, connector_config, target, offsets}
                     transition {task, target} · stop {task, timeout}
                     offsets-written {id, error} · exit
    here -> worker   status {task, status} · metrics {task, counts, lags, topics}
                     ended {task, topics} · offsets {id, connector, offsets}

When the worker's end closes (the worker exited, even by SIGKILL) or ``exit`` arrives,
every task stops as on a worker shutdown (final flush and offset commit) and the process
exits; source offsets the worker keeps are not committed once it has gone. The process
is the worker's to manage: it ignores SIGINT and SIGTERM (Ctrl-C in a terminal, or a
process group being stopped, reaches the worker too, which stops its tasks here and then
the process), and it is killed when the worker dies (SIGKILL included).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from typing import Any

from tidal._gc import throughput_gc
from tidal.connectors.api import ConnectError

from ._channel import Channel
from ._connector import new_task
from ._metrics import ConnectMetrics, TaskMetrics, TaskMetricsRecorder
from ._offsets import Offset, OffsetStore, Partition, partition_id
from ._plugins import WorkerPlugins
from ._processes import task_key
from ._status import Status, TargetState
from ._task import TaskEnv, TaskId, WorkerTask
from ._topic_log import TopicOffsetStore
from ._worker_config import WorkerConfig

__all__ = ["main"]

_log = logging.getLogger("tidal.connectors.runtime")

_PR_SET_PDEATHSIG = 1

#: How often each task's metrics and topics go to the worker.
METRICS_INTERVAL_S = 1.0


class _Recorders(ConnectMetrics):
    """Task metrics that are counted here and sent to the worker, which exports them."""

    def task(self, connector: str, task: int) -> TaskMetrics:
        """A recorder for one task."""
        return TaskMetricsRecorder()


class _WorkerOffsetStore(OffsetStore):
    """Source offsets kept by the worker: read from the snapshot each task start brings,
    written by asking the worker (which answers once they are durable)."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self._channel = channel
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[str | None]] = {}
        self._gone = False

    def load(self, connector: str, entries: list[list[dict[str, Any]]]) -> None:
        """Replace what is known of ``connector``'s offsets with the worker's."""
        self._data.pop(connector, None)
        for partition, offset in entries:
            self._data.setdefault(connector, {})[partition_id(partition)] = (partition, offset)

    async def _persist(
        self, connector: str, changed: Mapping[str, tuple[Partition, Offset | None]]
    ) -> None:
        if self._gone:
            raise ConnectError("the worker has gone: it cannot store the offsets")
        self._next_id += 1
        ask = self._next_id
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending[ask] = answer
        offsets = [[dict(p), dict(o) if o is not None else None] for p, o in changed.values()]
        self._channel.send({"op": "offsets", "id": ask, "connector": connector,
                            "offsets": offsets})  # fmt: skip
        try:
            error = await answer
        finally:
            self._pending.pop(ask, None)
        if error is not None:
            raise ConnectError(f"the worker could not store the offsets: {error}")

    def answered(self, ask: int, error: str | None) -> None:
        """The worker stored (or failed to store) the offsets of request ``ask``."""
        answer = self._pending.get(ask)
        if answer is not None and not answer.done():
            answer.set_result(error)

    def abandon(self) -> None:
        """The worker has gone: no pending or later write will be answered."""
        self._gone = True
        for answer in self._pending.values():
            if not answer.done():
                answer.set_result("the worker has gone")


class TaskHostProcess:
    """The tasks of this process and the channel to the worker."""

    def __init__(self, channel: Channel, init: dict[str, Any]) -> None:
        self.channel = channel
        self.worker = WorkerConfig(init["worker"])
        self.worker_id = str(init["worker_id"])
        self.worker_store: _WorkerOffsetStore | None = None
        offsets: OffsetStore
        if init.get("offsets") == "topic":
            offsets = TopicOffsetStore(self.worker)
        else:
            offsets = self.worker_store = _WorkerOffsetStore(channel)
        self.env = TaskEnv(self.worker, WorkerPlugins(), offsets, _Recorders(), self.worker_id,
                           self._on_status)  # fmt: skip
        self.tasks: dict[TaskId, WorkerTask] = {}
        self._sent_topics: dict[TaskId, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._receiving: asyncio.Task[None] | None = None

    def _on_status(self, task_id: TaskId, status: Status) -> None:
        self.channel.send({"op": "status", "task": task_key(task_id),
                           "status": status.to_record()})  # fmt: skip

    def _spawn(self, coro: Any, name: str) -> None:
        job = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    # -- serving ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run tasks until the worker says ``exit`` or goes away."""
        await self.env.offsets.start()
        self.channel.send({"op": "ready"})
        self._spawn(self._report_metrics(), "task metrics")
        self._receiving = asyncio.get_running_loop().create_task(self._receive())
        await asyncio.wait({self._receiving})
        await self.shutdown()
        self._receiving.result()  # a broken channel ends the process with its error

    async def _receive(self) -> None:
        while (message := await self.channel.receive()) is not None:
            op = message["op"]
            if op == "exit":
                break
            if op == "offsets-written":
                if self.worker_store is not None:
                    self.worker_store.answered(int(message["id"]), message.get("error"))
                continue
            task_id = TaskId(*message["task"])
            if op == "start":
                # Started before the next message is read, so a stop finds the task.
                await self._start(task_id, message)
            elif op == "transition" and (task := self.tasks.get(task_id)) is not None:
                task.transition(TargetState(message["target"]))
            elif op == "stop" and (task := self.tasks.get(task_id)) is not None:
                self._spawn(task.stop(float(message["timeout"])), f"stop {task_id}")
        # The worker said exit, or its end closed: nothing more is read, so the final
        # commits of tasks still stopping must not wait for answers that cannot come.
        if self.worker_store is not None:
            self.worker_store.abandon()

    async def _start(self, task_id: TaskId, message: dict[str, Any]) -> None:
        try:
            if self.worker_store is not None:
                self.worker_store.load(task_id.connector, message["offsets"])
            else:
                await self.env.offsets.refresh()  # what the task's previous owner committed
            task = new_task(message["kind"], task_id, message["config"],
                            message["connector_config"], self.env)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 (the task fails; the process goes on)
            _log.error("Task %s could not be created", task_id, exc_info=exc)
            self._on_status(task_id, Status.failed(self.worker_id, exc))
            self.channel.send({"op": "ended", "task": task_key(task_id), "topics": []})
            return
        self.tasks[task_id] = task
        task.start(TargetState(message["target"]))
        self._spawn(self._watch(task_id, task), f"watch {task_id}")

    async def _watch(self, task_id: TaskId, task: WorkerTask) -> None:
        await task.wait()
        self._send_metrics(task_id, task)
        del self.tasks[task_id]
        self._sent_topics.pop(task_id, None)
        self.channel.send({"op": "ended", "task": task_key(task_id),
                           "topics": sorted(task.topics)})  # fmt: skip

    async def _report_metrics(self) -> None:
        while True:
            await asyncio.sleep(METRICS_INTERVAL_S)
            for task_id, task in list(self.tasks.items()):
                self._send_metrics(task_id, task)

    def _send_metrics(self, task_id: TaskId, task: WorkerTask) -> None:
        recorder = task.metrics
        assert isinstance(recorder, TaskMetricsRecorder)
        counts, lags = recorder.take()
        topics_changed = len(task.topics) != self._sent_topics.get(task_id)
        if not counts and not lags and not topics_changed:
            return
        self._sent_topics[task_id] = len(task.topics)
        self.channel.send({"op": "metrics", "task": task_key(task_id), "counts": counts,
                           "lags": lags, "topics": sorted(task.topics)})  # fmt: skip

    async def shutdown(self) -> None:
        """Stop every task (each commits its offsets), then close."""
        tasks = list(self.tasks.values())
        await asyncio.gather(*(t.stop() for t in tasks), return_exceptions=True)
        for job in list(self._background):
            if job.get_name() == "task metrics":
                job.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.worker_store is not None:
            self.worker_store.abandon()
        with contextlib.suppress(Exception):
            await self.env.offsets.stop()
        with contextlib.suppress(Exception):
            await self.channel.drain()
        await self.channel.close()


async def _run(sock: socket.socket) -> int:
    channel = await Channel.open(sock)
    init = await channel.receive()
    if init is None or init.get("op") != "init":
        return 2
    sys.path[:] = [str(p) for p in init["sys_path"]]
    _setup_logging(str(init.get("log_level", "WARNING")))
    try:
        host = TaskHostProcess(channel, init)
    except Exception as exc:  # noqa: BLE001 (the worker shows why, then gives up on us)
        channel.send({"op": "failed", "error": f"{type(exc).__name__}: {exc}"})
        await channel.drain()
        return 1
    await host.serve()
    return 0


def _setup_logging(level: str) -> None:
    from tidal.cli._logging import setup_logging  # noqa: PLC0415 - the worker's format

    setup_logging(level)


def _die_with_the_worker() -> None:
    """Be killed when the worker dies (Linux's ``PR_SET_PDEATHSIG``), as a Kafka Connect
    worker's task threads die with its JVM: a worker killed with SIGKILL must not leave a
    task running on, still writing while its replacement starts. A worker that stops
    normally stops its task processes first; elsewhere the closed channel stops them."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the worker died before that took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    """Serve the worker on the socket whose descriptor is the one argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m tidal.connectors.runtime._task_host FD", file=sys.stderr)
        return 2
    # The worker stops this process's tasks, then the process (see the module's doc).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_the_worker()
    sock = socket.socket(fileno=int(args[0]))
    with throughput_gc():
        return asyncio.run(_run(sock))


if __name__ == "__main__":
    sys.exit(main())
