"""Kafka error codes the idempotent producer machinery answers with.

Plain ints with Kafka's names: the Produce and InitProducerId handlers copy
them into responses as they are. ``tidal.log.protocol`` maps every code to an
exception class for the client side; this package only needs the numbers.
"""

from __future__ import annotations

__all__ = [
    "DUPLICATE_SEQUENCE_NUMBER",
    "INVALID_PRODUCER_EPOCH",
    "INVALID_PRODUCER_ID_MAPPING",
    "INVALID_RECORD",
    "INVALID_REQUEST",
    "INVALID_TXN_STATE",
    "NONE",
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "PRODUCER_FENCED",
    "UNKNOWN_PRODUCER_ID",
]

NONE = 0
#: InitProducerId with only one of producer id and epoch set.
INVALID_REQUEST = 42
#: A batch's first sequence does not follow the producer's last one.
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
#: Legacy answer to a retried batch; Kafka (and Tidal) now return success
#: with the original offsets instead. Kept for completeness.
DUPLICATE_SEQUENCE_NUMBER = 46
#: A batch (or InitProducerId before v4) from an epoch older than the current one.
INVALID_PRODUCER_EPOCH = 47
#: A non-transactional batch while the producer's transaction is open.
INVALID_TXN_STATE = 48
#: Transactional id mapped to another producer id (transactions work).
INVALID_PRODUCER_ID_MAPPING = 49
#: Kafka before 2.5 rejected unknown producers with this; kept for the client.
UNKNOWN_PRODUCER_ID = 59
#: A batch with a producer id but no base sequence.
INVALID_RECORD = 87
#: InitProducerId v4+ with a stale (producer id, epoch).
PRODUCER_FENCED = 90
