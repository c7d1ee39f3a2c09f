"""The transaction coordinator's state, persistence, completion and timers.

Every transition is written to ``__transaction_state`` first and installed in
memory only when the append returned, so what the log says is what the
coordinator answered. Completing a transaction is one synchronous step on
the event loop::

    1. write PrepareCommit / PrepareAbort (the decision is now durable)
    2. write a COMMIT / ABORT marker to every partition of the transaction
       (data partitions, and the group's ``__consumer_offsets`` partition,
       whose pending offsets the group coordinator then applies or drops)
    3. write CompleteCommit / CompleteAbort

A crash between 1 and 3 leaves a Prepare state in the log; ``load`` finishes
it (markers are idempotent for a reader: a second marker of the same
producer ends nothing). A marker that cannot be written keeps the
transaction in its Prepare state with the partition pending, and the
periodic task retries; requests for that id get CONCURRENT_TRANSACTIONS
meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from tidal.log.broker.txn._metadata import TopicPartition, TransactionConfig, TransactionMetadata
from tidal.log.broker.txn._records import (
    CorruptTxnRecordError,
    TxnState,
    decode_txn_key,
    decode_txn_value,
    encode_txn_key,
    encode_txn_value,
    txn_partition_for,
)
from tidal.log.records import RecordsError, SimpleRecord, decode_batch, encode_batch, iter_batches
from tidal.log.storage import StorageError

__all__ = ["MarkerWriter", "TransactionCore", "TxnLogStorage"]

_log = logging.getLogger("tidal.log.broker.txn")

NONE = 0
COORDINATOR_NOT_AVAILABLE = 15
MAX_PRODUCER_EPOCH = 32767


class TxnLogStorage(Protocol):
    """Append-and-replay access to ``__transaction_state`` partitions."""

    def append(self, partition: int, batch: bytes) -> None:
        """Append one batch; raises on failure."""

    def read(self, partition: int) -> Iterator[bytes]:
        """The partition's batches from its start."""


#: ``(producer_id, producer_epoch, commit, partitions) -> partitions that failed``
MarkerWriter = Callable[[int, int, bool, Iterable[TopicPartition]], set[TopicPartition]]


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class TransactionCore:
    """State, persistence and the completion path of the coordinator."""

    def __init__(
        self,
        storage: TxnLogStorage,
        config: TransactionConfig | None = None,
        *,
        generate_producer_id: Callable[[], int],
        write_markers: MarkerWriter,
        partition_exists: Callable[[str, int], bool] | None = None,
        clock: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        self.storage = storage
        self.config = config if config is not None else TransactionConfig()
        self.generate_producer_id = generate_producer_id
        self.write_markers = write_markers
        self.partition_exists = partition_exists
        self.clock = clock
        self.transactions: dict[str, TransactionMetadata] = {}
        #: True until ``load`` finished: requests get COORDINATOR_LOAD_IN_PROGRESS
        self.loading = True
        self.closed = False
        self._task: asyncio.Task[None] | None = None

    # ---- persistence -----------------------------------------------------------------

    def partition_for(self, transactional_id: str) -> int:
        """The ``__transaction_state`` partition of ``transactional_id``."""
        return txn_partition_for(transactional_id, self.config.num_partitions)

    def _write(self, transactional_id: str, metadata: TransactionMetadata | None) -> int:
        """Append the record of ``metadata`` (a tombstone for None); an error code."""
        value = None if metadata is None else encode_txn_value(metadata.to_value())
        record = SimpleRecord(value, key=encode_txn_key(transactional_id), timestamp=self.clock())
        try:
            self.storage.append(self.partition_for(transactional_id), encode_batch([record]))
        except (StorageError, RecordsError, OSError):
            _log.exception("writing __transaction_state for %r failed", transactional_id)
            return COORDINATOR_NOT_AVAILABLE
        return NONE

    def transition(self, new: TransactionMetadata) -> int:
        """Write ``new`` and install it when written; an error code."""
        error = self._write(new.transactional_id, new)
        if error == NONE:
            self.transactions[new.transactional_id] = new
        return error

    # ---- completion ------------------------------------------------------------------

    def complete(
        self, metadata: TransactionMetadata, commit: bool, *, epoch: int | None = None
    ) -> int:
        """End ``metadata``'s Ongoing transaction (``epoch``: a bumped epoch for an
        abort that fences the producer). NONE once the decision is written."""
        prepare = TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT
        now = self.clock()
        prepared = metadata.copy(
            state=prepare,
            update_ms=now,
            producer_epoch=metadata.producer_epoch if epoch is None else epoch,
            last_producer_epoch=metadata.last_producer_epoch if epoch is None else -1,
        )
        prepared.pending_markers = set(prepared.partitions)
        error = self.transition(prepared)
        if error == NONE:
            self.finish(prepared)
        return error

    def finish(self, metadata: TransactionMetadata) -> bool:
        """Write the pending markers of a Prepare state, then its Complete state.
        True when the transaction is complete."""
        commit = metadata.state == TxnState.PREPARE_COMMIT
        if metadata.pending_markers:
            failed = self.write_markers(
                metadata.producer_id,
                metadata.producer_epoch,
                commit,
                sorted(metadata.pending_markers),
            )
            metadata.pending_markers = set(failed)
            if failed:
                _log.warning(
                    "transaction %r: markers pending on %s",
                    metadata.transactional_id,
                    sorted(failed),
                )
                return False
        done = metadata.copy(
            state=TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT,
            partitions=set(),
            pending_markers=set(),
            update_ms=self.clock(),
        )
        return self.transition(done) == NONE

    def abort_timed_out(self, now: int | None = None) -> list[str]:
        """Abort every Ongoing transaction older than its timeout, bumping the
        epoch so the producer that let it expire is fenced; their ids."""
        now = self.clock() if now is None else now
        aborted = []
        for metadata in list(self.transactions.values()):
            if metadata.state != TxnState.ONGOING or metadata.start_ms + metadata.timeout_ms > now:
                continue
            epoch = metadata.producer_epoch
            bumped = epoch + 1 if epoch + 1 < MAX_PRODUCER_EPOCH else None
            _log.info(
                "aborting transaction %r of producer %d: older than %d ms",
                metadata.transactional_id, metadata.producer_id, metadata.timeout_ms,
            )  # fmt: skip
            if self.complete(metadata, commit=False, epoch=bumped) == NONE:
                aborted.append(metadata.transactional_id)
        return aborted

    def retry_pending(self) -> None:
        """Finish transactions left in a Prepare state (markers failed, or found at load)."""
        for metadata in list(self.transactions.values()):
            if metadata.state.is_prepare:
                self.finish(metadata)

    def expire_transactional_ids(self, now: int | None = None) -> list[str]:
        """Forget ids idle for ``transactional.id.expiration.ms`` with no open
        transaction (a tombstone in ``__transaction_state``); their ids."""
        now = self.clock() if now is None else now
        horizon = now - self.config.transactional_id_expiration_ms
        expired = []
        idle = (TxnState.EMPTY, TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)
        for tid, metadata in list(self.transactions.items()):
            idle_long = metadata.state in idle and metadata.update_ms <= horizon
            if idle_long and self._write(tid, None) == NONE:
                del self.transactions[tid]
                expired.append(tid)
        return expired

    # ---- lifecycle -------------------------------------------------------------------

    async def load(self) -> None:
        """Replay ``__transaction_state`` (on a worker thread) and finish every
        transaction left in a Prepare state."""
        self.loading = True
        loaded = await asyncio.to_thread(self._replay)
        self.transactions = loaded
        self.loading = False
        prepared = [m for m in loaded.values() if m.state.is_prepare]
        for metadata in prepared:
            metadata.pending_markers = set(metadata.partitions)
            self.finish(metadata)
        _log.info(
            "loaded %d transactional ids from __transaction_state (%d completed at load)",
            len(loaded), len(prepared),
        )  # fmt: skip

    def _replay(self) -> dict[str, TransactionMetadata]:
        found: dict[str, TransactionMetadata] = {}
        for partition in range(self.config.num_partitions):
            try:
                for chunk in self.storage.read(partition):
                    position = 0
                    for header in iter_batches(chunk):
                        if not header.is_control:
                            for record in decode_batch(chunk, position).records:
                                self._apply(found, record.key, record.value)
                        position += header.size
            except RecordsError:
                _log.exception("skipping the rest of __transaction_state-%d", partition)
        return found

    @staticmethod
    def _apply(
        found: dict[str, TransactionMetadata], key: bytes | None, value: bytes | None
    ) -> None:
        if key is None:
            return
        try:
            tid = decode_txn_key(key)
            if value is None:
                found.pop(tid, None)
            else:
                found[tid] = TransactionMetadata.from_value(tid, decode_txn_value(value))
        except CorruptTxnRecordError as exc:
            _log.warning("skipping a __transaction_state record: %s", exc)

    async def start(self) -> None:
        """``load()``, then abort timed-out transactions, retry pending markers
        and expire idle ids periodically."""
        await self.load()
        self._task = asyncio.create_task(self._periodic(), name="txn-coordinator")

    async def _periodic(self) -> None:
        interval = self.config.abort_interval_ms / 1000
        last_expiry = self.clock()
        while not self.closed:
            await asyncio.sleep(interval)
            try:
                self.retry_pending()
                self.abort_timed_out()
                if self.clock() - last_expiry >= self.config.expiration_interval_ms:
                    last_expiry = self.clock()
                    self.expire_transactional_ids()
            except Exception:  # noqa: BLE001 - the next round tries again
                _log.exception("transaction coordinator periodic task failed")

    async def close(self) -> None:
        """Stop the periodic task; requests get NOT_COORDINATOR afterwards."""
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
