"""Exactly-once (``processing_guarantee="exactly_once_v2"``): the transactional commit.

One transactional producer per instance, ``transactional.id`` =
``<application_id>-<instance id>`` (the instance id lives in the state
directory, so a restarted instance fences the one it replaces). A
transaction spans one commit interval: it begins at the interval's first
send (an output or a changelog record) and :meth:`ExactlyOnce.commit` ends it:

1. produce each store's buffered writes to its changelog, in the transaction;
2. ``send_offsets_to_transaction``: the consumed offsets, with the
   consumer's group metadata (a member fenced by a rebalance cannot commit);
3. ``commit_transaction``: flushes outputs and changelog records, then
   commits them and the offsets together;
4. only then ``store.commit(next changelog offset)``: a store never holds a
   write whose changelog record is not committed.

Any error before 3 completes aborts the transaction (:meth:`abort`): the
stores drop their buffered writes and the runtime rewinds its tasks to the
last commit (restore the changelog, seek the inputs to the committed
offsets). A producer fenced by a newer instance with the same
transactional id stops the app (:class:`InstanceFencedError`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tidal.log.client._errors import KafkaTimeoutError
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import (
    Producer,
    ProducerFencedError,
    RecordFuture,
    TransactionState,
)
from tidal.log.protocol.errors import KafkaError
from tidal.streams._contract import StreamsError
from tidal.streams.runtime._processing import Processor
from tidal.streams.runtime._tasks import Task

__all__ = ["EOS_PRODUCER_DEFAULTS", "ExactlyOnce", "InstanceFencedError"]

log = logging.getLogger("tidal.streams.runtime")

#: Producer settings under exactly-once unless ``producer_config`` names them.
#: Kafka Streams' 10 s transaction timeout: an instance that dies for good
#: blocks ``read_committed`` readers of its partitions at most that long.
EOS_PRODUCER_DEFAULTS: dict[str, object] = {"transaction_timeout_ms": 10_000}
#: How many times a commit or an abort that timed out is made again.
_ATTEMPTS = 3
_ABORTABLE_STATES = (
    TransactionState.IN_TRANSACTION,
    TransactionState.ABORTABLE_ERROR,
    TransactionState.ABORTING,
)


class InstanceFencedError(StreamsError):
    """The transactional producer was fenced: the instance stops.

    With a stable ``transactional.id`` a fenced instance has been replaced by
    a newer start of itself (or its transaction outlived
    ``transaction_timeout_ms`` and the coordinator aborted it); rejoining
    would fence the newer instance in turn, so this one stops without
    committing and the newer one carries on from the last commit.
    """


class ExactlyOnce:
    """The transaction of the current commit interval."""

    def __init__(self, producer: Producer, consumer: Consumer) -> None:
        self.producer = producer
        self._consumer = consumer
        #: The runtime's processor (set once both exist: it calls :meth:`begin`).
        self.processor: Processor | None = None
        #: Transactions committed and aborted by this instance (tests, metrics).
        self.commits = 0
        self.aborts = 0

    def _proc(self) -> Processor:
        assert self.processor is not None
        return self.processor

    @property
    def transactional_id(self) -> str:
        tid = self.producer.config.transactional_id
        assert tid is not None
        return tid

    async def start(self) -> None:
        """``init_transactions``: fence older instances with the same id and
        wait until what they left open is aborted (before any task restores)."""
        try:
            await self.producer.init_transactions()
        except ProducerFencedError as e:
            raise self._fenced(e) from e

    def begin(self) -> None:
        """Begin a transaction unless one is open (called before every send)."""
        if self.producer.transaction_state is TransactionState.READY:
            self.producer.begin_transaction()

    @property
    def open(self) -> bool:
        """Whether a transaction is open (records or offsets may be in it)."""
        return self.producer.transaction_state is not TransactionState.READY

    async def commit(self, active: Sequence[Task]) -> bool:
        """Steps 1 to 4 of the module docstring; False when the interval was aborted.

        Raises :class:`InstanceFencedError` when fenced, and
        :class:`StreamsError` when the transaction's outcome cannot be
        settled (the app then stops; a restart settles it).
        """
        try:
            last_sent = await self._produce_changelogs(active)
            offsets = {tp: offset for task in active for tp, offset in task.consumed.items()}
            if offsets:  # 2.
                self.begin()
                await self.producer.send_offsets_to_transaction(
                    offsets, self._consumer.group_metadata()
                )
            if self.open:  # 3.
                await self._commit_transaction()
                self.commits += 1
            self._proc().raise_delivery_errors()
        except ProducerFencedError as e:
            raise self._fenced(e) from e
        except (KafkaError, StreamsError) as e:
            if isinstance(e, StreamsError) and not isinstance(e.__cause__, KafkaError):
                raise
            if _caused_by_fencing(e):
                raise self._fenced(e) from e
            await self.abort(e)
            return False
        for task in active:  # 4.
            for store, _ in task.changelogged():
                fut = last_sent.get(id(store))
                if fut is not None:
                    store.commit(fut.result().offset + 1)
            for store in task.stores.values():
                if store.pending():  # no changelog: nothing to wait for
                    store.commit(store.changelog_offset)
        return True

    async def _produce_changelogs(self, active: Sequence[Task]) -> dict[int, RecordFuture]:
        await self._proc().send_outputs()
        last_sent: dict[int, RecordFuture] = {}
        for task in active:  # 1. (the processor begins the transaction before a first record)
            for store, tp in task.changelogged():
                fut = await self._proc().send_changelog(store.pending(), tp)
                if fut is not None:
                    last_sent[id(store)] = fut
        return last_sent

    async def _commit_transaction(self) -> None:
        # A timed-out commit leaves the producer COMMITTING with everything
        # sent: the same call again settles it (the coordinator answers a
        # repeated EndTxn of the same outcome with success). Its outcome is
        # unknown until then, so it can be neither aborted nor forgotten.
        for attempt in range(_ATTEMPTS):
            try:
                await self.producer.commit_transaction()
                return
            except KafkaTimeoutError as e:
                log.warning("commit_transaction timed out (attempt %d): %s", attempt + 1, e)
                if self.producer.transaction_state is not TransactionState.COMMITTING:
                    raise
        raise StreamsError(
            f"the transaction of '{self.transactional_id}' could not be committed within "
            f"{_ATTEMPTS} attempts of max_block_ms; its outcome is settled when the app restarts"
        )

    async def abort(self, error: BaseException) -> None:
        """Abort the open transaction and drop what the interval did.

        The caller rewinds the tasks (restore, seek to the committed offsets).
        """
        log.warning(
            "exactly-once: aborting the transaction (%s: %s); processing resumes from the "
            "last commit",
            type(error).__name__,
            error,
        )
        self._proc().discard()
        state = self.producer.transaction_state
        if state in _ABORTABLE_STATES:
            for attempt in range(_ATTEMPTS):
                try:
                    await self.producer.abort_transaction()
                    break
                except ProducerFencedError as e:
                    raise self._fenced(e) from e
                except KafkaTimeoutError as e:
                    log.warning("abort_transaction timed out (attempt %d): %s", attempt + 1, e)
            else:
                raise StreamsError(
                    f"the transaction of '{self.transactional_id}' could not be aborted; "
                    "the coordinator aborts it after transaction_timeout_ms or when the app "
                    "restarts"
                ) from error
        elif state is TransactionState.COMMITTING:
            raise StreamsError(
                f"the transaction of '{self.transactional_id}' failed while committing and its "
                "outcome is unknown; the app stops (a restart settles it)"
            ) from error
        elif state is TransactionState.FATAL_ERROR:
            if _caused_by_fencing(error):
                raise self._fenced(error) from error
            raise StreamsError(
                f"the producer of '{self.transactional_id}' cannot go on: {error!r}"
            ) from error
        self.aborts += 1

    def _fenced(self, error: BaseException) -> InstanceFencedError:
        return InstanceFencedError(
            f"the producer of transactional id '{self.transactional_id}' was fenced: another "
            "instance with the same id (a restart on the same state directory) took over, or a "
            "transaction outlived transaction_timeout_ms; this instance stops without "
            f"committing ({error})"
        )


def _caused_by_fencing(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ProducerFencedError):
            return True
        error, seen = error.__cause__, seen + 1
    return False
