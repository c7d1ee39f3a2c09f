"""``TransactionCoordinator``: the transaction protocol V1 requests.

InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn as Kafka's
``TransactionCoordinator`` answers them, plus what DescribeTransactions and
ListTransactions show. Error codes follow the request version: clients that
predate PRODUCER_FENCED (InitProducerId < 4, AddPartitionsToTxn,
AddOffsetsToTxn and EndTxn < 2, TxnOffsetCommit < 3) get
INVALID_PRODUCER_EPOCH instead, as ``KafkaApis`` maps it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tidal.log.broker.txn._core import MAX_PRODUCER_EPOCH, NONE, TransactionCore
from tidal.log.broker.txn._metadata import TopicPartition, TransactionMetadata
from tidal.log.broker.txn._records import TxnState

__all__ = ["InitProducerIdResult", "TransactionCoordinator", "fenced_error"]

_log = logging.getLogger("tidal.log.broker.txn")

NOT_COORDINATOR = 16
COORDINATOR_LOAD_IN_PROGRESS = 14
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
CONCURRENT_TRANSACTIONS = 51
OPERATION_NOT_ATTEMPTED = 55
PRODUCER_FENCED = 90
TRANSACTIONAL_ID_NOT_FOUND = 105
TRANSACTION_ABORTABLE = 120

_NO_ID = -1
_COMPLETE = (TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)


def fenced_error(version: int, first_version: int) -> int:
    """PRODUCER_FENCED from ``first_version`` of a request on, INVALID_PRODUCER_EPOCH before."""
    return PRODUCER_FENCED if version >= first_version else INVALID_PRODUCER_EPOCH


@dataclass(frozen=True, slots=True)
class InitProducerIdResult:
    """An InitProducerId answer."""

    error: int
    producer_id: int = _NO_ID
    producer_epoch: int = -1


class TransactionCoordinator(TransactionCore):
    """Kafka's transaction coordinator for a single node.

    >>> coordinator = TransactionCoordinator(
    ...     storage, generate_producer_id=ids.generate_producer_id, write_markers=markers
    ... )                                                                # doctest: +SKIP
    >>> await coordinator.start()                                        # doctest: +SKIP
    >>> coordinator.init_producer_id("app-1", 60_000)                    # doctest: +SKIP
    InitProducerIdResult(error=0, producer_id=1000, producer_epoch=0)
    """

    def _status(self) -> int:
        if self.closed:
            return NOT_COORDINATOR
        if self.loading:
            return COORDINATOR_LOAD_IN_PROGRESS
        return NONE

    # ---- InitProducerId ------------------------------------------------------------------

    def init_producer_id(
        self,
        transactional_id: str,
        timeout_ms: int,
        producer_id: int = _NO_ID,
        producer_epoch: int = -1,
        *,
        version: int = 4,
    ) -> InitProducerIdResult:
        """A producer id and a bumped epoch for ``transactional_id``, fencing
        earlier instances and aborting their open transaction."""
        error = self._status()
        if error != NONE:
            return InitProducerIdResult(error)
        if not transactional_id or (producer_id == _NO_ID) != (producer_epoch == -1):
            return InitProducerIdResult(INVALID_REQUEST)
        if not 0 < timeout_ms <= self.config.max_timeout_ms:
            return InitProducerIdResult(INVALID_TRANSACTION_TIMEOUT)
        now = self.clock()
        current = self.transactions.get(transactional_id)
        if current is None:
            new = TransactionMetadata(
                transactional_id, self.generate_producer_id(), 0, timeout_ms,
                update_ms=now,
            )  # fmt: skip
            error = self.transition(new)
            return InitProducerIdResult(error, new.producer_id, new.producer_epoch)
        if current.state.is_prepare or current.state == TxnState.PREPARE_EPOCH_FENCE:
            return InitProducerIdResult(CONCURRENT_TRANSACTIONS)
        if producer_id != _NO_ID:
            if producer_id == current.producer_id and producer_epoch == current.last_producer_epoch:
                # The answer to a bump was lost: answer it again.
                return InitProducerIdResult(NONE, current.producer_id, current.producer_epoch)
            if (producer_id, producer_epoch) != (current.producer_id, current.producer_epoch):
                return InitProducerIdResult(fenced_error(version, 4))
        if current.state == TxnState.ONGOING:
            _log.info(
                "aborting the open transaction of %r before a new producer takes over",
                transactional_id,
            )
            error = self.complete(current, commit=False, epoch=self._next_epoch(current))
            if error != NONE:
                return InitProducerIdResult(error)
            current = self.transactions[transactional_id]
            if current.state.is_prepare:  # a marker could not be written yet
                return InitProducerIdResult(CONCURRENT_TRANSACTIONS)
        bumped = self._next_epoch(current)
        if bumped is None:
            new = current.copy(producer_id=self.generate_producer_id(), producer_epoch=0)
            new.last_producer_epoch = -1
        else:
            new = current.copy(producer_epoch=bumped, last_producer_epoch=current.producer_epoch)
        new.state, new.partitions, new.timeout_ms = TxnState.EMPTY, set(), timeout_ms
        new.start_ms, new.update_ms = -1, now
        error = self.transition(new)
        return InitProducerIdResult(error, new.producer_id, new.producer_epoch)

    @staticmethod
    def _next_epoch(metadata: TransactionMetadata) -> int | None:
        epoch = metadata.producer_epoch + 1
        return epoch if epoch < MAX_PRODUCER_EPOCH else None

    # ---- the transaction's partitions ------------------------------------------------------

    def check_producer(
        self, transactional_id: str, producer_id: int, producer_epoch: int, fenced: int
    ) -> tuple[int, TransactionMetadata | None]:
        """The metadata of the producer's transactional id, or the error for a
        request from a producer that does not own it (``fenced``: the code for
        a stale epoch in this request's version)."""
        error = self._status()
        if error != NONE:
            return error, None
        current = self.transactions.get(transactional_id)
        if current is None or current.producer_id != producer_id:
            return INVALID_PRODUCER_ID_MAPPING, None
        if current.producer_epoch != producer_epoch:
            return fenced, None
        return NONE, current

    def add_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: Iterable[TopicPartition],
        *,
        version: int = 3,
    ) -> dict[TopicPartition, int]:
        """AddPartitionsToTxn: an error code per partition."""
        wanted = list(dict.fromkeys(partitions))
        error, current = self.check_producer(
            transactional_id, producer_id, producer_epoch, fenced_error(version, 2)
        )
        if current is None:
            return dict.fromkeys(wanted, error)
        if current.state.is_prepare or current.state == TxnState.PREPARE_EPOCH_FENCE:
            return dict.fromkeys(wanted, CONCURRENT_TRANSACTIONS)
        exists = self.partition_exists
        unknown = {tp for tp in wanted if exists is not None and not exists(*tp)}
        if unknown:
            return {
                tp: UNKNOWN_TOPIC_OR_PARTITION if tp in unknown else OPERATION_NOT_ATTEMPTED
                for tp in wanted
            }
        return dict.fromkeys(wanted, self._add(current, wanted))

    def verify_partition(
        self, transactional_id: str, producer_id: int, producer_epoch: int, tp: TopicPartition
    ) -> int:
        """Whether ``tp`` is in the producer's Ongoing transaction: Kafka's
        ``handleVerifyPartitionsInTransaction`` (AddPartitionsToTxn v4
        ``verify_only``), which a partition leader asks before it appends a
        transactional batch, so a batch no transaction will ever end cannot
        hold the last stable offset back (KIP-890 part 1).

        NONE when it is; TRANSACTION_ABORTABLE when it is not (the leader
        answers older Produce versions INVALID_TXN_STATE);
        INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS
        (a Prepare state) or the coordinator's own unavailability otherwise.
        Two dict lookups: this runs on the produce path.
        """
        error = self._status()
        if error != NONE:
            return error
        current = self.transactions.get(transactional_id)
        if current is None or current.producer_id != producer_id:
            return INVALID_PRODUCER_ID_MAPPING
        if current.producer_epoch != producer_epoch:
            return PRODUCER_FENCED
        if current.state.is_prepare or current.state == TxnState.PREPARE_EPOCH_FENCE:
            return CONCURRENT_TRANSACTIONS
        return NONE if tp in current.partitions else TRANSACTION_ABORTABLE

    def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        offsets_partition: TopicPartition,
        *,
        version: int = 3,
    ) -> int:
        """AddOffsetsToTxn: add the group's ``__consumer_offsets`` partition."""
        error, current = self.check_producer(
            transactional_id, producer_id, producer_epoch, fenced_error(version, 2)
        )
        if current is None:
            return error
        if current.state.is_prepare or current.state == TxnState.PREPARE_EPOCH_FENCE:
            return CONCURRENT_TRANSACTIONS
        return self._add(current, [offsets_partition])

    def _add(self, current: TransactionMetadata, partitions: list[TopicPartition]) -> int:
        if current.state == TxnState.ONGOING and current.partitions.issuperset(partitions):
            return NONE
        now = self.clock()
        new = current.copy(state=TxnState.ONGOING, update_ms=now)
        if current.state != TxnState.ONGOING:
            new.partitions, new.start_ms = set(), now
        new.partitions.update(partitions)
        return self.transition(new)

    # ---- EndTxn ------------------------------------------------------------------------------

    def end_txn(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        commit: bool,
        *,
        version: int = 3,
    ) -> int:
        """EndTxn: commit or abort the Ongoing transaction; a retry of a
        completed one with the same outcome answers NONE."""
        error, current = self.check_producer(
            transactional_id, producer_id, producer_epoch, fenced_error(version, 2)
        )
        if current is None:
            return error
        state = current.state
        if state == TxnState.ONGOING:
            return self.complete(current, commit)
        if state == (TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT):
            return NONE
        if state == (TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT):
            return CONCURRENT_TRANSACTIONS
        if state == TxnState.PREPARE_EPOCH_FENCE:
            return CONCURRENT_TRANSACTIONS
        return INVALID_TXN_STATE

    # ---- DescribeTransactions / ListTransactions ------------------------------------------------

    def describe(self, transactional_id: str) -> tuple[int, TransactionMetadata | None]:
        """The state of one transactional id (TRANSACTIONAL_ID_NOT_FOUND when unknown)."""
        error = self._status()
        if error != NONE:
            return error, None
        current = self.transactions.get(transactional_id)
        if current is None:
            return TRANSACTIONAL_ID_NOT_FOUND, None
        return NONE, current

    def list_transactions(
        self,
        states: Iterable[str] = (),
        producer_ids: Iterable[int] = (),
        *,
        min_duration_ms: int = -1,
        pattern: str | None = None,
    ) -> tuple[int, list[TransactionMetadata], list[str]]:
        """ListTransactions: (error, matching transactions, unknown state names).

        ``states`` are Kafka's names (``Ongoing``, ``CompleteCommit``, ...);
        ``min_duration_ms`` keeps transactions running at least that long
        (v1); ``pattern`` is a regular expression the id must match (v2).
        """
        error = self._status()
        if error != NONE:
            return error, [], []
        names = {s.kafka_name: s for s in TxnState}
        wanted_states = list(states)
        unknown = [s for s in wanted_states if s not in names]
        state_set = {names[s] for s in wanted_states if s in names}
        pid_set = set(producer_ids)
        try:
            regex = re.compile(pattern) if pattern else None
        except re.error:
            return INVALID_REQUEST, [], []
        now = self.clock()
        found = [
            m
            for m in self.transactions.values()
            if (not wanted_states or m.state in state_set)
            and (not pid_set or m.producer_id in pid_set)
            and (
                min_duration_ms < 0
                or (
                    m.start_ms >= 0
                    and now - m.start_ms >= min_duration_ms
                    and m.state == TxnState.ONGOING
                )
            )
            and (regex is None or regex.fullmatch(m.transactional_id) is not None)
        ]
        return NONE, sorted(found, key=lambda m: m.transactional_id), unknown
