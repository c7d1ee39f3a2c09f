"""``__transaction_state`` keys and values byte for byte in Kafka's layout."""

from __future__ import annotations

import struct

import pytest

from tidal.log.broker.txn import (
    CorruptTxnRecordError,
    TxnLogValue,
    TxnState,
    decode_txn_key,
    decode_txn_value,
    encode_txn_key,
    encode_txn_value,
    txn_partition_for,
)


def test_key_is_version_0_and_the_id() -> None:
    assert encode_txn_key("app-1") == b"\x00\x00\x00\x05app-1"
    assert decode_txn_key(b"\x00\x00\x00\x05app-1") == "app-1"


def test_value_v0_layout() -> None:
    value = TxnLogValue(
        producer_id=1000,
        producer_epoch=3,
        transaction_timeout_ms=60_000,
        state=TxnState.ONGOING,
        partitions={"b": [2, 0], "a": [1]},
        last_update_timestamp_ms=1_700_000_000_123,
        start_timestamp_ms=1_700_000_000_000,
    )
    expected = (
        struct.pack(">hqhib", 0, 1000, 3, 60_000, 1)
        + struct.pack(">i", 2)  # two topics, sorted, partitions sorted
        + struct.pack(">h", 1) + b"a" + struct.pack(">ii", 1, 1)
        + struct.pack(">h", 1) + b"b" + struct.pack(">iii", 2, 0, 2)
        + struct.pack(">qq", 1_700_000_000_123, 1_700_000_000_000)
    )  # fmt: skip
    assert encode_txn_value(value) == expected
    decoded = decode_txn_value(expected)
    assert decoded.partitions == {"a": [1], "b": [0, 2]}
    assert decoded.state == TxnState.ONGOING
    assert (decoded.producer_id, decoded.producer_epoch) == (1000, 3)


def test_empty_state_writes_null_partitions() -> None:
    value = TxnLogValue(5, 0, 1000, TxnState.EMPTY, {}, 10, -1)
    encoded = encode_txn_value(value)
    assert encoded[17:21] == struct.pack(">i", -1)
    assert decode_txn_value(encoded).partitions == {}


def test_flexible_v1_value_is_read() -> None:
    v1 = (
        struct.pack(">hqhib", 1, 77, 9, 30_000, 2)
        + bytes([2])  # compact array: one topic
        + bytes([2]) + b"t" + bytes([3]) + struct.pack(">ii", 0, 4) + bytes([0])
        + struct.pack(">qq", 200, 100)
        + bytes([1, 2, 2]) + struct.pack(">h", 2)  # tagged field 2: client txn version
    )  # fmt: skip
    decoded = decode_txn_value(v1)
    assert decoded.state == TxnState.PREPARE_COMMIT
    assert decoded.partitions == {"t": [0, 4]}
    assert (decoded.last_update_timestamp_ms, decoded.start_timestamp_ms) == (200, 100)


@pytest.mark.parametrize(
    "data", [b"", b"\x00\x07", struct.pack(">hqhib", 0, 1, 0, 1, 42), b"\x00\x00\x00"]
)
def test_corrupt_values_raise(data: bytes) -> None:
    with pytest.raises(CorruptTxnRecordError):
        decode_txn_value(data)


def test_state_names_are_kafkas() -> None:
    assert [s.kafka_name for s in TxnState] == [
        "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
        "CompleteAbort", "Dead", "PrepareEpochFence",
    ]  # fmt: skip


def test_partition_is_kafkas_abs_java_hash() -> None:
    # "my-txn".hashCode() == -1061187895 in Java.
    assert txn_partition_for("my-txn", 50) == 1061187895 % 50
