import pytest

from tidal.log.records import (
    ControlRecordType,
    CorruptRecordError,
    EndTransactionMarker,
    SimpleRecord,
    decode_batch,
    encode_batch,
    encode_control_batch,
    validate_batch,
)


@pytest.mark.parametrize("marker", list(ControlRecordType))
def test_marker_round_trip(marker: ControlRecordType) -> None:
    raw = encode_control_batch(
        marker, producer_id=9, producer_epoch=2, coordinator_epoch=17, timestamp=123
    )
    header = validate_batch(raw)
    assert header.is_control
    assert header.is_transactional
    assert header.base_sequence == -1
    batch = decode_batch(raw)
    # Kafka's layout: key = version 0 + type, value = version 0 + coordinator epoch.
    assert batch.records[0].key == b"\x00\x00\x00" + bytes([marker])
    assert batch.records[0].value == b"\x00\x00\x00\x00\x00\x11"
    assert EndTransactionMarker.from_batch(batch) == EndTransactionMarker(marker, 17)


def test_control_batch_from_a_producer_is_refused() -> None:
    raw = encode_control_batch(
        ControlRecordType.COMMIT,
        producer_id=1,
        producer_epoch=0,
        coordinator_epoch=0,
        timestamp=0,
    )
    with pytest.raises(Exception, match="control batches"):
        validate_batch(raw, from_producer=True)


def test_non_control_batch_is_not_a_marker() -> None:
    batch = decode_batch(encode_batch([SimpleRecord(b"x")]))
    with pytest.raises(CorruptRecordError):
        EndTransactionMarker.from_batch(batch)
