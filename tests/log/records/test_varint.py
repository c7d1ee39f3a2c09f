import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.records import CorruptRecordError, read_varint, varint_size, write_varint


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (-1, b"\x01"),
        (1, b"\x02"),
        (-64, b"\x7f"),
        (64, b"\x80\x01"),
        (300, b"\xd8\x04"),
    ],
)
def test_known_encodings(value: int, encoded: bytes) -> None:
    out = bytearray()
    write_varint(value, out)
    assert bytes(out) == encoded
    assert read_varint(encoded, 0, len(encoded)) == (value, len(encoded))


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_round_trip(value: int) -> None:
    out = bytearray()
    write_varint(value, out)
    assert len(out) == varint_size(value)
    assert read_varint(bytes(out), 0, len(out)) == (value, len(out))


def test_truncated_varint_is_a_decode_error() -> None:
    with pytest.raises(CorruptRecordError, match="past the end"):
        read_varint(b"\x80\x80", 0, 2)


def test_overlong_varint_is_a_decode_error() -> None:
    with pytest.raises(CorruptRecordError, match="longer than 10 bytes"):
        read_varint(b"\xff" * 11, 0, 11)
