"""The serde protocol, its error, and serdes built from two functions.

A serde turns a value into the bytes a topic or a store holds and back.
``None`` always passes through unchanged in both directions: it is Kafka's
tombstone (a null value) and a store's "absent", never something a serde
encodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from tidal.streams._contract import StreamsError

__all__ = ["FunctionSerde", "Serde", "SerializationError"]

T = TypeVar("T")


class SerializationError(StreamsError):
    """A serde could not write a value or read bytes back.

    The topology wraps it in a :class:`~tidal.streams.DeserializationError`
    carrying the record's coordinates when it happens while reading input.
    """


@runtime_checkable
class Serde(Protocol[T]):
    """Turns values of type ``T`` into bytes and back; ``None`` passes through.

    Any object with these two methods is a serde; the built-in ones subclass
    this protocol explicitly. Failures raise :class:`SerializationError`.

    Example::

        class UpperSerde:
            def serialize(self, obj: str | None) -> bytes | None:
                return None if obj is None else obj.upper().encode()

            def deserialize(self, data: bytes | None) -> str | None:
                return None if data is None else data.decode()
    """

    __slots__ = ()

    def serialize(self, obj: T | None) -> bytes | None:
        """The bytes of ``obj``; None for None."""
        ...

    def deserialize(self, data: bytes | None) -> T | None:
        """The value ``data`` holds; None for None."""
        ...


class FunctionSerde(Serde[T]):
    """A serde made of two functions that never see ``None``.

    Exceptions the functions raise become :class:`SerializationError`.

    Example::

        >>> upper = FunctionSerde(lambda s: s.upper().encode(), bytes.decode, name="upper")
        >>> upper.serialize("abc"), upper.deserialize(b"ABC"), upper.serialize(None)
        (b'ABC', 'ABC', None)
    """

    __slots__ = ("_from_bytes", "_name", "_to_bytes")

    def __init__(
        self,
        serialize: Callable[[T], bytes],
        deserialize: Callable[[bytes], T],
        *,
        name: str = "FunctionSerde",
    ) -> None:
        self._to_bytes = serialize
        self._from_bytes = deserialize
        self._name = name

    def serialize(self, obj: T | None) -> bytes | None:
        """Call the serialize function on ``obj`` unless it is None."""
        if obj is None:
            return None
        try:
            data = self._to_bytes(obj)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"{self._name} cannot serialize {obj!r}: {exc!r}") from exc
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SerializationError(
                f"{self._name}'s serialize function returned {type(data).__name__}, not bytes"
            )
        return bytes(data) if type(data) is not bytes else data

    def deserialize(self, data: bytes | None) -> T | None:
        """Call the deserialize function on ``data`` unless it is None."""
        if data is None:
            return None
        try:
            return self._from_bytes(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"{self._name} cannot deserialize {_preview(data)}: {exc!r}"
            ) from exc

    def __repr__(self) -> str:
        return f"FunctionSerde(name={self._name!r})"


def _preview(data: bytes, limit: int = 32) -> str:
    """A short printable form of ``data`` for error messages."""
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} bytes)"
