"""Turning what a user passes as ``key_serde=``/``value_serde=`` into a serde."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from tidal.streams.serdes._base import Serde
from tidal.streams.serdes._primitive import (
    BytesSerde,
    DoubleSerde,
    FloatSerde,
    IntegerSerde,
    LongSerde,
    StringSerde,
)
from tidal.streams.serdes._structured import JsonSerde, MsgpackSerde

__all__ = ["SERDE_NAMES", "resolve_serde"]

T = TypeVar("T")

# The built-in serdes hold no state, so one shared instance per name will do.
_BY_NAME: dict[str, Serde[Any]] = {
    "bytes": BytesSerde(),
    "str": StringSerde(),
    "string": StringSerde(),
    "int": IntegerSerde(),
    "integer": IntegerSerde(),
    "long": LongSerde(),
    "float": FloatSerde(),
    "double": DoubleSerde(),
    "json": JsonSerde(),
    "msgpack": MsgpackSerde(),
}

#: The names :func:`resolve_serde` accepts.
SERDE_NAMES: tuple[str, ...] = tuple(sorted(_BY_NAME))

_DEFAULT: Serde[Any] = _BY_NAME["msgpack"]


@overload
def resolve_serde(spec: Serde[T], default: Serde[Any] | None = None) -> Serde[T]: ...


@overload
def resolve_serde(spec: None, default: Serde[T]) -> Serde[T]: ...


@overload
def resolve_serde(spec: str | None, default: Serde[Any] | None = None) -> Serde[Any]: ...


def resolve_serde(spec: Serde[Any] | str | None, default: Serde[Any] | None = None) -> Serde[Any]:
    """The serde ``spec`` names.

    ``spec`` is a serde (any object with ``serialize`` and ``deserialize``),
    None for ``default`` (itself :class:`MsgpackSerde` when None), or one of
    :data:`SERDE_NAMES`.

    >>> resolve_serde("long").serialize(1)
    b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'

    Raises ValueError for an unknown name and TypeError for anything else.
    """
    if spec is None:
        return _DEFAULT if default is None else default
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]
        except KeyError:
            raise ValueError(
                f"unknown serde name {spec!r}; valid names: {', '.join(SERDE_NAMES)}"
            ) from None
    if isinstance(spec, type):
        raise TypeError(f"pass a serde instance, such as {spec.__name__}(), not the class")
    if isinstance(spec, Serde):
        return spec
    raise TypeError(
        f"a serde must be a serde name or have serialize() and deserialize(); "
        f"got {type(spec).__name__}"
    )
