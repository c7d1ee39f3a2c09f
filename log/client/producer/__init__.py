"""The producer: accumulator + sender (+ idempotence), behind one facade.

Example::

    from tidal.log.client.producer import Producer

    async with Producer(bootstrap_servers="localhost:9092", linger_ms=10) as producer:
        futures = [await producer.send("events", f"v{i}".encode()) for i in range(100)]
        await producer.flush()
        first = await futures[0]  # RecordMetadata(topic, partition, offset, timestamp)

Parts: ``_config`` (settings), ``_partitioner`` (murmur2, sticky),
``_batch`` (batches, record futures), ``_accumulator`` (batching, memory),
``_sender`` (requests, retries, ordering), ``_idempotence`` (producer id and
sequences), ``_transactions`` (the transactional producer, with
``_txn_client``, ``_txn_requests`` and ``_txn_errors``), ``_producer`` (the facade), ``_sync``
(blocking wrapper).
"""

from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client.producer._batch import RecordFuture, RecordMetadata
from tidal.log.client.producer._config import ProducerConfig, Serializer
from tidal.log.client.producer._partitioner import (
    DefaultPartitioner,
    PartitionerFn,
    RandomPartitioner,
    murmur2,
    murmur2_partition,
)
from tidal.log.client.producer._producer import HeadersArg, Producer
from tidal.log.client.producer._sync import SyncProducer
from tidal.log.client.producer._transactions import TransactionState
from tidal.log.client.producer._txn_errors import TransactionAbortedError, TransactionStateError
from tidal.log.protocol.errors import ProducerFencedError, TransactionAbortableError

__all__ = [
    "ConsumerGroupMetadata",
    "DefaultPartitioner",
    "HeadersArg",
    "PartitionerFn",
    "Producer",
    "ProducerConfig",
    "ProducerFencedError",
    "RandomPartitioner",
    "RecordFuture",
    "RecordMetadata",
    "Serializer",
    "SyncProducer",
    "TransactionAbortableError",
    "TransactionAbortedError",
    "TransactionState",
    "TransactionStateError",
    "murmur2",
    "murmur2_partition",
]
