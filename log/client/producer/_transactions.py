"""The transaction manager: Kafka's transactional producer (transaction protocol V1).

The flow, as in Java's ``TransactionManager``:

1. ``init_transactions``: FindCoordinator(key type 1) and InitProducerId with
   the ``transactional_id``: a producer id and a new epoch, which fences
   every older instance and aborts a transaction one of them left open
   (CONCURRENT_TRANSACTIONS is retried until the coordinator finished that);
2. ``begin_transaction`` (local only);
3. ``send``: before a partition's first batch goes out in a transaction,
   AddPartitionsToTxn. The sender asks :meth:`TransactionManager.may_send`
   before draining a partition; new partitions are collected during one
   sender pass and added in one request, and the sender is woken when they
   are in;
4. ``send_offsets_to_transaction``: AddOffsetsToTxn to the transaction
   coordinator, then TxnOffsetCommit to the group coordinator;
5. ``commit_transaction`` / ``abort_transaction``: flush (an abort first
   fails the batches not sent yet), then EndTxn, skipped when nothing was
   added (the coordinator refuses EndTxn for an empty transaction).

States: UNINITIALIZED → INITIALIZING → READY ⇄ IN_TRANSACTION → COMMITTING /
ABORTING → READY; IN_TRANSACTION or COMMITTING → ABORTABLE_ERROR →
(abort) → READY; anything → FATAL_ERROR. Errors are sorted by
``_txn_errors``; requests go out through ``_txn_client``. After an abortable
error the abort also bumps the epoch (InitProducerId with the current id and
epoch, KIP-360), since a batch that failed may have left a gap in the
partition's sequence numbers.

A call that runs out of ``max_block_ms`` raises ``KafkaTimeoutError`` and
leaves the state as it was, so the same call may be made again (the
coordinator answers a repeated EndTxn of the same outcome with success).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import time
from collections.abc import Callable, Mapping

from tidal.log.client._errors import KafkaTimeoutError
from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.producer._accumulator import RecordAccumulator
from tidal.log.client.producer._config import ProducerConfig
from tidal.log.client.producer._idempotence import IdempotenceState
from tidal.log.client.producer._txn_client import TransactionClient
from tidal.log.client.producer._txn_errors import (
    RETRY_CODES,
    ErrorKind,
    TransactionAbortedError,
    TransactionStateError,
    abortable,
    classify,
    fenced,
)
from tidal.log.protocol.errors import (
    InvalidTxnStateError,
    KafkaError,
    OperationNotAttemptedError,
    OutOfOrderSequenceNumberError,
    error_for_code,
)

__all__ = ["TransactionManager", "TransactionState"]


class TransactionState(enum.Enum):
    """Where a transactional producer is (module docstring)."""

    UNINITIALIZED = "UNINITIALIZED"
    INITIALIZING = "INITIALIZING"
    READY = "READY"
    IN_TRANSACTION = "IN_TRANSACTION"
    COMMITTING = "COMMITTING"
    ABORTING = "ABORTING"
    ABORTABLE_ERROR = "ABORTABLE_ERROR"
    FATAL_ERROR = "FATAL_ERROR"


_S = TransactionState
#: A partition missing from an AddPartitionsToTxn answer is asked for again.
_NO_ANSWER = OperationNotAttemptedError.code
#: States in which partitions are added and batches sent.
_ACTIVE = frozenset({_S.IN_TRANSACTION, _S.COMMITTING})


class TransactionManager:
    """The transactional state of one producer (see the module docstring)."""

    def __init__(
        self,
        kernel: Kernel,
        config: ProducerConfig,
        accumulator: RecordAccumulator,
        idempotence: IdempotenceState,
        wakeup: Callable[[], None],
    ) -> None:
        assert config.transactional_id is not None
        self.transactional_id: str = config.transactional_id
        self.state = TransactionState.UNINITIALIZED
        #: The error behind ABORTABLE_ERROR or FATAL_ERROR.
        self.error: BaseException | None = None
        self._kernel = kernel
        self._config = config
        self._acc = accumulator
        self._idem = idempotence
        self._wakeup = wakeup
        self._lock = asyncio.Lock()
        self._client = TransactionClient(kernel, config, idempotence)
        self._added: set[TopicPartition] = set()
        self._pending: set[TopicPartition] = set()
        self._adding: set[TopicPartition] = set()
        self._add_task: asyncio.Task[None] | None = None
        #: Whether the coordinator may know of this transaction (EndTxn needed).
        self._started = False
        #: Whether the abort must bump the epoch (sequences may have a gap).
        self._bump = False

    # -- hooks of the sender and the producer -------------------------------------------

    def may_send(self, tp: TopicPartition) -> bool:
        """Whether the sender may drain ``tp`` now; schedules AddPartitionsToTxn
        for a new partition and fails queued batches once nothing may be sent."""
        state = self.state
        if state in _ACTIVE:
            if self._idem.needs_reset:
                self._set_error(
                    OutOfOrderSequenceNumberError("a batch failed and left a gap in its sequence")
                )
                return False
            if tp in self._added:
                return True
            if tp not in self._adding and tp not in self._pending:
                self._pending.add(tp)
                if self._add_task is None:
                    loop = asyncio.get_running_loop()
                    self._add_task = loop.create_task(self._add_partitions())
            return False
        if state is _S.FATAL_ERROR:
            self._fail_queued(self._error_to_raise())
        else:  # aborting or after an abortable error: nothing more goes out
            self._fail_queued(TransactionAbortedError("the transaction is being aborted"))
        return False

    def on_batch_failed(self, error: BaseException) -> BaseException:
        """A batch of the transaction failed for good with ``error``; the
        error its records fail with (a stale epoch becomes ProducerFencedError)."""
        if self.state in _ACTIVE or classify(error) is ErrorKind.FATAL:
            self._set_error(error)
        return fenced(error)

    def check_send(self) -> None:
        """Raise unless records may be sent now (in a transaction, no error)."""
        state = self.state
        if state is _S.IN_TRANSACTION:
            return
        self._raise_if_error()
        if state in (_S.UNINITIALIZED, _S.INITIALIZING):
            raise TransactionStateError("call init_transactions() before sending")
        raise TransactionStateError(
            f"send outside a transaction (state {state.value}): call begin_transaction() first"
        )

    # -- the transactional calls -------------------------------------------------------

    async def init_transactions(self) -> None:
        """Get the producer id and epoch of ``transactional_id`` (fencing
        older instances); READY afterwards."""
        async with self._lock:
            self._raise_if_fatal()
            if self.state not in (_S.UNINITIALIZED, _S.INITIALIZING):
                raise TransactionStateError("init_transactions() was already called")
            self.state = _S.INITIALIZING
            deadline = self._deadline()
            try:
                pid, epoch = await self._client.init_producer_id(deadline, bump=False)
            except KafkaTimeoutError:
                raise
            except KafkaError as e:
                self._set_fatal(e)
                raise self._error_to_raise() from e
            self._idem.set_producer(pid, epoch)
            self.state = _S.READY

    def begin_transaction(self) -> None:
        """Start a transaction (no request: partitions join as records go to them)."""
        self._raise_if_error()
        if self.state is not _S.READY:
            raise TransactionStateError(
                f"begin_transaction() in state {self.state.value}: "
                + (
                    "call init_transactions() first"
                    if self.state in (_S.UNINITIALIZED, _S.INITIALIZING)
                    else "commit or abort the current transaction first"
                )
            )
        self.state = _S.IN_TRANSACTION

    async def send_offsets_to_transaction(
        self,
        offsets: Mapping[TopicPartition, OffsetAndMetadata | int],
        group_metadata: ConsumerGroupMetadata | str,
    ) -> None:
        """Commit consumed ``offsets`` for the group with this transaction."""
        group = (
            group_metadata
            if isinstance(group_metadata, ConsumerGroupMetadata)
            else ConsumerGroupMetadata(group_metadata)
        )
        chosen = {
            tp: om if isinstance(om, OffsetAndMetadata) else OffsetAndMetadata(om)
            for tp, om in offsets.items()
        }
        async with self._lock:
            self._raise_if_error()
            if self.state is not _S.IN_TRANSACTION:
                raise TransactionStateError(
                    f"send_offsets_to_transaction() in state {self.state.value}: "
                    "call begin_transaction() first"
                )
            if not chosen:
                return
            deadline = self._deadline()
            self._started = True
            try:
                await self._client.send_offsets(chosen, group, deadline)
            except KafkaTimeoutError:
                raise
            except KafkaError as e:
                self._set_error(e)
                self._raise_if_error()
                raise

    async def commit_transaction(self) -> None:
        """Flush the transaction's records, then commit it (EndTxn)."""
        async with self._lock:
            self._raise_if_error()
            if self.state not in _ACTIVE:
                raise TransactionStateError(
                    f"commit_transaction() in state {self.state.value}: no transaction to commit"
                )
            self.state = _S.COMMITTING
            deadline = self._deadline()
            await self._flush(deadline)
            self._raise_if_error()
            if self._started:
                await self._end(deadline, committed=True)
            self._complete()

    async def abort_transaction(self) -> None:
        """Fail the records not sent yet, wait for those in flight, abort (EndTxn)."""
        async with self._lock:
            self._raise_if_fatal()
            if self.state not in (_S.IN_TRANSACTION, _S.ABORTABLE_ERROR, _S.ABORTING):
                raise TransactionStateError(
                    f"abort_transaction() in state {self.state.value}: no transaction to abort"
                )
            if self.state is _S.ABORTABLE_ERROR:
                self._bump = True
            self.state = _S.ABORTING
            self._pending.clear()
            self._fail_queued(TransactionAbortedError("the transaction was aborted"))
            deadline = self._deadline()
            await self._flush(deadline)
            self._raise_if_fatal()
            if self._started:
                await self._end(deadline, committed=False)
            if self._bump or self._idem.needs_reset:
                try:
                    pid, epoch = await self._client.init_producer_id(deadline, bump=True)
                except KafkaTimeoutError:
                    raise
                except KafkaError as e:
                    self._set_fatal(e)
                    raise self._error_to_raise() from e
                self._idem.set_producer(pid, epoch)
                self._bump = False
            self._complete()

    async def close(self, timeout: float) -> None:
        """Abort an open transaction (best effort, within ``timeout`` seconds)."""
        if self.state in (_S.IN_TRANSACTION, _S.ABORTABLE_ERROR, _S.ABORTING):
            # else the coordinator aborts it after transaction_timeout_ms
            with contextlib.suppress(KafkaError, TimeoutError):
                await asyncio.wait_for(self.abort_transaction(), timeout)
        task = self._add_task
        if task is not None:
            task.cancel()

    # -- steps ---------------------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self._config.max_block_ms / 1000

    async def _end(self, deadline: float, *, committed: bool) -> None:
        """EndTxn; a fatal error sets FATAL_ERROR, an abortable one (commit
        only) ABORTABLE_ERROR, and is raised."""
        try:
            await self._client.end_txn(deadline, committed=committed)
        except KafkaTimeoutError:
            raise
        except InvalidTxnStateError:
            if committed or self._added:
                self._set_fatal(InvalidTxnStateError("EndTxn: the transaction is in a bad state"))
                raise self._error_to_raise() from None
            # only unconfirmed AddPartitionsToTxn went out: nothing was in the transaction
        except KafkaError as e:
            error = fenced(e)
            if classify(error) is ErrorKind.FATAL:
                self._set_fatal(error)
                raise self._error_to_raise() from e
            if not committed:
                raise  # still ABORTING: abort_transaction() may be called again
            self._set_error(error)
            self._raise_if_error()
            raise

    async def _flush(self, deadline: float) -> None:
        """Wait for every batch (and partitions being added) within the deadline."""
        self._wakeup()
        remaining = deadline - time.monotonic()
        try:
            await asyncio.wait_for(self._acc.flush(), max(remaining, 0))
            task = self._add_task
            if task is not None:
                await asyncio.wait_for(asyncio.shield(task), max(deadline - time.monotonic(), 0))
        except TimeoutError:
            raise KafkaTimeoutError(
                f"the transaction's records were not all sent within max_block_ms "
                f"({self._config.max_block_ms} ms)"
            ) from None

    async def _add_partitions(self) -> None:
        """Add pending partitions, one request at a time, until none are left."""
        tid = self.transactional_id
        deadline = time.monotonic() + self._config.delivery_timeout_ms / 1000
        attempt = 0
        try:
            while self._pending and self.state in _ACTIVE:
                self._adding, self._pending = self._pending, set()
                self._started = True
                codes = await self._client.add_partitions(list(self._adding), deadline)
                retry = False
                for tp in self._adding:
                    code = codes.get(tp, _NO_ANSWER)
                    if code == 0:
                        self._added.add(tp)
                    elif code in RETRY_CODES:
                        self._pending.add(tp)
                        retry = True
                    else:
                        raise error_for_code(code)(
                            f"AddPartitionsToTxn {tp.topic}-{tp.partition} for '{tid}'"
                        )
                self._adding = set()
                self._wakeup()
                if retry:
                    await asyncio.sleep(self._kernel.backoff_ms(attempt) / 1000)
                    attempt += 1
        except KafkaError as e:
            self._set_error(e)
        finally:
            self._adding = set()
            self._add_task = None
            self._wakeup()

    # -- state ---------------------------------------------------------------------------

    def _set_error(self, error: BaseException) -> None:
        if classify(error) is ErrorKind.FATAL:
            self._set_fatal(error)
        elif self.state in _ACTIVE:
            self.state = _S.ABORTABLE_ERROR
            self.error = error
            self._bump = True
            self._fail_queued(TransactionAbortedError(f"the transaction failed: {error}"))

    def _set_fatal(self, error: BaseException) -> None:
        if self.state is _S.FATAL_ERROR:
            return
        self.state = _S.FATAL_ERROR
        self.error = fenced(error)
        self._fail_queued(self._error_to_raise())

    def _fail_queued(self, error: BaseException) -> None:
        """Fail every batch not sent yet."""
        for dq in self._acc.batches.values():
            while dq:
                batch = dq.popleft()
                if batch.has_sequence:
                    self._bump = True  # it may be a retry the broker never saw
                batch.fail(error)

    def _complete(self) -> None:
        self._added.clear()
        self._pending.clear()
        self._started = False
        self.error = None
        self.state = _S.READY

    def _error_to_raise(self) -> BaseException:
        """A fresh copy of the stored error (raising one object again and
        again would chain tracebacks)."""
        error = self.error
        assert error is not None
        try:
            fresh = copy.copy(error)
        except Exception:  # noqa: BLE001 - an exception that cannot be copied is raised as is
            return error
        fresh.__traceback__ = None
        fresh.__cause__ = error.__cause__
        return fresh

    def _raise_if_fatal(self) -> None:
        if self.state is _S.FATAL_ERROR:
            raise self._error_to_raise()

    def _raise_if_error(self) -> None:
        self._raise_if_fatal()
        if self.state is _S.ABORTABLE_ERROR:
            assert self.error is not None
            raise abortable(self.error)
