"""The schema language and compiler: versions, defaults, nullability, tags."""

from __future__ import annotations

import pytest

from tidal.log.protocol import (
    F,
    ProtocolDecodeError,
    ProtocolEncodeError,
    Request,
    Struct,
    array,
    generated_source,
)
from tidal.log.protocol.types import INT8, INT16, INT32, INT64, RECORDS, STRING


class Leader(Struct):
    leader_id: int = F(INT32, default=-1)
    epoch: int = F(INT32, default=-1)


class Part(Struct):
    index: int = F(INT32)
    records: bytes | None = F(RECORDS)


class Topic(Struct):
    name: str = F(STRING)
    parts: list[Part] = F(array(Part))


class Sample(Request, api_key=1000, valid_versions=(0, 5), flexible_versions=3):
    txn: str | None = F(STRING, versions="2+", nullable_versions="2+", default=None)
    acks: int = F(INT16)
    hint: int = F(INT32, versions="0-1", ignorable=True, default=7)
    strict: int = F(INT8, versions="4+", default=0)
    topics: list[Topic] = F(array(Topic), default_factory=list)
    ids: list[int] | None = F(array(INT64), versions="1+", nullable_versions="1+", default=None)
    leader: Leader = F(Leader, versions="3+", tag=0, tagged_versions="3+", default_factory=Leader)
    note: str | None = F(
        STRING, versions="3+", nullable_versions="3+", tag=5, tagged_versions="3+", default=None
    )


def sample() -> Sample:
    return Sample(acks=-1, topics=[Topic(name="t", parts=[Part(index=2, records=b"abc")])])


def test_classic_layout_v0() -> None:
    body = sample().encode(0)
    assert (
        body
        == (
            b"\xff\xff"  # acks
            b"\x00\x00\x00\x07"  # hint (default)
            b"\x00\x00\x00\x01" + b"\x00\x01t" + b"\x00\x00\x00\x01"
            b"\x00\x00\x00\x02" + b"\x00\x00\x00\x03abc"
        )
    )
    assert Sample.decode(body, 0) == sample()


def test_flexible_layout_v3_uses_compact_encodings_and_tag_sections() -> None:
    body = sample().encode(3)
    assert (
        body
        == (
            b"\x00"  # txn: compact null
            b"\xff\xff"  # acks
            b"\x02" + b"\x02t" + b"\x02" + b"\x00\x00\x00\x02" + b"\x04abc" + b"\x00" + b"\x00"
            b"\x00"  # ids: compact null
            b"\x00"  # no tagged fields: all default
        )
    )
    assert Sample.decode(body, 3) == sample()


def test_tagged_fields_are_written_only_when_not_default() -> None:
    msg = sample()
    msg.leader = Leader(leader_id=4)
    msg.note = "n"
    body = msg.encode(3)
    assert body.endswith(
        b"\x02" + b"\x00\x09" + b"\x00\x00\x00\x04\xff\xff\xff\xff\x00" + b"\x05\x02\x02n"
    )
    assert Sample.decode(body, 3) == msg


def test_unknown_tagged_fields_survive_a_round_trip() -> None:
    body = sample().encode(3)[:-1] + b"\x01\x07\x02hi"
    decoded = Sample.decode(body, 3)
    assert decoded.unknown_tagged_fields == {7: b"hi"}
    assert decoded.encode(3) == body


def test_absent_fields_decode_to_defaults() -> None:
    decoded = Sample.decode(sample().encode(0), 0)
    assert decoded.txn is None
    assert decoded.ids is None
    assert decoded.leader == Leader()
    decoded = Sample.decode(sample().encode(4), 4)
    assert decoded.hint == 7


def test_non_default_value_in_absent_field_raises_unless_ignorable() -> None:
    msg = sample()
    msg.txn = "tx"
    with pytest.raises(ProtocolEncodeError, match="txn"):
        msg.encode(1)
    msg = sample()
    msg.hint = 99  # ignorable: silently dropped from v2 on
    assert Sample.decode(msg.encode(2), 2).hint == 7
    msg.strict = 1
    with pytest.raises(ProtocolEncodeError, match="strict"):
        msg.encode(3)


def test_nullable_only_in_nullable_versions() -> None:
    msg = sample()
    msg.topics[0].name = None  # type: ignore[assignment]
    with pytest.raises(ProtocolEncodeError):
        msg.encode(0)
    msg = sample()
    msg.ids = [1, 2]
    assert Sample.decode(msg.encode(1), 1).ids == [1, 2]


def test_encode_errors_leave_the_output_untouched() -> None:
    out = bytearray(b"keep")
    msg = sample()
    msg.acks = 1 << 20
    with pytest.raises(ProtocolEncodeError):
        msg.encode_into(out, 0)
    assert out == b"keep"


def test_unknown_versions_are_refused() -> None:
    with pytest.raises(ProtocolEncodeError):
        sample().encode(6)


def test_trailing_and_truncated_bytes_are_decode_errors() -> None:
    body = sample().encode(3)
    with pytest.raises(ProtocolDecodeError, match="left over"):
        Sample.decode(body + b"\x00", 3)
    for cut in range(len(body)):
        with pytest.raises(ProtocolDecodeError):
            Sample.decode(body[:cut], 3)


def test_constructor_is_keyword_only_with_defaults() -> None:
    msg = Sample(acks=1)
    assert msg.topics == []
    assert msg.leader == Leader()
    assert Sample(acks=1).topics is not msg.topics  # fresh default per instance
    with pytest.raises(TypeError):
        Sample(1)  # type: ignore[misc]
    assert "acks=1" in repr(msg)


def test_generated_source_merges_fixed_width_runs() -> None:
    source = generated_source(Sample, 0)
    assert "o.acks, o.hint = " in source


def test_mutable_default_is_rejected() -> None:
    with pytest.raises(TypeError):
        F(array(INT8), default=[])
