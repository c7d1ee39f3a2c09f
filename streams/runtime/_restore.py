"""Restoration: replay each store's changelog from its stored offset to the end.

A consumer of its own, by assignment and outside the group, reads the
changelog partitions of the tasks that are restoring. The main loop calls
:meth:`Restorer.step` between its own polls, so the group member keeps
polling (and keeps its place in the group) however long a restore takes,
and tasks that are ready start processing while others still restore.

Changelogs are read ``read_committed``: records of aborted transactions
never reach a store. Under at-least-once a restore ends at the last stable
offset. Under exactly-once it ends at the high watermark, read
``read_committed``: it waits for every transaction open on the changelog to
end (a previous owner's, settled when it commits, aborts or times out), so a
store never misses records committed after an open transaction began; and
a store whose offset is past the high watermark (the changelog lost records
it had committed: deleted, recreated) is wiped and restored from the
beginning (see :meth:`Restorer.add`).

On a terminal the progress shows as a rich progress bar on stderr; without
one, a log line when a restore starts and one when each task is done.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.streams._contract import PartitionStore
from tidal.streams.runtime._metrics import StreamsMetrics
from tidal.streams.runtime._tasks import Task

__all__ = ["Restorer"]

log = logging.getLogger("tidal.streams.runtime")

#: The restore consumer's ``fetch_max_wait_ms``: short, so that a changelog at
#: its end answers at once.
_RESTORE_FETCH_WAIT_MS = 10


@dataclass(eq=False)
class _Changelog:
    task: Task
    store: PartitionStore
    next_offset: int
    end: int


class Restorer:
    """Restores the stores of tasks handed to :meth:`add`."""

    def __init__(
        self,
        client_settings: Mapping[str, object],
        metrics: StreamsMetrics,
        *,
        progress: bool | None = None,
        exactly_once: bool = False,
    ) -> None:
        self._consumer = Consumer(
            dict(client_settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=10_000,
            isolation_level="read_committed",
            # A restore reads what is there: a fetch at a changelog's end must not
            # hold the records of the other partitions (or a task's start) back.
            fetch_max_wait_ms=_RESTORE_FETCH_WAIT_MS,
        )
        self._exactly_once = exactly_once
        # Offsets are looked up by a consumer that never fetches: a broker answers
        # a connection's requests in order, so behind a long-polling Fetch a
        # ListOffsets would wait out fetch_max_wait_ms. Under exactly-once it
        # reads high watermarks, where a restore ends.
        self._offsets = Consumer(
            dict(client_settings),
            enable_auto_commit=False,
            isolation_level="read_uncommitted" if exactly_once else "read_committed",
        )
        self._metrics = metrics
        self._active: dict[TopicPartition, _Changelog] = {}
        #: Tasks added since the last step: their offsets are looked up together.
        self._queued: list[Task] = []
        self._pending: dict[Task, set[TopicPartition]] = {}
        self._started: dict[Task, float] = {}
        self._show = sys.stderr.isatty() if progress is None else progress
        self._bar: Any = None
        self._bar_task: Any = None

    @property
    def busy(self) -> bool:
        """Whether some task is restoring."""
        return bool(self._pending or self._queued)

    async def start(self) -> None:
        await self._consumer.start()
        await self._offsets.start()

    async def close(self) -> None:
        self._stop_bar()
        try:
            await self._consumer.close()
        finally:
            await self._offsets.close()

    async def add(self, task: Task) -> bool:
        """Start restoring ``task``; True when it has no changelog.

        Otherwise the task is queued: the next :meth:`step` looks up the
        offsets of every queued task's changelogs at once, and returns the
        tasks already at their changelogs' ends without fetching anything.
        """
        if not task.changelogged():
            return True
        self._queued.append(task)
        return False

    async def _start_queued(self) -> list[Task]:
        """Look up the queued tasks' changelog offsets in one go; the tasks
        with nothing to replay."""
        queued, self._queued = self._queued, []
        wanted = {task: dict(task.changelogged()) for task in queued}
        tps = list({tp for stores in wanted.values() for tp in stores.values()})
        ends = await self._offsets.end_offsets(tps) if tps else {}
        # A store already at its changelog's end needs nothing more: no fetch at all.
        elsewhere = list(
            {
                tp
                for stores in wanted.values()
                for store, tp in stores.items()
                if store.changelog_offset != ends[tp]
            }
        )
        begins = await self._offsets.beginning_offsets(elsewhere) if elsewhere else {}
        ready = [task for task in queued if not self._start(task, wanted[task], ends, begins)]
        if self._active:
            self._reassign()
        return ready

    def _start(
        self,
        task: Task,
        wanted: dict[PartitionStore, TopicPartition],
        ends: Mapping[TopicPartition, int],
        begins: Mapping[TopicPartition, int],
    ) -> bool:
        """Begin replaying ``task``'s changelogs; False when there is nothing to replay."""
        todo: set[TopicPartition] = set()
        for store, tp in wanted.items():
            start = store.changelog_offset
            if self._exactly_once and start is not None and start > ends[tp]:
                self._wipe(task, store, tp, start, ends[tp])
                start = None
            if start == ends[tp]:
                continue
            if start is None or start < begins[tp]:
                start = begins[tp]
            if start > ends[tp]:
                log.warning(
                    "store '%s' of task %s is at changelog offset %d, past the end of %s-%d "
                    "(%d): was the changelog deleted? Keeping the local state.",
                    store.name,
                    task.id,
                    start,
                    tp.topic,
                    tp.partition,
                    ends[tp],
                )
            if start < ends[tp]:
                self._active[tp] = _Changelog(task, store, start, ends[tp])
                todo.add(tp)
        if not todo:
            return False
        self._pending[task] = todo
        self._started[task] = time.monotonic()
        total = sum(self._active[tp].end - self._active[tp].next_offset for tp in todo)
        log.info("task %s: restoring %d changelog records", task.id, total)
        self._advance_bar(total=total)
        return True

    @staticmethod
    def _wipe(task: Task, store: PartitionStore, tp: TopicPartition, at: int, end: int) -> None:
        """Empty ``store``: it claims changelog records the changelog does not hold.

        The runtime writes a store only after its transaction committed, so
        this means the changelog lost records (deleted, recreated, truncated);
        state that may be ahead of the committed changelog is never kept.
        """
        log.warning(
            "store '%s' of task %s is at changelog offset %d, past the end of %s-%d "
            "(%d): wiping it and restoring from the changelog",
            store.name,
            task.id,
            at,
            tp.topic,
            tp.partition,
            end,
        )
        keys = [key for key, _ in store.range()]
        store.restore(((key, None) for key in keys), 0)

    def remove(self, task: Task) -> None:
        """Stop restoring ``task`` (it was revoked)."""
        if task in self._queued:
            self._queued.remove(task)
        for tp in self._pending.pop(task, set()):
            self._active.pop(tp, None)
        self._started.pop(task, None)
        self._reassign()

    def _reassign(self) -> None:
        self._consumer.assign(self._active)
        for tp, changelog in self._active.items():
            self._consumer.seek(tp, changelog.next_offset)
        if not self._active:
            self._stop_bar()

    async def step(self, timeout_ms: int = 50) -> list[Task]:
        """Replay what arrives within ``timeout_ms``; the tasks now restored."""
        ready = await self._start_queued() if self._queued else []
        if not self._active:
            return ready
        done: list[Task] = []
        batch = await self._consumer.getmany(timeout_ms=timeout_ms)
        for tp, records in batch.items():
            changelog = self._active.get(tp)
            if changelog is None or not records:
                continue
            before = changelog.next_offset
            last = records[-1].offset + 1
            changelog.store.restore(((r.key or b"", r.value) for r in records), last)
            changelog.next_offset = last
            self._metrics.restored(changelog.store.name, len(records))
            self._advance_bar(advance=min(last, changelog.end) - before)
        for tp, changelog in list(self._active.items()):
            # A compacted changelog may end in a gap; the position tells.
            if (
                changelog.next_offset < changelog.end
                and await self._consumer.position(tp) < changelog.end
            ):
                continue
            del self._active[tp]
            todo = self._pending[changelog.task]
            todo.discard(tp)
            if not todo:
                done.append(changelog.task)
        for task in done:
            del self._pending[task]
            seconds = time.monotonic() - self._started.pop(task)
            self._metrics.restore_time(seconds)
            log.info("task %s: restored in %.2f s", task.id, seconds)
        if done:
            self._reassign()
        return ready + done

    # -- progress ------------------------------------------------------------------

    def _advance_bar(self, *, total: int = 0, advance: int = 0) -> None:
        if not self._show:
            return
        if self._bar is None:
            from rich.console import Console  # noqa: PLC0415
            from rich.progress import Progress  # noqa: PLC0415

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
            self._bar_task = self._bar.add_task("restoring state", total=0)
        if total:
            current = self._bar.tasks[0].total or 0
            self._bar.update(self._bar_task, total=current + total)
        if advance:
            self._bar.update(self._bar_task, advance=advance)

    def _stop_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
