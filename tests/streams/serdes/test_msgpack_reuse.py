"""MsgpackSerde reuses one Packer: a failed serialize must not leak bytes into the next."""

from __future__ import annotations

import pytest

from tidal.streams.serdes import MsgpackSerde, SerializationError


def test_failed_serialize_leaves_no_partial_bytes_behind() -> None:
    serde = MsgpackSerde()
    with pytest.raises(SerializationError):
        serde.serialize({"a": [1, 2, object()]})
    assert serde.serialize(1) == b"\x01"
    assert serde.deserialize(serde.serialize({"k": [1, "x", b"y"]})) == {"k": [1, "x", b"y"]}
