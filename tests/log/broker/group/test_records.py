"""__consumer_offsets keys and values in Apache Kafka's formats, and the partition hash."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.broker.group import (
    CorruptGroupRecordError,
    GroupMetadataKey,
    GroupMetadataValue,
    MemberRecord,
    OffsetAndMetadata,
    OffsetCommitKey,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
    encode_group_metadata_key,
    encode_group_metadata_value,
    encode_offset_commit_key,
    encode_offset_commit_value,
    java_string_hash,
    partition_for,
)

TS = bytes.fromhex("0000018bcfe56800")  # 1_700_000_000_000

# Written out field by field from Kafka's OffsetCommitKey/Value and
# GroupMetadataKey/Value schemas (group-coordinator/src/main/resources/common/message).
OFFSET_KEY = bytes.fromhex("00010001") + b"g" + bytes.fromhex("0001") + b"t" + bytes(4)
OFFSET_VALUE_V3 = (
    bytes.fromhex("0003")  # version
    + bytes.fromhex("000000000000002a")  # offset 42
    + bytes.fromhex("00000005")  # leader epoch 5
    + bytes.fromhex("0001")
    + b"m"  # metadata
    + TS  # commit timestamp
)
GROUP_KEY = bytes.fromhex("00020001") + b"g"
GROUP_VALUE_V3 = (
    bytes.fromhex("0003")
    + bytes.fromhex("0008")
    + b"consumer"  # protocol type
    + bytes.fromhex("00000001")  # generation
    + bytes.fromhex("0005")
    + b"range"  # protocol
    + bytes.fromhex("0002")
    + b"m1"  # leader
    + TS  # current state timestamp
    + bytes.fromhex("00000001")  # one member
    + bytes.fromhex("0002")
    + b"m1"  # member id
    + bytes.fromhex("ffff")  # group instance id: null
    + bytes.fromhex("0001")
    + b"c"  # client id
    + bytes.fromhex("0002")
    + b"/h"  # client host
    + bytes.fromhex("000493e0")  # rebalance timeout 300000
    + bytes.fromhex("00002710")  # session timeout 10000
    + bytes.fromhex("000000020000")  # subscription
    + bytes.fromhex("00000000")  # assignment: empty
)
MEMBER = MemberRecord("m1", None, "c", "/h", 300000, 10000, b"\x00\x00", b"")
GROUP_VALUE = GroupMetadataValue("consumer", 1, "range", "m1", 1_700_000_000_000, [MEMBER])


def test_offset_commit_key_and_value_match_kafka_bytes() -> None:
    assert encode_offset_commit_key("g", "t", 0) == OFFSET_KEY
    assert decode_key(OFFSET_KEY) == OffsetCommitKey("g", "t", 0)
    value = OffsetAndMetadata(42, 5, "m", 1_700_000_000_000)
    assert encode_offset_commit_value(value) == OFFSET_VALUE_V3
    assert decode_offset_commit_value(OFFSET_VALUE_V3) == value


def test_group_metadata_key_and_value_match_kafka_bytes() -> None:
    assert encode_group_metadata_key("g") == GROUP_KEY
    assert decode_key(GROUP_KEY) == GroupMetadataKey("g")
    assert encode_group_metadata_value(GROUP_VALUE) == GROUP_VALUE_V3
    assert decode_group_metadata_value(GROUP_VALUE_V3) == GROUP_VALUE


def test_older_and_flexible_offset_values_decode() -> None:
    v1 = bytes.fromhex("0001") + struct.pack(">q", 7) + b"\x00\x00" + TS + struct.pack(">q", 99)
    assert decode_offset_commit_value(v1) == OffsetAndMetadata(7, -1, "", 1_700_000_000_000, 99)
    assert encode_offset_commit_value(OffsetAndMetadata(7, -1, "", 1_700_000_000_000, 99)) == v1
    v0 = bytes.fromhex("0000") + struct.pack(">q", 7) + b"\x00\x01x" + TS
    assert decode_offset_commit_value(v0) == OffsetAndMetadata(7, -1, "x", 1_700_000_000_000)
    # v4: compact string (length + 1), then tagged fields: one unknown tag (0) of 2 bytes.
    v4 = bytes.fromhex("0004") + struct.pack(">qi", 7, 2) + b"\x02x" + TS + b"\x01\x00\x02ab"
    assert decode_offset_commit_value(v4) == OffsetAndMetadata(7, 2, "x", 1_700_000_000_000)


def test_version_0_group_value_uses_the_session_timeout_for_rebalances() -> None:
    v0 = (
        bytes.fromhex("0000")
        + b"\x00\x08consumer"
        + struct.pack(">i", 3)
        + b"\xff\xff\xff\xff"  # protocol and leader: null
        + struct.pack(">i", 1)
        + b"\x00\x02m1\x00\x01c\x00\x02/h"
        + struct.pack(">i", 10000)
        + struct.pack(">i", 0)
        + struct.pack(">i", 0)
    )
    value = decode_group_metadata_value(v0)
    assert (value.generation, value.protocol, value.current_state_timestamp) == (3, None, -1)
    assert value.members == [MemberRecord("m1", None, "c", "/h", 10000, 10000, b"", b"")]


def test_newer_group_types_keys_are_skipped() -> None:
    assert decode_key(bytes.fromhex("0003") + b"\x00\x01g") is None


BIG_ARRAY = GROUP_VALUE_V3.replace(
    bytes.fromhex("00000001") + b"\x00\x02m1", b"\x7f" * 4 + b"\x00\x02m1"
)


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (decode_key, b""),
        (decode_key, b"\x00"),
        (decode_key, b"\x00\x01\x00\x05ab"),  # string longer than the bytes left
        (decode_offset_commit_value, b"\x00\x09"),  # unknown version
        (decode_offset_commit_value, OFFSET_VALUE_V3[:-1]),
        (decode_group_metadata_value, GROUP_VALUE_V3[:-1]),
        (decode_group_metadata_value, BIG_ARRAY),  # 2**31 members claimed
        (decode_group_metadata_value, GROUP_VALUE_V3.replace(b"consumer", b"consum\xff\xfe")),
    ],
)
def test_corrupt_records_raise_a_typed_error(decode: Any, data: bytes) -> None:
    with pytest.raises(CorruptGroupRecordError):
        decode(data)


@given(st.binary(max_size=200))
def test_decoding_arbitrary_bytes_raises_only_the_typed_error(data: bytes) -> None:
    for decode in (decode_key, decode_offset_commit_value, decode_group_metadata_value):
        with contextlib.suppress(CorruptGroupRecordError):
            decode(data)


members = st.builds(
    MemberRecord,
    st.text(max_size=20),
    st.none() | st.text(max_size=20),
    st.text(max_size=10),
    st.text(max_size=10),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.binary(max_size=50),
    st.binary(max_size=50),
)


@given(
    st.builds(
        GroupMetadataValue,
        st.text(max_size=10),
        st.integers(0, 2**31 - 1),
        st.none() | st.text(max_size=10),
        st.none() | st.text(max_size=10),
        st.integers(-1, 2**62),
        st.lists(members, max_size=4),
    )
)
def test_group_metadata_round_trip(value: GroupMetadataValue) -> None:
    assert decode_group_metadata_value(encode_group_metadata_value(value)) == value


def test_java_string_hash_code() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112
    assert java_string_hash("\U0001f600") == 0xD83D * 31 + 0xDE00  # UTF-16 surrogates
    assert java_string_hash("polygenelubricants") == -(2**31)


def test_partition_for_follows_kafka_utils_abs() -> None:
    assert partition_for("polygenelubricants", 50) == 0  # abs(Integer.MIN_VALUE) -> 0
    assert partition_for("hello", 50) == 99162322 % 50
    for group in ("a", "orders-app", "group-\u00e9"):
        assert partition_for(group, 50) == abs(java_string_hash(group)) % 50
