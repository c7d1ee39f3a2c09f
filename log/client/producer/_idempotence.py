"""Idempotent producer state: producer id, epoch and sequences per partition.

The broker deduplicates by (producer id, epoch, sequence): a batch retried
with the same stamp is written once. Sequences are handed out when a batch
is first drained. When a sequence can no longer be continued (a batch failed
for good after being sent, the broker lost our state with
UNKNOWN_PRODUCER_ID, or reported OUT_OF_ORDER_SEQUENCE_NUMBER for the oldest
batch in flight) the producer gets a new id and epoch and starts every
partition again at sequence 0 (KIP-360), once nothing is in flight; batches
still queued are re-stamped when drained.

A partition that holds no state of the producer accepts any first sequence
(as Kafka's ``checkSequence`` does), so it cannot refuse a later batch that
overtook earlier ones, or was sent while they failed with a retriable
error. Until a partition has acked a batch of the current epoch it gets one
batch at a time; after that it answers OUT_OF_ORDER_SEQUENCE_NUMBER to a
batch that does not continue its sequence, which the sender retries behind
the earlier ones. Only when that batch is the next one after the last
acknowledged (the partition lost what we sent it) is the sequence broken.
A batch answered so whose sequence is at or before the last acknowledged can
never be written in order (the partition wrote a later one): it fails, which
breaks the sequence too.
"""

from __future__ import annotations

from tidal.log.client._types import TopicPartition
from tidal.log.protocol.errors import raise_for_code
from tidal.log.protocol.messages import InitProducerIdRequest, InitProducerIdResponse
from tidal.log.records import NO_PRODUCER_EPOCH, NO_PRODUCER_ID

__all__ = ["IdempotenceState", "init_producer_id_request", "read_init_producer_id"]

_SEQUENCE_MAX = 2**31 - 1


class IdempotenceState:
    """What an idempotent producer must remember between batches."""

    def __init__(self) -> None:
        self.producer_id = NO_PRODUCER_ID
        self.producer_epoch = NO_PRODUCER_EPOCH
        self._next: dict[TopicPartition, int] = {}
        #: Last sequence acknowledged per partition at the current epoch.
        self._acked: dict[TopicPartition, int] = {}
        #: Batches in flight per partition (the sender keeps this).
        self.in_flight: dict[TopicPartition, int] = {}
        #: Set when the sequence of some partition broke; see the module doc.
        self.needs_reset = False

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id != NO_PRODUCER_ID

    def next_sequence(self, tp: TopicPartition, count: int) -> int:
        """Reserve ``count`` sequences of ``tp``; the first one."""
        first = self._next.get(tp, 0)
        nxt = first + count
        self._next[tp] = nxt if nxt <= _SEQUENCE_MAX else nxt - _SEQUENCE_MAX - 1
        return first

    def set_producer(self, producer_id: int, epoch: int) -> None:
        """Install a new id/epoch and start every partition at sequence 0."""
        self.producer_id = producer_id
        self.producer_epoch = epoch
        self._next.clear()
        self._acked.clear()
        self.needs_reset = False

    def acknowledged(self, tp: TopicPartition, producer_id: int, epoch: int, last: int) -> None:
        """A batch of ``tp`` ending at sequence ``last`` was written (or was a duplicate)."""
        if producer_id != self.producer_id or epoch != self.producer_epoch:
            return
        prev = self._acked.get(tp)
        # sequences wrap: ``last`` is newer when less than half the range ahead
        if prev is None or 0 < (last - prev) % (_SEQUENCE_MAX + 1) <= _SEQUENCE_MAX // 2:
            self._acked[tp] = last

    def has_acked(self, tp: TopicPartition) -> bool:
        """Whether ``tp`` acked a batch of the current epoch: it knows the producer."""
        return tp in self._acked

    def is_behind(self, tp: TopicPartition, sequence: int) -> bool:
        """Whether ``tp`` already acknowledged ``sequence`` or a later one."""
        acked = self._acked.get(tp)
        return acked is not None and (acked - sequence) % (_SEQUENCE_MAX + 1) <= _SEQUENCE_MAX // 2

    def is_next(self, tp: TopicPartition, sequence: int) -> bool:
        """Whether ``sequence`` directly follows the last one ``tp`` acknowledged."""
        return sequence == (self._acked.get(tp, -1) + 1) & _SEQUENCE_MAX

    def total_in_flight(self) -> int:
        return sum(self.in_flight.values())


def init_producer_id_request(state: IdempotenceState, version: int) -> InitProducerIdRequest:
    """InitProducerId for an idempotent (non-transactional) producer; from v3
    it names the current id and epoch so a broker may bump the epoch."""
    if version >= 3 and state.has_producer_id:
        return InitProducerIdRequest(
            transactional_id=None,
            transaction_timeout_ms=-1,
            producer_id=state.producer_id,
            producer_epoch=state.producer_epoch,
        )
    return InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=-1)


def read_init_producer_id(response: InitProducerIdResponse) -> tuple[int, int]:
    """``(producer_id, epoch)``, or the typed error the broker answered."""
    raise_for_code(response.error_code)
    return response.producer_id, response.producer_epoch
