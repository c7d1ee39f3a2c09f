"""Inputs the wire fuzz test (``tests/system/test_wire_fuzz.py``) found, pinned.

Each test names what the decoder did wrong and holds the smallest frame or
bytes that showed it.
"""

from __future__ import annotations

import pytest

from tidal.log.protocol import (
    Connection,
    ProtocolDecodeError,
    ProtocolViolation,
    RequestReceived,
    Role,
)
from tidal.log.protocol.messages import MetadataRequest
from tidal.log.protocol.types import TAGGED_FIELDS, UNSIGNED_VARINT


def _metadata_frame_with_tags(tags: bytes) -> bytes:
    """A Metadata v12 frame whose body's tagged-field section is ``tags``."""
    frame = bytearray(Connection(Role.CLIENT).send_request(MetadataRequest(topics=None), 12))
    assert frame[-1] == 0  # the empty tagged-field section closing the body
    frame[-1:] = tags
    frame[:4] = (len(frame) - 4).to_bytes(4, "big")
    return bytes(frame)


@pytest.mark.parametrize("data", [b"\x80\x80\x80\x80\x10", b"\xff\xff\xff\xff\x7f"])
def test_unsigned_varint_beyond_32_bits_is_a_decode_error(data: bytes) -> None:
    # Five varint bytes hold 35 bits; the decoder returned them all, so a tag
    # decoded from such bytes could not be encoded again.
    with pytest.raises(ProtocolDecodeError, match="exceeds 32 bits"):
        UNSIGNED_VARINT.decode(data, 0)
    with pytest.raises(ProtocolDecodeError):
        TAGGED_FIELDS.decode(b"\x01" + data + b"\x00", 0)


def test_largest_unsigned_varint_still_decodes() -> None:
    assert UNSIGNED_VARINT.decode(b"\xff\xff\xff\xff\x0f", 0) == (2**32 - 1, 5)


def test_request_with_a_35_bit_tag_is_a_protocol_violation() -> None:
    broker = Connection(Role.BROKER)
    broker.receive_data(_metadata_frame_with_tags(b"\x01\xff\xff\xff\xff\x7f\x00"))
    event = broker.next_event()
    assert isinstance(event, ProtocolViolation)
    assert "exceeds 32 bits" in event.reason


def test_request_with_the_largest_tag_decodes_and_encodes_again() -> None:
    broker = Connection(Role.BROKER)
    broker.receive_data(_metadata_frame_with_tags(b"\x01\xff\xff\xff\xff\x0f\x00"))
    event = broker.next_event()
    assert isinstance(event, RequestReceived)
    body = event.request.encode(12)
    assert body.endswith(b"\x01\xff\xff\xff\xff\x0f\x00")
