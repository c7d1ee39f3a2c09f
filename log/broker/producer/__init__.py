"""The idempotent producer on the broker side: producer ids and per-partition state.

- ``ProducerIdManager`` hands out producer ids that are never reused (blocks
  recorded in ``<data dir>/producer-id-block``) and answers InitProducerId,
  including KIP-360 epoch bumps.
- ``ProducerStateManager`` (one per partition) checks epochs and sequence
  numbers before an append, remembers each producer's last five batches so a
  retry gets its original offset, and keeps Kafka's ``<offset>.snapshot``
  files so all this survives restarts.

The Produce path, per partition, under the partition's append lock::

    from tidal.log.records import iter_batches

    headers = list(iter_batches(records))
    verdict = state.check_batches(headers)
    if verdict.error:                 # OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, ...
        respond(error=verdict.error, message=verdict.message)
    elif verdict.duplicate is not None:
        respond(base_offset=verdict.duplicate.first_offset)   # a retry: no append
    else:
        active = log.active_segment.base_offset
        info = log.append(records)
        if log.active_segment.base_offset != active:           # the append rolled a segment
            state.take_snapshot(log.active_segment.base_offset)
        state.on_log_append(headers, info)
        respond(base_offset=info.first_offset)
"""

from tidal.log.broker.producer._entry import (
    INT32_MAX,
    NUM_BATCHES_TO_RETAIN,
    AppendVerdict,
    BatchMetadata,
    ProducerStateEntry,
    decrement_sequence,
    in_sequence,
    increment_sequence,
)
from tidal.log.broker.producer._errors import (
    DUPLICATE_SEQUENCE_NUMBER,
    INVALID_PRODUCER_EPOCH,
    INVALID_PRODUCER_ID_MAPPING,
    INVALID_RECORD,
    INVALID_REQUEST,
    INVALID_TXN_STATE,
    NONE,
    OUT_OF_ORDER_SEQUENCE_NUMBER,
    PRODUCER_FENCED,
    UNKNOWN_PRODUCER_ID,
)
from tidal.log.broker.producer._ids import (
    DEFAULT_BLOCK_SIZE,
    MAX_PRODUCER_EPOCH,
    PRODUCER_ID_BLOCK_FILE,
    CorruptProducerIdBlockError,
    InitProducerIdResult,
    ProducerIdManager,
    ProducerIdsBlock,
)
from tidal.log.broker.producer._snapshot import (
    SNAPSHOT_SUFFIX,
    CorruptSnapshotError,
    decode_snapshot,
    encode_snapshot,
    list_snapshots,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from tidal.log.broker.producer._state import (
    DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    ProducerStateManager,
)

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_PRODUCER_ID_EXPIRATION_MS",
    "DUPLICATE_SEQUENCE_NUMBER",
    "INT32_MAX",
    "INVALID_PRODUCER_EPOCH",
    "INVALID_PRODUCER_ID_MAPPING",
    "INVALID_RECORD",
    "INVALID_REQUEST",
    "INVALID_TXN_STATE",
    "MAX_PRODUCER_EPOCH",
    "NONE",
    "NUM_BATCHES_TO_RETAIN",
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "PRODUCER_FENCED",
    "PRODUCER_ID_BLOCK_FILE",
    "SNAPSHOT_SUFFIX",
    "UNKNOWN_PRODUCER_ID",
    "AppendVerdict",
    "BatchMetadata",
    "CorruptProducerIdBlockError",
    "CorruptSnapshotError",
    "InitProducerIdResult",
    "ProducerIdManager",
    "ProducerIdsBlock",
    "ProducerStateEntry",
    "ProducerStateManager",
    "decode_snapshot",
    "decrement_sequence",
    "encode_snapshot",
    "in_sequence",
    "increment_sequence",
    "list_snapshots",
    "read_snapshot",
    "snapshot_path",
    "write_snapshot",
]
