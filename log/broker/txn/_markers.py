"""Writing a transaction marker to a data partition (Kafka's WriteTxnMarkers, in process).

A marker is a control batch (``tidal.log.records.encode_control_batch``)
appended as the leader, outside the producer's sequence numbers. Around the
append, per partition:

- the producer state learns the marker (the producer's open transaction on
  the partition ends, so the last stable offset may advance);
- an ABORT of a transaction that wrote data here adds an entry to the
  partition's aborted-transaction index (``.txnindex``) with the
  transaction's first offset, the marker's offset and the last stable
  offset after it, for ``read_committed`` Fetch;
- the high watermark moves to the log end offset, as for a produced batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tidal.log.broker.group import OFFSETS_TOPIC
from tidal.log.broker.producer import ProducerStateManager
from tidal.log.records import (
    ControlRecordType,
    RecordsError,
    encode_control_batch,
    iter_batches,
)
from tidal.log.storage import AbortedTxn, PartitionLog, StorageError

if TYPE_CHECKING:
    from tidal.log.broker._broker import Broker

__all__ = ["COORDINATOR_EPOCH", "append_marker", "last_stable_offset", "write_markers"]

_log = logging.getLogger("tidal.log.broker.txn")

#: The coordinator epoch markers carry: a single node's coordinator never moves.
COORDINATOR_EPOCH = 0


def last_stable_offset(log: PartitionLog, state: ProducerStateManager) -> int:
    """The first offset of the oldest open transaction, or the high watermark."""
    first = state.first_undecided_offset()
    high_watermark = log.high_watermark
    return high_watermark if first is None else min(first, high_watermark)


def append_marker(
    log: PartitionLog,
    state: ProducerStateManager,
    *,
    producer_id: int,
    producer_epoch: int,
    commit: bool,
    timestamp: int,
    coordinator_epoch: int = COORDINATOR_EPOCH,
) -> int:
    """Append a COMMIT or ABORT marker for ``producer_id``; the marker's offset.

    Raises the storage errors of ``PartitionLog.append``.
    """
    entry = state.last_entry(producer_id)
    first_offset = None if entry is None else entry.current_txn_first_offset
    batch = encode_control_batch(
        ControlRecordType.COMMIT if commit else ControlRecordType.ABORT,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        coordinator_epoch=coordinator_epoch,
        timestamp=timestamp,
    )
    header = next(iter(iter_batches(batch)))
    active = log.active_segment.base_offset
    info = log.append(batch, from_producer=False)
    if log.active_segment.base_offset != active:  # the append rolled a segment
        state.take_snapshot(log.active_segment.base_offset)
    ts = info.log_append_time if info.log_append_time >= 0 else timestamp
    state.on_appended(
        header, info.first_offset, info.last_offset, ts, coordinator_epoch=coordinator_epoch
    )
    log.high_watermark = log.log_end_offset
    if not commit and first_offset is not None:
        stable = state.first_undecided_offset()
        log.txn_index.append(
            AbortedTxn(
                producer_id,
                first_offset,
                info.first_offset,
                info.last_offset + 1 if stable is None else stable,
            ),
            segment_base=log.active_segment.base_offset,
        )
    return info.first_offset


def write_markers(
    broker: Broker,
    producer_id: int,
    producer_epoch: int,
    commit: bool,
    partitions: Iterable[tuple[str, int]],
) -> set[tuple[str, int]]:
    """Write the markers of one transaction to ``partitions``; those that failed.

    A group's ``__consumer_offsets`` partition goes through the group
    coordinator, which applies or drops the pending offsets. A partition
    deleted since it joined the transaction is skipped, as Kafka does.
    """
    failed: set[tuple[str, int]] = set()
    now = time.time_ns() // 1_000_000
    for topic, partition in partitions:
        try:
            if topic == OFFSETS_TOPIC:
                broker.groups.complete_txn(partition, producer_id, producer_epoch, commit)
                continue
            log = broker.partition_log(topic, partition)
            if log is None:
                _log.info("no marker for deleted partition %s-%d", topic, partition)
                continue
            append_marker(
                log, broker.producer_state(topic, partition),
                producer_id=producer_id, producer_epoch=producer_epoch, commit=commit,
                timestamp=now,
            )  # fmt: skip
            broker.appends.notify(topic, partition)
        except (StorageError, RecordsError, OSError):
            _log.exception("writing a transaction marker to %s-%d failed", topic, partition)
            failed.add((topic, partition))
    return failed
