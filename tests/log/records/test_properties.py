"""Property tests: round trips and decoding of arbitrary bytes."""

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidal.log.records import (
    Compression,
    Header,
    RecordsError,
    SimpleRecord,
    decode_batch,
    encode_batch,
    iter_batches,
    validate_batch,
)

optional_bytes = st.none() | st.binary(max_size=64)
headers = st.lists(st.builds(Header, st.text(max_size=8), optional_bytes), max_size=3)
records = st.lists(
    st.builds(
        SimpleRecord,
        value=optional_bytes,
        key=optional_bytes,
        timestamp=st.integers(min_value=0, max_value=2**41),
        headers=headers,
    ),
    min_size=1,
    max_size=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    records,
    st.sampled_from(list(Compression)),
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=-1, max_value=2**40),
    st.booleans(),
)
def test_encode_decode_round_trip(
    recs: list[SimpleRecord],
    codec: Compression,
    base_offset: int,
    producer_id: int,
    transactional: bool,
) -> None:
    raw = encode_batch(
        recs,
        base_offset=base_offset,
        compression=codec,
        producer_id=producer_id,
        producer_epoch=0 if producer_id >= 0 else -1,
        base_sequence=0 if producer_id >= 0 else -1,
        is_transactional=transactional,
    )
    header = validate_batch(raw, from_producer=True)
    assert header.compression is codec
    assert header.is_transactional is transactional
    decoded = decode_batch(raw)
    assert [r.offset for r in decoded.records] == list(range(base_offset, base_offset + len(recs)))
    assert [(r.key, r.value, r.timestamp, list(r.headers)) for r in decoded.records] == [
        (r.key, r.value, r.timestamp, list(r.headers)) for r in recs
    ]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_our_decode_error(data: bytes) -> None:
    for decoder in (decode_batch, validate_batch):
        with contextlib.suppress(RecordsError):
            decoder(data)
    with contextlib.suppress(RecordsError):
        list(iter_batches(data))


@given(records, st.data())
def test_mutated_batches_raise_only_our_decode_error(
    recs: list[SimpleRecord], data: st.DataObject
) -> None:
    raw = bytearray(encode_batch(recs))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    for candidate in (bytes(raw), bytes(raw[:cut])):
        for verify in (True, False):
            with contextlib.suppress(RecordsError):
                decode_batch(candidate, verify_crc=verify)
        with contextlib.suppress(RecordsError):
            validate_batch(candidate)
