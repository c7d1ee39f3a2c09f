"""Kafka's transaction coordinator (transaction protocol V1) for a single node.

``TransactionCoordinator`` answers InitProducerId (with a transactional id),
AddPartitionsToTxn, AddOffsetsToTxn and EndTxn, and describes and lists
transactions. Its state lives in the compacted ``__transaction_state`` topic
in Kafka's record format (``_records``), is replayed at start, and a
transaction found in a Prepare state is completed then. Markers go to data
partitions through ``write_markers`` (control batches, producer state, the
aborted-transaction index) and to ``__consumer_offsets`` through the group
coordinator.

Example::

    import functools

    coordinator = TransactionCoordinator(
        LogOffsetsStorage(log_manager, topic=TRANSACTION_STATE_TOPIC),
        TransactionConfig.from_properties(props),
        generate_producer_id=producer_ids.generate_producer_id,
        write_markers=functools.partial(write_markers, broker),
    )
    await coordinator.start()
    result = coordinator.init_producer_id("orders-app-0", 60_000)
"""

from tidal.log.broker.txn._coordinator import (
    InitProducerIdResult,
    TransactionCoordinator,
    fenced_error,
)
from tidal.log.broker.txn._core import MarkerWriter, TxnLogStorage
from tidal.log.broker.txn._markers import (
    COORDINATOR_EPOCH,
    append_marker,
    last_stable_offset,
    write_markers,
)
from tidal.log.broker.txn._metadata import TransactionConfig, TransactionMetadata
from tidal.log.broker.txn._records import (
    TRANSACTION_STATE_TOPIC,
    CorruptTxnRecordError,
    TxnLogValue,
    TxnState,
    decode_txn_key,
    decode_txn_value,
    encode_txn_key,
    encode_txn_value,
    txn_partition_for,
)

__all__ = [
    "COORDINATOR_EPOCH",
    "TRANSACTION_STATE_TOPIC",
    "CorruptTxnRecordError",
    "InitProducerIdResult",
    "MarkerWriter",
    "TransactionConfig",
    "TransactionCoordinator",
    "TransactionMetadata",
    "TxnLogStorage",
    "TxnLogValue",
    "TxnState",
    "append_marker",
    "decode_txn_key",
    "decode_txn_value",
    "encode_txn_key",
    "encode_txn_value",
    "fenced_error",
    "last_stable_offset",
    "txn_partition_for",
    "write_markers",
]
