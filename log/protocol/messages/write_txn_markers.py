"""WriteTxnMarkers (key 27), versions 0-2, flexible from 1.

Transaction coordinator to partition leaders: write COMMIT (``transaction_result``
true) or ABORT control records for each producer on the listed partitions.
Kafka 4 serves 1-2; v0 (never flexible) is declared for older brokers, v2
adds the marker's transaction version (KIP-1228). No client sends it except
Java Admin ``abortTransaction`` (KIP-664).
"""

from __future__ import annotations

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import BOOLEAN, INT8, INT16, INT32, INT64, STRING

__all__ = [
    "WritableTxnMarker",
    "WritableTxnMarkerPartitionResult",
    "WritableTxnMarkerResult",
    "WritableTxnMarkerTopic",
    "WritableTxnMarkerTopicResult",
    "WriteTxnMarkersRequest",
    "WriteTxnMarkersResponse",
]


class WritableTxnMarkerTopic(Struct):
    name: str = F(STRING)
    partition_indexes: list[int] = F(array(INT32))


class WritableTxnMarker(Struct):
    producer_id: int = F(INT64)
    producer_epoch: int = F(INT16)
    transaction_result: bool = F(BOOLEAN)
    topics: list[WritableTxnMarkerTopic] = F(array(WritableTxnMarkerTopic))
    coordinator_epoch: int = F(INT32)
    transaction_version: int = F(INT8, versions="2+", ignorable=True, default=0)


class WriteTxnMarkersRequest(Request, api_key=27, valid_versions=(0, 2), flexible_versions=1):
    markers: list[WritableTxnMarker] = F(array(WritableTxnMarker))


class WritableTxnMarkerPartitionResult(Struct):
    partition_index: int = F(INT32)
    error_code: int = F(INT16, default=0)


class WritableTxnMarkerTopicResult(Struct):
    name: str = F(STRING)
    partitions: list[WritableTxnMarkerPartitionResult] = F(
        array(WritableTxnMarkerPartitionResult), default_factory=list
    )


class WritableTxnMarkerResult(Struct):
    producer_id: int = F(INT64)
    topics: list[WritableTxnMarkerTopicResult] = F(
        array(WritableTxnMarkerTopicResult), default_factory=list
    )


class WriteTxnMarkersResponse(Response, api_key=27, valid_versions=(0, 2), flexible_versions=1):
    markers: list[WritableTxnMarkerResult] = F(array(WritableTxnMarkerResult))
