"""What a partition remembers about one producer (Kafka's ``ProducerStateEntry``).

Per producer id: its epoch, the metadata of its last five data batches (for
duplicate detection: clients keep at most five requests in flight per
partition), the epoch of the last coordinator that wrote a transaction marker
for it, the timestamp of its last write (for expiration) and the first offset
of its open transaction, if any::

    ProducerStateEntry(producer_id=7, producer_epoch=0, batches=[
        BatchMetadata(first_seq=0,  last_seq=4,  first_offset=100, last_offset=104),
        BatchMetadata(first_seq=5,  last_seq=9,  first_offset=131, last_offset=135),
        ...                                                   # at most 5, oldest first
    ])

Sequence numbers are int32 and wrap from 2**31 - 1 to 0, as in Kafka's
``DefaultRecordBatch.incrementSequence``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tidal.log.broker.producer._errors import NONE
from tidal.log.records import NO_PRODUCER_EPOCH, NO_SEQUENCE, NO_TIMESTAMP

__all__ = [
    "INT32_MAX",
    "NUM_BATCHES_TO_RETAIN",
    "AppendVerdict",
    "BatchMetadata",
    "ProducerStateEntry",
    "decrement_sequence",
    "in_sequence",
    "increment_sequence",
]

INT32_MAX = 2**31 - 1
#: Kafka's ``ProducerStateEntry.NUM_BATCHES_TO_RETAIN``.
NUM_BATCHES_TO_RETAIN = 5


def increment_sequence(sequence: int, increment: int) -> int:
    """``sequence + increment``, wrapping past ``INT32_MAX`` to 0."""
    if sequence > INT32_MAX - increment:
        return increment - (INT32_MAX - sequence) - 1
    return sequence + increment


def decrement_sequence(sequence: int, decrement: int) -> int:
    """``sequence - decrement``, wrapping below 0 to ``INT32_MAX``."""
    if sequence < decrement:
        return INT32_MAX - (decrement - sequence) + 1
    return sequence - decrement


def in_sequence(last_seq: int, next_seq: int) -> bool:
    """True when ``next_seq`` directly follows ``last_seq`` (Kafka's ``inSequence``)."""
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    """One appended batch: its last sequence and offset, and how many records
    it spans (``offset_delta`` = last offset - first offset)."""

    last_seq: int
    last_offset: int
    offset_delta: int
    #: the batch's max timestamp (the log append time under LogAppendTime)
    timestamp: int

    @property
    def first_seq(self) -> int:
        """Sequence of the batch's first record."""
        return decrement_sequence(self.last_seq, self.offset_delta)

    @property
    def first_offset(self) -> int:
        """Offset the batch's first record was appended at."""
        return self.last_offset - self.offset_delta


class ProducerStateEntry:
    """The state of one producer id on one partition."""

    __slots__ = (
        "batches",
        "coordinator_epoch",
        "current_txn_first_offset",
        "last_timestamp",
        "producer_epoch",
        "producer_id",
    )

    def __init__(
        self,
        producer_id: int,
        producer_epoch: int = NO_PRODUCER_EPOCH,
        *,
        coordinator_epoch: int = -1,
        last_timestamp: int = NO_TIMESTAMP,
        current_txn_first_offset: int | None = None,
        batches: tuple[BatchMetadata, ...] = (),
    ) -> None:
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.coordinator_epoch = coordinator_epoch
        self.last_timestamp = last_timestamp
        self.current_txn_first_offset = current_txn_first_offset
        self.batches: deque[BatchMetadata] = deque(batches, maxlen=NUM_BATCHES_TO_RETAIN)

    def __repr__(self) -> str:
        return (
            f"ProducerStateEntry(producer_id={self.producer_id}, "
            f"producer_epoch={self.producer_epoch}, "
            f"coordinator_epoch={self.coordinator_epoch}, "
            f"last_timestamp={self.last_timestamp}, "
            f"current_txn_first_offset={self.current_txn_first_offset}, "
            f"batches={list(self.batches)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProducerStateEntry):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def copy(self) -> ProducerStateEntry:
        """An independent copy (the check path plans on copies)."""
        return ProducerStateEntry(
            self.producer_id,
            self.producer_epoch,
            coordinator_epoch=self.coordinator_epoch,
            last_timestamp=self.last_timestamp,
            current_txn_first_offset=self.current_txn_first_offset,
            batches=tuple(self.batches),
        )

    @property
    def is_empty(self) -> bool:
        """True when no data batch of the current epoch is remembered."""
        return not self.batches

    @property
    def first_seq(self) -> int:
        """First sequence of the oldest remembered batch, or -1."""
        return self.batches[0].first_seq if self.batches else NO_SEQUENCE

    @property
    def last_seq(self) -> int:
        """Last sequence of the newest remembered batch, or -1."""
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    @property
    def last_data_offset(self) -> int:
        """Last offset of the newest remembered batch, or -1."""
        return self.batches[-1].last_offset if self.batches else -1

    @property
    def last_offset_delta(self) -> int:
        """Offset delta of the newest remembered batch, or 0."""
        return self.batches[-1].offset_delta if self.batches else 0

    def maybe_update_epoch(self, producer_epoch: int) -> bool:
        """Move to ``producer_epoch``, forgetting the batches of the old one."""
        if producer_epoch == self.producer_epoch:
            return False
        self.batches.clear()
        self.producer_epoch = producer_epoch
        return True

    def add_batch(
        self,
        producer_epoch: int,
        last_seq: int,
        last_offset: int,
        offset_delta: int,
        timestamp: int,
    ) -> None:
        """Remember an appended data batch (the oldest of five is dropped)."""
        self.maybe_update_epoch(producer_epoch)
        self.batches.append(BatchMetadata(last_seq, last_offset, offset_delta, timestamp))
        self.last_timestamp = timestamp

    def find_duplicate(
        self, producer_epoch: int, first_seq: int, last_seq: int
    ) -> BatchMetadata | None:
        """The remembered batch with exactly this epoch and sequence range."""
        if producer_epoch != self.producer_epoch:
            return None
        for batch in self.batches:
            if batch.first_seq == first_seq and batch.last_seq == last_seq:
                return batch
        return None


@dataclass(frozen=True, slots=True)
class AppendVerdict:
    """What the producer state says about batches about to be appended.

    - ``error != NONE``: answer the partition with ``error`` (and ``message``),
      append nothing;
    - ``duplicate`` set: a retry of a batch already in the log; answer success
      with ``duplicate.first_offset`` as the base offset, append nothing;
    - otherwise (``should_append``): append, then report with ``on_appended``.
    """

    error: int = NONE
    message: str = ""
    duplicate: BatchMetadata | None = None

    @property
    def should_append(self) -> bool:
        """True when the batches are new and valid."""
        return self.error == NONE and self.duplicate is None

    @property
    def is_duplicate(self) -> bool:
        """True for a retry of a batch already appended."""
        return self.duplicate is not None


#: The verdict for batches that pass.
APPEND = AppendVerdict()
