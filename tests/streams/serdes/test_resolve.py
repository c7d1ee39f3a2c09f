"""resolve_serde: names, defaults, user serdes and clear refusals."""

from __future__ import annotations

import pytest

from tidal.streams.serdes import (
    SERDE_NAMES,
    BytesSerde,
    DoubleSerde,
    FloatSerde,
    IntegerSerde,
    JsonSerde,
    LongSerde,
    MsgpackSerde,
    Serde,
    StringSerde,
    resolve_serde,
)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bytes", BytesSerde),
        ("str", StringSerde),
        ("string", StringSerde),
        ("int", IntegerSerde),
        ("integer", IntegerSerde),
        ("long", LongSerde),
        ("float", FloatSerde),
        ("double", DoubleSerde),
        ("json", JsonSerde),
        ("msgpack", MsgpackSerde),
        ("Long", LongSerde),
    ],
)
def test_names(name: str, kind: type) -> None:
    assert type(resolve_serde(name)) is kind


def test_every_listed_name_resolves() -> None:
    assert set(SERDE_NAMES) == {
        "bytes",
        "str",
        "string",
        "int",
        "integer",
        "long",
        "float",
        "double",
        "json",
        "msgpack",
    }
    for name in SERDE_NAMES:
        assert isinstance(resolve_serde(name), Serde)


def test_none_gives_the_default_and_msgpack_without_one() -> None:
    default = LongSerde()
    assert resolve_serde(None, default) is default
    assert type(resolve_serde(None)) is MsgpackSerde


def test_serde_objects_pass_through_even_without_subclassing() -> None:
    class Reversed:
        def serialize(self, obj: bytes | None) -> bytes | None:
            return None if obj is None else obj[::-1]

        def deserialize(self, data: bytes | None) -> bytes | None:
            return None if data is None else data[::-1]

    mine = Reversed()
    assert resolve_serde(mine, LongSerde()) is mine
    json = JsonSerde()
    assert resolve_serde(json) is json


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown serde name 'avro'; valid names: bytes, double"):
        resolve_serde("avro")


def test_non_serdes_are_refused() -> None:
    with pytest.raises(TypeError, match="have serialize\\(\\) and deserialize\\(\\); got int"):
        resolve_serde(42)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"pass a serde instance, such as LongSerde\(\)"):
        resolve_serde(LongSerde)  # type: ignore[call-overload]
