"""``__transaction_state`` records in Kafka's format (``TransactionLog``).

One record per transactional id, compacted, in partition
``abs(javaHash(transactional_id)) % transaction.state.log.num.partitions``::

    key   int16 version (0) | string transactional_id
    value int16 version (0 or 1)
          int64 producer_id | int16 producer_epoch | int32 transaction_timeout_ms
          int8  transaction_status
          [topic string | [int32 partition]]  transaction_partitions (null when Empty)
          int64 last_update_timestamp_ms | int64 start_timestamp_ms
          (v1: compact strings and arrays, tagged fields: 0 previous producer id,
           1 next producer id, 2 client transaction version; and a trailing
           tagged-field section per struct)

Strings are int16-length (v0) or compact (v1); a null value is a tombstone (the
transactional id expired). Tidal writes version 0, as Kafka does before
transaction protocol V2, and reads both.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from tidal.log.broker.group._records import partition_for
from tidal.log.broker.group._wire import CorruptGroupRecordError, Reader, Writer

__all__ = [
    "TRANSACTION_STATE_TOPIC",
    "CorruptTxnRecordError",
    "TxnLogValue",
    "TxnState",
    "decode_txn_key",
    "decode_txn_value",
    "encode_txn_key",
    "encode_txn_value",
    "txn_partition_for",
]

#: Kafka's internal topic of transaction metadata.
TRANSACTION_STATE_TOPIC = "__transaction_state"

CorruptTxnRecordError = CorruptGroupRecordError

_HEAD = struct.Struct(">qhib")
_TIMES = struct.Struct(">qq")


class TxnState(IntEnum):
    """Kafka's ``TransactionState`` ids, as stored in ``transaction_status``."""

    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def kafka_name(self) -> str:
        """The name DescribeTransactions and ListTransactions use (``CompleteCommit``)."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def is_prepare(self) -> bool:
        """True while markers are being written."""
        return self in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)


@dataclass(slots=True)
class TxnLogValue:
    """One ``__transaction_state`` value."""

    producer_id: int
    producer_epoch: int
    transaction_timeout_ms: int
    state: TxnState
    partitions: dict[str, list[int]] = field(default_factory=dict)
    last_update_timestamp_ms: int = -1
    start_timestamp_ms: int = -1


# Every transition of a transaction (three a commit) writes to this partition, and the
# Java string hash behind it is a Python loop over the id: remember the answer.
@functools.lru_cache(maxsize=4096)
def txn_partition_for(transactional_id: str, num_partitions: int) -> int:
    """The ``__transaction_state`` partition of ``transactional_id``."""
    return partition_for(transactional_id, num_partitions)


def encode_txn_key(transactional_id: str) -> bytes:
    """The record key: version 0 and the transactional id."""
    writer = Writer()
    writer.int16(0)
    writer.string(transactional_id)
    return writer.done()


def decode_txn_key(data: bytes) -> str:
    """The transactional id of a key (versions 0 and 1 are laid out alike)."""
    reader = Reader(data)
    version = reader.int16()
    if version not in (0, 1):
        reader.fail(f"unknown transaction log key version {version}")
    return reader.string()


def encode_txn_value(value: TxnLogValue) -> bytes:
    """The record value, version 0."""
    writer = Writer()
    writer.int16(0)
    writer.out += _HEAD.pack(
        value.producer_id, value.producer_epoch, value.transaction_timeout_ms, int(value.state)
    )
    if value.state == TxnState.EMPTY:
        writer.int32(-1)
    else:
        writer.int32(len(value.partitions))
        for topic, partitions in sorted(value.partitions.items()):
            writer.string(topic)
            writer.int32(len(partitions))
            for partition in sorted(partitions):
                writer.int32(partition)
    writer.out += _TIMES.pack(value.last_update_timestamp_ms, value.start_timestamp_ms)
    return writer.done()


def decode_txn_value(data: bytes) -> TxnLogValue:
    """A value of version 0 or 1; ``CorruptTxnRecordError`` when it does not parse."""
    version = Reader(data).int16()
    if version not in (0, 1):
        raise CorruptTxnRecordError(f"unknown transaction log value version {version}")
    reader = Reader(data[2:], flexible=version >= 1)
    producer_id = reader.int64()
    epoch = reader.int16()
    timeout = reader.int32()
    if reader.pos >= len(reader.data):
        reader.fail("no transaction status")
    status = reader.data[reader.pos]
    reader.pos += 1
    try:
        state = TxnState(status)
    except ValueError:
        reader.fail(f"unknown transaction status {status}")
    count = reader.array_length()
    partitions: dict[str, list[int]] = {}
    for _ in range(max(count, 0)):
        topic = reader.string()
        ids = [reader.int32() for _ in range(max(reader.array_length(), 0))]
        if version >= 1:
            reader.tagged_fields()
        partitions.setdefault(topic, []).extend(ids)
    updated = reader.int64()
    started = reader.int64()
    if version >= 1:
        reader.tagged_fields()
    return TxnLogValue(producer_id, epoch, timeout, state, partitions, updated, started)
