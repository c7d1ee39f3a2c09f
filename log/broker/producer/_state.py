"""``ProducerStateManager``: idempotence checks and producer state of one partition.

Kafka's ``ProducerStateManager`` and ``ProducerAppendInfo``, sans I/O except
for snapshot files. The broker drives it around ``PartitionLog.append``, under
the partition's append path (it is not thread-safe)::

    verdict = state.check_batches(headers)       # before appending
    if verdict.error:      -> answer verdict.error, append nothing
    elif verdict.duplicate -> answer success at verdict.duplicate.first_offset
    else:
        info = log.append(records)
        state.on_log_append(headers, info)       # or on_appended(...) per batch

Sequence rules (``ProducerAppendInfo.checkSequence``, Kafka 2.5+): an epoch
older than the producer's is ``INVALID_PRODUCER_EPOCH``; a newer epoch must
start at sequence 0; within an epoch a batch must start right after the last
sequence (wrapping at 2**31 - 1), else ``OUT_OF_ORDER_SEQUENCE_NUMBER``; a
producer the partition does not know (new, expired, or whose batches were
deleted) may start at any sequence. A batch equal in epoch and sequence range
to one of the last five is a duplicate.

State survives restarts through ``<offset>.snapshot`` files (``_snapshot``)
and a replay of the log after the newest one (``rebuild``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from tidal.log.broker.producer._entry import APPEND, AppendVerdict, ProducerStateEntry, in_sequence
from tidal.log.broker.producer._errors import (
    INVALID_PRODUCER_EPOCH,
    INVALID_RECORD,
    INVALID_TXN_STATE,
    OUT_OF_ORDER_SEQUENCE_NUMBER,
)
from tidal.log.broker.producer._scan import (
    backfill_batches,
    iter_log_batches,
    read_marker,
)
from tidal.log.broker.producer._snapshot import (
    CorruptSnapshotError,
    list_snapshots,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from tidal.log.records import (
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    BatchHeader,
    ControlRecordType,
)
from tidal.log.storage import AbortedTxn, LogAppendInfo, PartitionLog

__all__ = ["DEFAULT_PRODUCER_ID_EXPIRATION_MS", "ProducerStateManager"]

_log = logging.getLogger(__name__)

#: Kafka's ``producer.id.expiration.ms`` default: one day.
DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ProducerStateManager:
    """Producer ids, epochs and recent batches of one partition.

    ``directory`` is the partition directory (snapshots live next to the
    segments). ``clock`` returns milliseconds and drives expiration: a
    producer with no open transaction is forgotten once its last batch's
    timestamp is ``producer_id_expiration_ms`` old.

    >>> state = ProducerStateManager.load(log)           # doctest: +SKIP
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS,
        clock: Callable[[], int] = _wall_clock_ms,
        snapshots_to_keep: int = 2,
    ) -> None:
        self.directory = Path(directory)
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self.clock = clock
        self.snapshots_to_keep = max(snapshots_to_keep, 1)
        self._producers: dict[int, ProducerStateEntry] = {}
        #: first offset of each producer's open transaction (the LSO's candidates),
        #: kept apart so Fetch does not scan every producer
        self._ongoing: dict[int, int] = {}
        #: every batch below this offset is reflected in the state
        self.map_end_offset = 0

    @classmethod
    def load(
        cls,
        log: PartitionLog,
        *,
        producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS,
        clock: Callable[[], int] = _wall_clock_ms,
        snapshots_to_keep: int = 2,
    ) -> ProducerStateManager:
        """A manager for ``log``'s directory, rebuilt from its snapshots and batches."""
        manager = cls(
            log.directory,
            producer_id_expiration_ms=producer_id_expiration_ms,
            clock=clock,
            snapshots_to_keep=snapshots_to_keep,
        )
        manager.rebuild(log)
        return manager

    def __repr__(self) -> str:
        return (
            f"ProducerStateManager({self.directory}, {len(self._producers)} producers, "
            f"map_end_offset={self.map_end_offset})"
        )

    # ---- state -------------------------------------------------------------------

    @property
    def producers(self) -> Mapping[int, ProducerStateEntry]:
        """Active producers by id (a read-only view; do not mutate entries)."""
        return MappingProxyType(self._producers)

    def last_entry(self, producer_id: int) -> ProducerStateEntry | None:
        """The state of ``producer_id``, or None when the partition does not know it."""
        return self._producers.get(producer_id)

    def first_undecided_offset(self) -> int | None:
        """First offset of the oldest open transaction (the last stable offset's bound)."""
        return min(self._ongoing.values()) if self._ongoing else None

    # ---- before the append ---------------------------------------------------------

    def check_and_plan(self, header: BatchHeader) -> AppendVerdict:
        """``check_batches`` for a single batch (Produce v3+ sends one per partition)."""
        return self.check_batches((header,))

    def check_batches(self, headers: Iterable[BatchHeader]) -> AppendVerdict:
        """Judge client batches about to be appended, in order, without changing state.

        A duplicate is looked up in the stored state only (as Kafka does), so
        the verdict names the original offsets; later batches of the same
        producer in ``headers`` are checked against the earlier ones.
        """
        headers = list(headers)
        # Later batches of a producer are checked against its earlier ones in
        # ``headers``, planned on copies; a lone batch needs no copy.
        planned: dict[int, ProducerStateEntry] | None = {} if len(headers) > 1 else None
        for header in headers:
            pid = header.producer_id
            if pid == NO_PRODUCER_ID:
                continue
            current = self._producers.get(pid)
            if current is not None:
                duplicate = current.find_duplicate(
                    header.producer_epoch, header.base_sequence, header.last_sequence
                )
                if duplicate is not None:
                    return AppendVerdict(duplicate=duplicate)
            if header.base_sequence == NO_SEQUENCE:
                return AppendVerdict(
                    INVALID_RECORD, f"batch of producer {pid} has no base sequence"
                )
            if current is None:
                current = ProducerStateEntry(pid)
            updated = current
            if planned is not None:
                if pid not in planned:
                    planned[pid] = current.copy()
                updated = planned[pid]
            verdict = _check_data_batch(current, updated, header)
            if verdict is not APPEND:
                return verdict
            if planned is not None:
                updated.add_batch(header.producer_epoch, header.last_sequence, -1, 0, 0)
                if header.is_transactional and updated.current_txn_first_offset is None:
                    updated.current_txn_first_offset = 0  # known only after the append
        return APPEND

    # ---- after the append ------------------------------------------------------------

    def on_appended(
        self,
        header: BatchHeader,
        first_offset: int,
        last_offset: int,
        timestamp: int,
        *,
        coordinator_epoch: int | None = None,
    ) -> None:
        """Record a batch the log now holds at ``first_offset..last_offset``.

        ``timestamp`` is the batch's max timestamp (the log append time under
        LogAppendTime). For a transaction marker, ``coordinator_epoch`` is the
        one in its record. No checks: this also replays the log.
        """
        pid = header.producer_id
        if pid != NO_PRODUCER_ID:
            entry = self._producers.get(pid)
            if entry is None:
                entry = self._producers[pid] = ProducerStateEntry(pid)
            if header.is_control:
                if header.records_count > 0:  # an empty marker was compacted away
                    entry.maybe_update_epoch(header.producer_epoch)
                    if coordinator_epoch is not None:
                        entry.coordinator_epoch = coordinator_epoch
                    entry.current_txn_first_offset = None
                    entry.last_timestamp = timestamp
            else:
                entry.add_batch(
                    header.producer_epoch,
                    header.last_sequence,
                    last_offset,
                    last_offset - first_offset,
                    timestamp,
                )
                if header.is_transactional and entry.current_txn_first_offset is None:
                    entry.current_txn_first_offset = first_offset
            if entry.current_txn_first_offset is None:
                self._ongoing.pop(pid, None)
            else:
                self._ongoing[pid] = entry.current_txn_first_offset
        self.map_end_offset = last_offset + 1

    def on_log_append(self, headers: Iterable[BatchHeader], info: LogAppendInfo) -> None:
        """``on_appended`` for each batch of one ``PartitionLog.append`` call."""
        offset = info.first_offset
        for header in headers:
            last = offset + header.last_offset_delta
            ts = info.log_append_time if info.log_append_time >= 0 else header.max_timestamp
            self.on_appended(header, offset, last, ts)
            offset = last + 1

    def remove_expired_producers(self, now_ms: int | None = None) -> list[int]:
        """Forget producers idle for ``producer_id_expiration_ms`` with no open
        transaction (Kafka's periodic check); returns their ids."""
        now = self.clock() if now_ms is None else now_ms
        expired = [pid for pid, entry in self._producers.items() if self._is_expired(entry, now)]
        for pid in expired:
            del self._producers[pid]
        return expired

    def _is_expired(self, entry: ProducerStateEntry, now: int) -> bool:
        return (
            entry.current_txn_first_offset is None
            and now - entry.last_timestamp >= self.producer_id_expiration_ms
        )

    # ---- snapshots -------------------------------------------------------------------

    def snapshot_offsets(self) -> list[int]:
        """Offsets of the snapshot files on disk, oldest first."""
        return list(list_snapshots(self.directory))

    def take_snapshot(self, offset: int | None = None) -> Path | None:
        """Write ``<offset>.snapshot`` (default: ``map_end_offset``) and keep
        only the newest ``snapshots_to_keep`` files.

        The state must reflect exactly the batches below ``offset``: call it
        when a segment rolls (before ``on_appended`` of the batch that rolled
        it, with the new segment's base offset) and at shutdown (with the log
        end offset). Returns the file, or None when one already exists there.
        """
        offset = self.map_end_offset if offset is None else offset
        path = snapshot_path(self.directory, offset)
        if path.exists():
            return None
        write_snapshot(path, list(self._producers.values()))
        _log.debug("wrote producer snapshot %s with %d producers", path, len(self._producers))
        snapshots = list_snapshots(self.directory)
        for old in list(snapshots)[: -self.snapshots_to_keep]:
            snapshots[old].unlink(missing_ok=True)
        return path

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Forget everything and every snapshot (the log restarts empty at ``offset``)."""
        self._producers.clear()
        self._ongoing.clear()
        for path in list_snapshots(self.directory).values():
            path.unlink(missing_ok=True)
        self.map_end_offset = offset

    def rebuild(self, log: PartitionLog) -> None:
        """Rebuild the state of ``log`` (at open, and after any truncation).

        Snapshots above the log end offset describe batches that are gone
        and are deleted. The newest readable snapshot at or below it is
        loaded (corrupt ones are deleted), older batches of its producers are
        backfilled from the log, and the batches after it are replayed.
        Without a snapshot the whole log is replayed.
        """
        with log.lock:
            leo = log.log_end_offset
            now = self.clock()
            self._producers.clear()
            self._ongoing.clear()
            loaded_at: int | None = None
            for offset, path in reversed(list_snapshots(self.directory).items()):
                if offset > leo:
                    path.unlink(missing_ok=True)
                    continue
                try:
                    entries = read_snapshot(path)
                except (CorruptSnapshotError, OSError) as e:
                    _log.warning("deleting unreadable producer snapshot %s: %s", path, e)
                    path.unlink(missing_ok=True)
                    continue
                for entry in entries:
                    if not self._is_expired(entry, now):
                        self._producers[entry.producer_id] = entry
                        if entry.current_txn_first_offset is not None:
                            self._ongoing[entry.producer_id] = entry.current_txn_first_offset
                loaded_at = offset
                break
            start = log.log_start_offset
            if loaded_at is not None:
                backfill_batches(log, loaded_at, self._producers)
                start = max(start, loaded_at)
            for segment, position, header in iter_log_batches(log, start):
                coordinator_epoch = aborted_first = None
                if header.is_control and header.producer_id != NO_PRODUCER_ID:
                    marker = read_marker(segment, position, header)
                    known = self._producers.get(header.producer_id)
                    if marker is not None:
                        coordinator_epoch = marker.coordinator_epoch
                        if marker.type == ControlRecordType.ABORT and known is not None:
                            aborted_first = known.current_txn_first_offset
                self.on_appended(
                    header, header.base_offset, header.last_offset, header.max_timestamp,
                    coordinator_epoch=coordinator_epoch,
                )  # fmt: skip
                if aborted_first is not None:
                    # Puts back an index entry a crash lost (known ones are skipped).
                    stable = self.first_undecided_offset()
                    log.txn_index.append(
                        AbortedTxn(
                            header.producer_id, aborted_first, header.base_offset,
                            header.last_offset + 1 if stable is None else stable,
                        ),
                        segment_base=segment.base_offset,
                    )  # fmt: skip
            self.map_end_offset = leo
            self.remove_expired_producers(now)


def _check_data_batch(
    current: ProducerStateEntry, updated: ProducerStateEntry, header: BatchHeader
) -> AppendVerdict:
    """Kafka's ``checkProducerEpoch`` + ``checkSequence`` + the transaction-state
    check of ``appendDataBatch``. ``updated`` is ``current`` plus the batches
    planned before this one in the same append."""
    pid, epoch, first_seq = header.producer_id, header.producer_epoch, header.base_sequence
    if epoch < updated.producer_epoch:
        return AppendVerdict(
            INVALID_PRODUCER_EPOCH,
            f"epoch {epoch} of producer {pid} is older than its current epoch "
            f"{updated.producer_epoch}",
        )
    if epoch != updated.producer_epoch:
        if first_seq != 0 and updated.producer_epoch != NO_PRODUCER_EPOCH:
            return AppendVerdict(
                OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"new epoch {epoch} of producer {pid} starts at sequence {first_seq}, not 0",
            )
    # With no known epoch (new, expired or deleted producer) any sequence is accepted.
    elif current.producer_epoch != NO_PRODUCER_EPOCH and not in_sequence(
        updated.last_seq, first_seq
    ):
        return AppendVerdict(
            OUT_OF_ORDER_SEQUENCE_NUMBER,
            f"producer {pid} sent sequence {first_seq} after {updated.last_seq}",
        )
    if updated.current_txn_first_offset is not None and not header.is_transactional:
        return AppendVerdict(
            INVALID_TXN_STATE, f"producer {pid} sent a non-transactional batch inside a transaction"
        )
    return APPEND
