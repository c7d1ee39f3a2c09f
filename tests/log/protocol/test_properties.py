"""Property tests over every declared message and version.

Values are drawn from the declarations themselves, so a new API added to the
registry is covered without new test code: encode -> decode gives the value
back and re-encoding gives the same bytes; and decoding arbitrary or mutated
bytes raises nothing but ProtocolDecodeError.
"""

from __future__ import annotations

import contextlib
import functools
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidal.log.protocol import (
    API_SPECS,
    NEED_DATA,
    Connection,
    Message,
    ProtocolDecodeError,
    Role,
    Struct,
)
from tidal.log.protocol._schema import ArrayOf, FieldSpec, in_range
from tidal.log.protocol.types import Primitive

FIXED = {
    "b": st.integers(-(2**7), 2**7 - 1),
    "h": st.integers(-(2**15), 2**15 - 1),
    "i": st.integers(-(2**31), 2**31 - 1),
    "q": st.integers(-(2**63), 2**63 - 1),
    "H": st.integers(0, 2**16 - 1),
    "?": st.booleans(),
    "d": st.floats(allow_nan=False),
}

CASES = [
    (cls, version)
    for spec in API_SPECS.values()
    for cls in (spec.request, spec.response)
    for version in range(cls.valid_versions[0], cls.valid_versions[1] + 1)
]


def _ids(case: tuple[type[Message], int]) -> str:
    return f"{case[0].__name__}-v{case[1]}"


def _type_strategy(typ: Any, version: int) -> st.SearchStrategy[Any]:
    if isinstance(typ, ArrayOf):
        return st.lists(_type_strategy(typ.element, version), max_size=3)
    if isinstance(typ, type) and issubclass(typ, Struct):
        return struct_strategy(typ, version)
    assert isinstance(typ, Primitive)
    if typ.family == "fixed":
        return FIXED[typ.fmt]  # type: ignore[attr-defined]
    if typ.family == "string":
        return st.text(max_size=8)
    if typ.family in ("bytes", "records"):
        return st.binary(max_size=16)
    if typ.family == "uuid":
        return st.uuids()
    raise AssertionError(typ)


def _field_strategy(spec: FieldSpec, version: int) -> st.SearchStrategy[Any]:
    if not in_range(version, spec.versions):
        return st.builds(spec.absent_value)
    value = _type_strategy(spec.type, version)
    if in_range(version, spec.nullable_versions):
        value = st.none() | value
    return value


@functools.cache
def struct_strategy(cls: type[Struct], version: int) -> st.SearchStrategy[Any]:
    fields = {spec.name: _field_strategy(spec, version) for spec in cls.fields}
    return st.builds(cls, **fields)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(case: tuple[type[Message], int], data: st.DataObject) -> None:
    cls, version = case
    message = data.draw(struct_strategy(cls, version))
    body = message.encode(version)
    decoded = cls.decode(body, version)
    assert decoded == message
    assert decoded.encode(version) == body


@pytest.mark.parametrize("case", CASES, ids=_ids)
@settings(max_examples=10, deadline=None)
@given(garbage=st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_decode_errors(
    case: tuple[type[Message], int], garbage: bytes
) -> None:
    cls, version = case
    with contextlib.suppress(ProtocolDecodeError):
        cls.decode(garbage, version)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_bytes_raise_only_decode_errors(
    case: tuple[type[Message], int], data: st.DataObject
) -> None:
    cls, version = case
    body = bytearray(data.draw(struct_strategy(cls, version)).encode(version))
    for _ in range(data.draw(st.integers(1, 4))):
        if not body:
            break
        at = data.draw(st.integers(0, len(body) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            body[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del body[at:]
        else:
            body[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    with contextlib.suppress(ProtocolDecodeError):
        cls.decode(bytes(body), version)


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40), max_size=6))
def test_broker_connection_turns_any_bytes_into_events(chunks: list[bytes]) -> None:
    broker = Connection(Role.BROKER, max_frame_size=1 << 16)
    for chunk in chunks:
        broker.receive_data(struct.pack(">i", len(chunk)) + chunk)
        while broker.next_event() is not NEED_DATA:
            if broker.failed is not None:
                return
