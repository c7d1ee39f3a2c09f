"""Control records: the commit and abort markers of transactions.

A control batch has the transactional and control attribute bits set, the
producer id and epoch of the transaction, base sequence -1, and exactly one
record whose key and value are::

    key   (4 bytes): int16 version (0) | int16 type (0 = ABORT, 1 = COMMIT)
    value (6 bytes): int16 version (0) | int32 coordinator epoch

Consumers never hand control records to applications.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from tidal.log.records._batch import (
    NO_PARTITION_LEADER_EPOCH,
    RecordBatch,
    SimpleRecord,
    encode_batch,
)
from tidal.log.records._errors import CorruptRecordError

__all__ = ["ControlRecordType", "EndTransactionMarker", "encode_control_batch"]

_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")


class ControlRecordType(IntEnum):
    """The type field of a control record key."""

    ABORT = 0
    COMMIT = 1


@dataclass(frozen=True, slots=True)
class EndTransactionMarker:
    """A decoded commit or abort marker."""

    type: ControlRecordType
    coordinator_epoch: int

    @classmethod
    def from_batch(cls, batch: RecordBatch) -> EndTransactionMarker:
        """Read the marker held by a control batch."""
        if not batch.header.is_control or len(batch.records) != 1:
            raise CorruptRecordError("not a control batch with exactly one record")
        record = batch.records[0]
        if record.key is None or len(record.key) < _KEY.size:
            raise CorruptRecordError("control record key too short")
        _, type_id = _KEY.unpack_from(record.key)
        try:
            marker_type = ControlRecordType(type_id)
        except ValueError:
            raise CorruptRecordError(f"unknown control record type {type_id}") from None
        if record.value is None or len(record.value) < _VALUE.size:
            raise CorruptRecordError("control record value too short")
        _, coordinator_epoch = _VALUE.unpack_from(record.value)
        return cls(marker_type, coordinator_epoch)


def encode_control_batch(
    marker: ControlRecordType,
    *,
    producer_id: int,
    producer_epoch: int,
    coordinator_epoch: int,
    timestamp: int,
    base_offset: int = 0,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytes:
    """Encode a commit or abort marker batch for a producer's transaction."""
    record = SimpleRecord(
        key=_KEY.pack(0, int(marker)),
        value=_VALUE.pack(0, coordinator_epoch),
        timestamp=timestamp,
    )
    return encode_batch(
        [record],
        base_offset=base_offset,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        is_transactional=True,
        is_control=True,
        partition_leader_epoch=partition_leader_epoch,
    )
