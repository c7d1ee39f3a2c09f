"""One application instance at work: the group member, its tasks, its commits.

The loop, per turn: let restoring tasks replay some changelog; poll the
consumer (``getmany``); run each partition's records through its task with
plain calls; hand the outputs to the producer; fire wall-clock punctuators;
and every ``commit_interval_ms``, :meth:`StreamsRuntime.commit`.

Under exactly-once (``_eos``) the commit is a transaction's; when one aborts,
the runtime rewinds every task to the last commit before the next turn
processes anything: its stores' buffered writes are dropped, its chain is
rebuilt after its stores restore what the changelog committed, and its
inputs are read again from the group's committed offsets.

Rebalance callbacks run on the consumer's group task, so they and the loop
share one lock: a revocation waits for the batch in hand, commits, and
closes the tasks that leave; an assignment opens the new tasks' stores and
pauses their partitions until restoration is done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer, RecordFuture
from tidal.log.protocol.errors import (
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
)
from tidal.streams._contract import (
    CompiledTopologyProtocol,
    PartitionStore,
    StreamsError,
    TaskId,
)
from tidal.streams.runtime._assignor import StreamsAssignor
from tidal.streams.runtime._config import AppConfig, stable_instance_id
from tidal.streams.runtime._eos import EOS_PRODUCER_DEFAULTS, ExactlyOnce
from tidal.streams.runtime._metrics import StreamsMetrics
from tidal.streams.runtime._processing import Processor
from tidal.streams.runtime._restore import Restorer
from tidal.streams.runtime._tasks import (
    OutputRecord,
    StoreOpener,
    Task,
    TaskManager,
    default_store_opener,
)

__all__ = ["StreamsRuntime"]

log = logging.getLogger("tidal.streams.runtime")

#: How long a commit retries an offset commit refused during a rebalance.
_COMMIT_RETRY_S = 10.0
_RETRY_COMMIT = (RebalanceInProgressError, IllegalGenerationError)


class StreamsRuntime:
    """Consumer, producer, tasks and commits of one instance."""

    def __init__(
        self,
        config: AppConfig,
        topology: CompiledTopologyProtocol,
        client_settings: Mapping[str, object],
        metrics: StreamsMetrics,
        open_store: StoreOpener = default_store_opener,
        *,
        progress: bool | None = None,
    ) -> None:
        self.config = config
        self.topology = topology
        self.metrics = metrics
        self.outputs: list[OutputRecord] = []
        self.tasks = TaskManager(topology, config.app_dir, self.outputs, open_store)
        self.assignor = StreamsAssignor(
            {s.id: s.source_topics for s in topology.subtopologies}, self._member_tasks
        )
        # consumer_config may tune the consumer; the group, the commits and the
        # assignor are the runtime's.
        consumer_settings: dict[str, object] = {
            "max_poll_records": config.max_poll_records,
            **client_settings,
            **{k.replace(".", "_"): v for k, v in config.consumer_config.items()},
            "group_id": config.application_id,
            "enable_auto_commit": False,
            "auto_offset_reset": config.auto_offset_reset,
            "partition_assignment_strategy": [self.assignor],
        }
        producer_settings: dict[str, object] = {**client_settings, **config.producer_config}
        if config.exactly_once:
            # Aborted outputs of upstream sub-topologies (repartition topics)
            # must never be processed.
            consumer_settings["isolation_level"] = "read_committed"
            producer_settings = {
                **client_settings,
                **EOS_PRODUCER_DEFAULTS,
                **config.producer_config,
                "transactional_id": self.transactional_id_for(config),
            }
        self.consumer = Consumer(consumer_settings)
        self.producer = Producer(producer_settings)
        self.restorer = Restorer(
            client_settings, metrics, progress=progress, exactly_once=config.exactly_once
        )
        self.eos = ExactlyOnce(self.producer, self.consumer) if config.exactly_once else None
        self.processor = Processor(
            config,
            self.tasks,
            self.producer,
            self.consumer,
            metrics,
            None if self.eos is None else self.eos.begin,
        )
        if self.eos is not None:
            self.eos.processor = self.processor
        #: An aborted transaction left the tasks to rewind before the next turn.
        self._rewind_pending = False
        self.lock = asyncio.Lock()
        self.failed = False
        self.closing = False
        self._fatal: BaseException | None = None
        self._new_tasks: list[Task] = []
        self.last_activity = time.monotonic()

    # -- lifecycle -----------------------------------------------------------------

    @staticmethod
    def transactional_id_for(config: AppConfig) -> str:
        """``<application_id>-<instance id>``, stable across restarts (see ``_eos``)."""
        return f"{config.application_id}-{stable_instance_id(config.app_dir)}"

    async def start(self) -> None:
        """Connect the clients and join the group (exactly-once: first fence
        older instances, so that no task restores while they may commit)."""
        await self.producer.start()
        if self.eos is not None:
            await self.eos.start()
        await self.restorer.start()
        await self.consumer.start()
        topics = sorted({t for s in self.topology.subtopologies for t in s.source_topics})
        self.consumer.subscribe(topics, listener=self)

    async def close(self) -> None:
        """Final commit (unless failed), leave the group, close everything."""
        self.closing = True
        try:
            if not self.failed:
                async with self.lock:
                    await self.commit()
        finally:
            try:
                await self.consumer.close()  # revokes: closes the tasks
            finally:
                for task in list(self.tasks.tasks.values()):
                    self.tasks.close(task, rollback=self.failed)
                await self.restorer.close()
                await self.producer.close()

    def fail(self) -> None:
        """Give up: nothing of the current interval is committed from now on."""
        self.failed = True
        for task in self.tasks.tasks.values():
            for store in task.stores.values():
                store.rollback()

    # -- the loop ------------------------------------------------------------------

    async def run_once(self, poll_ms: int) -> int:
        """One turn of the loop; the number of records processed."""
        if self._fatal is not None:
            raise self._fatal
        if self._rewind_pending and not await self._rewind():
            await asyncio.sleep(min(poll_ms, 100) / 1000)
            return 0
        await self._restore_step()
        timeout = 0 if self.restorer.busy else poll_ms
        batch = await self.consumer.getmany(timeout_ms=timeout)
        async with self.lock:
            if self._rewind_pending:
                return 0  # a transaction aborted during the poll (in a rebalance)
            try:
                count = self.processor.process(batch)
                await self.processor.send_outputs()
                self.processor.punctuate()
                await self.processor.send_outputs()
            except KafkaError as e:
                if self.eos is None:
                    raise
                await self._abort(e)  # a send met the transaction's error
                return 0
        if count:
            self.metrics.processed(count)
            self.last_activity = time.monotonic()
        return count

    async def _restore_step(self) -> None:
        async with self.lock:
            new, self._new_tasks = self._new_tasks, []
            for task in new:
                if self.tasks.tasks.get(task.id) is task and await self.restorer.add(task):
                    self._activate(task)
            if self.restorer.busy:
                for task in await self.restorer.step():
                    self._activate(task)
            restoring = sum(1 for t in self.tasks.tasks.values() if t.restoring)
            self.metrics.tasks(len(self.tasks.tasks) - restoring, restoring)

    def _activate(self, task: Task) -> None:
        self.tasks.start(task)
        self.consumer.resume(*task.partitions)
        self.last_activity = time.monotonic()
        log.info("task %s: processing", task.id)

    def caught_up(self) -> bool:
        """Tasks assigned, restored, and every input read to its end."""
        assignment = self.consumer.assignment()
        if not assignment or self.restorer.busy or self._new_tasks:
            return False
        return all(self.consumer.lag(tp) == 0 for tp in assignment)

    # -- committing ----------------------------------------------------------------

    async def commit(self) -> None:
        """Commit every task's progress, in DESIGN §8's order:

        1. produce each store's buffered writes (``store.pending()``) to its
           changelog topic, partition = the task's partition;
        2. flush the producer: the outputs and the changelog records are all
           acknowledged, and the acks give each changelog's next offset;
        3. commit the consumed offsets (the next offset to read of each
           input partition) to the group;
        4. ``store.commit(next changelog offset)``: the buffered writes and the
           changelog offset reach the store together, atomically.

        A crash before 3 replays the interval from the last committed
        offsets (at-least-once); a crash between 3 and 4 leaves stores behind
        their changelog, and restoration replays the difference.
        """
        if self.failed or self._rewind_pending:
            return
        started = time.monotonic()
        if self.eos is not None:
            before = self.eos.commits
            await self._commit_transaction()
            if self.eos.commits > before:  # an interval with nothing to commit is not counted
                self.metrics.committed(time.monotonic() - started)
            return
        await self.processor.send_outputs()
        active = [t for t in self.tasks.tasks.values() if not t.restoring]
        last_sent: dict[int, RecordFuture] = {}
        for task in active:  # 1.
            for store, tp in task.changelogged():
                fut = await self.processor.send_changelog(store.pending(), tp)
                if fut is not None:
                    last_sent[id(store)] = fut
        await self.producer.flush()  # 2.
        self.processor.raise_delivery_errors()
        offsets = {tp: offset for task in active for tp, offset in task.consumed.items()}
        if offsets:  # 3.
            await self._commit_offsets(offsets)
        for task in active:
            task.consumed.clear()
            self._report_lag(task)
        for task in active:  # 4.
            for store in task.stores.values():
                self._commit_store(store, last_sent)
        self.metrics.committed(time.monotonic() - started)

    async def _commit_transaction(self) -> None:
        assert self.eos is not None
        active = [t for t in self.tasks.tasks.values() if not t.restoring]
        try:
            done = await self.eos.commit(active)
        except StreamsError:
            self.fail()  # fenced, or the outcome is unknown: nothing more commits
            raise
        if done:
            for task in active:
                task.consumed.clear()
                self._report_lag(task)
        else:
            self._after_abort()

    async def _abort(self, error: BaseException) -> None:
        assert self.eos is not None
        try:
            await self.eos.abort(error)
        except StreamsError:
            self.fail()
            raise
        self._after_abort()

    def _after_abort(self) -> None:
        for task in self.tasks.tasks.values():
            task.consumed.clear()
            for store in task.stores.values():
                store.rollback()
        self._rewind_pending = True

    async def _rewind(self) -> bool:
        """Take every task back to the last commit; False to try again later."""
        async with self.lock:
            tasks = list(self.tasks.tasks.values())
            assigned = self.consumer.assignment()
            tps = [tp for task in tasks for tp in task.partitions if tp in assigned]
            try:
                committed = await self.consumer.committed(tps) if tps else {}
            except KafkaError as e:
                log.warning("rewinding after an abort: reading committed offsets failed: %s", e)
                return False
            for tp, om in committed.items():
                if om is not None:
                    self.consumer.seek(tp, om.offset)
                elif self.config.auto_offset_reset == "earliest":
                    self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek_to_end(tp)
            for task in tasks:
                self.restorer.remove(task)
                self.tasks.stop(task)
                self.consumer.pause(*task.partitions)
                if task not in self._new_tasks:
                    self._new_tasks.append(task)
            self._rewind_pending = False
            log.info("rewound %d task(s) to the last commit", len(tasks))
            return True

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        # While the group completes a rebalance (the leader has not sent the
        # assignment yet) the coordinator answers REBALANCE_IN_PROGRESS, and a
        # commit sent as the member joins a new generation carries the old one
        # (ILLEGAL_GENERATION). Both pass within moments, and with cooperative
        # rebalancing this member still owns its partitions until it revokes
        # them, so try again rather than leave the offsets behind a changelog
        # that already holds the interval's writes.
        deadline = time.monotonic() + _COMMIT_RETRY_S
        delay = 0.02
        while True:
            try:
                await self.consumer.commit(offsets)
                return
            except KafkaError as e:
                again = e.retriable or isinstance(e, _RETRY_COMMIT)
                if not again or time.monotonic() + delay > deadline:
                    # The group moved on: whoever owns the partitions now
                    # reads the interval again (at-least-once).
                    log.warning("committing offsets failed: %s: %s", type(e).__name__, e)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    @staticmethod
    def _commit_store(store: PartitionStore, last_sent: dict[int, RecordFuture]) -> None:
        fut = last_sent.get(id(store))
        if fut is not None:
            store.commit(fut.result().offset + 1)
        elif store.pending():
            store.commit(store.changelog_offset)

    def _report_lag(self, task: Task) -> None:
        # In a revocation the consumer has already let go of the partitions.
        assigned = self.consumer.assignment()
        lags = [self.consumer.lag(tp) for tp in task.partitions if tp in assigned]
        self.metrics.lag(str(task.id), sum(lag for lag in lags if lag is not None))

    # -- rebalance listener (called by the consumer's group task) ------------------

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._drop(revoked, lost=False)

    async def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        await self._drop(lost, lost=True)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self.lock:
            by_task: dict[TaskId, set[TopicPartition]] = {}
            for tp in assigned:
                by_task.setdefault(self.assignor.task_of(tp), set()).add(tp)
            for task_id, tps in sorted(by_task.items()):
                if task_id in self.tasks.tasks:
                    continue
                self.consumer.pause(*tps)
                try:
                    task = self.tasks.open(task_id, frozenset(tps))
                except Exception as e:  # noqa: BLE001 - reported by the loop
                    self._fatal = StreamsError(f"cannot open the stores of task {task_id}: {e!r}")
                    return
                self._new_tasks.append(task)
            self.last_activity = time.monotonic()

    async def _drop(self, partitions: set[TopicPartition], *, lost: bool) -> None:
        async with self.lock:
            leaving = {
                self.tasks.by_partition[tp] for tp in partitions if tp in self.tasks.by_partition
            }
            if not leaving:
                return
            if not lost and not self.failed:
                try:
                    await self.commit()
                except Exception as e:
                    log.exception("commit before handing over tasks failed")
                    self._fatal = e
            elif lost and self.eos is not None and self.eos.open and not self.failed:
                # What the open transaction holds of the lost tasks must not
                # commit with the others: abort it and rewind those that stay.
                try:
                    await self._abort(StreamsError("partitions lost in a rebalance"))
                except Exception as e:
                    log.exception("aborting after lost partitions failed")
                    self._fatal = e
            for task in sorted(leaving, key=lambda t: t.id):
                self.restorer.remove(task)
                if task in self._new_tasks:
                    self._new_tasks.remove(task)
                rollback = lost or self.failed or self._fatal is not None or self._rewind_pending
                self.tasks.close(task, rollback=rollback)
                self.metrics.forget_task(str(task.id))
                what = "lost" if lost else "closed" if self.closing else "handed over"
                log.info("task %s: %s", task.id, what)
            self.last_activity = time.monotonic()

    def _member_tasks(self) -> tuple[list[TaskId], list[TaskId]]:
        return list(self.tasks.tasks), self.tasks.local_task_ids()
