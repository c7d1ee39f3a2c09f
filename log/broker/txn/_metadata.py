"""What the coordinator knows about one transactional id, and its settings.

``TransactionMetadata`` is Kafka's ``TransactionMetadata`` without the
pending-state machinery: every transition here is written to
``__transaction_state`` and applied in one step on the event loop, so no
request ever sees a half-made transition::

    Empty -> Ongoing -> PrepareCommit -> CompleteCommit -> Ongoing | Empty ...
                     -> PrepareAbort  -> CompleteAbort  -> Ongoing | Empty ...

InitProducerId from any of Empty/Ongoing/Complete* bumps the epoch (an
Ongoing transaction is aborted first); a timed-out Ongoing transaction is
aborted with the epoch bumped, which fences the producer that let it time out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tidal.log.broker.txn._records import TxnLogValue, TxnState

__all__ = ["TopicPartition", "TransactionConfig", "TransactionMetadata"]

TopicPartition = tuple[str, int]

_PROPERTIES = {
    "transaction.state.log.num.partitions": "num_partitions",
    "transaction.state.log.segment.bytes": "segment_bytes",
    "transaction.max.timeout.ms": "max_timeout_ms",
    "transactional.id.expiration.ms": "transactional_id_expiration_ms",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "abort_interval_ms",
    "transaction.remove.expired.transaction.cleanup.interval.ms": "expiration_interval_ms",
}


@dataclass(frozen=True, slots=True)
class TransactionConfig:
    """The coordinator's settings, by their Kafka broker names in ``from_properties``."""

    num_partitions: int = 50
    segment_bytes: int = 104857600
    max_timeout_ms: int = 900000
    transactional_id_expiration_ms: int = 604800000
    abort_interval_ms: int = 10000
    expiration_interval_ms: int = 3600000

    @classmethod
    def from_properties(cls, props: Mapping[str, object]) -> TransactionConfig:
        """Read the ``transaction*`` settings out of broker properties."""
        return cls(**{attr: int(str(props[k])) for k, attr in _PROPERTIES.items() if k in props})


@dataclass(slots=True)
class TransactionMetadata:
    """The state of one transactional id."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState = TxnState.EMPTY
    partitions: set[TopicPartition] = field(default_factory=set)
    start_ms: int = -1
    update_ms: int = -1
    #: the epoch before the last bump, to answer a retried InitProducerId
    last_producer_epoch: int = -1
    #: partitions whose marker could not be written yet (Prepare* states only)
    pending_markers: set[TopicPartition] = field(default_factory=set)

    def copy(self, **changes: object) -> TransactionMetadata:
        """A changed copy (transitions are built on copies and installed once written)."""
        changed = replace(self, **changes)  # type: ignore[arg-type]
        if "partitions" not in changes:
            changed.partitions = set(self.partitions)
        if "pending_markers" not in changes:
            changed.pending_markers = set(self.pending_markers)
        return changed

    def to_value(self) -> TxnLogValue:
        """The ``__transaction_state`` value of this state."""
        by_topic: dict[str, list[int]] = {}
        for topic, partition in self.partitions:
            by_topic.setdefault(topic, []).append(partition)
        return TxnLogValue(
            self.producer_id,
            self.producer_epoch,
            self.timeout_ms,
            self.state,
            by_topic,
            self.update_ms,
            self.start_ms,
        )

    @classmethod
    def from_value(cls, transactional_id: str, value: TxnLogValue) -> TransactionMetadata:
        """The state a loaded ``__transaction_state`` value describes."""
        return cls(
            transactional_id,
            value.producer_id,
            value.producer_epoch,
            value.transaction_timeout_ms,
            value.state,
            {(t, p) for t, ps in value.partitions.items() for p in ps},
            value.start_timestamp_ms,
            value.last_update_timestamp_ms,
        )
