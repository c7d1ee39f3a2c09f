"""Typed views over partition stores: what processors and local queries use.

A :class:`KeyValueStore` puts a key serde and a value serde in front of one
task's :class:`~tidal.streams.PartitionStore`. A :class:`ReadOnlyKeyValueStore`
reads every local task's instance of one store at once, for queries from
outside the stream (a web handler, a REPL).

Ranges order keys by their *serialized* bytes, not by the values the key
serde reads back: with :class:`~tidal.streams.serdes.LongSerde` ``-1`` sorts
after ``1`` (two's complement), and with ``StringSerde`` keys sort by UTF-8
bytes, which is code point order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Generic, Protocol, TypeVar, cast, runtime_checkable

from tidal.streams._contract import PartitionStore
from tidal.streams.serdes import Serde

__all__ = ["KeyValueStore", "ReadOnlyKeyValueStore", "SupportsApproximateCount"]

K = TypeVar("K")
V = TypeVar("V")

_by_key = itemgetter(0)


@runtime_checkable
class SupportsApproximateCount(Protocol):
    """A store that can estimate its number of keys without reading them all."""

    def approximate_num_entries(self) -> int:
        """An estimate of the number of committed keys."""
        ...


def _key_encoder(serde: Serde[K]) -> Callable[[K], bytes]:
    serialize = serde.serialize

    def encode(key: K) -> bytes:
        data = serialize(key)
        if data is None:
            raise ValueError("a state store key cannot be None")
        return data

    return encode


class KeyValueStore(Generic[K, V]):
    """One task's store with typed keys and values.

    >>> from tidal.streams.serdes import LongSerde, StringSerde
    >>> from tidal.streams.state import InMemoryPartitionStore
    >>> counts = KeyValueStore(InMemoryPartitionStore("counts"), StringSerde(), LongSerde())
    >>> counts.put("apple", 3)
    >>> counts.get("apple"), "pear" in counts, list(counts.items())
    (3, False, [('apple', 3)])

    Writes go to the partition store's buffer and reach disk and the changelog
    when the runtime commits.
    """

    __slots__ = ("_decode_key", "_decode_value", "_encode_key", "_encode_value", "_store")

    def __init__(self, store: PartitionStore, key_serde: Serde[K], value_serde: Serde[V]) -> None:
        self._store = store
        self._encode_key = _key_encoder(key_serde)
        # Serdes map bytes to a value and only None to None.
        self._decode_key = cast("Callable[[bytes], K]", key_serde.deserialize)
        self._encode_value = value_serde.serialize
        self._decode_value = cast("Callable[[bytes], V]", value_serde.deserialize)

    @property
    def name(self) -> str:
        """The store's name."""
        return self._store.name

    @property
    def partition_store(self) -> PartitionStore:
        """The bytes-level store underneath."""
        return self._store

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value of ``key``, or ``default`` when it has none."""
        data = self._store.get(self._encode_key(key))
        return default if data is None else self._decode_value(data)

    def put(self, key: K, value: V | None) -> None:
        """Set ``key`` to ``value``; ``None`` deletes the key."""
        data = self._encode_value(value)
        if data is None:
            self._store.delete(self._encode_key(key))
        else:
            self._store.put(self._encode_key(key), data)

    def delete(self, key: K) -> None:
        """Delete ``key`` (no error when absent)."""
        self._store.delete(self._encode_key(key))

    def __contains__(self, key: object) -> bool:
        return self._store.get(self._encode_key(cast("K", key))) is not None

    def range(
        self, start: K | None = None, end: K | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[K, V]]:
        """Pairs with ``start <= key < end`` in serialized-key order (None: unbounded)."""
        low = None if start is None else self._encode_key(start)
        high = None if end is None else self._encode_key(end)
        decode_key, decode_value = self._decode_key, self._decode_value
        for key, value in self._store.range(low, high, reverse=reverse):
            yield decode_key(key), decode_value(value)

    def items(self, *, reverse: bool = False) -> Iterator[tuple[K, V]]:
        """Every pair, in serialized-key order."""
        return self.range(reverse=reverse)

    def keys(self) -> Iterator[K]:
        """Every key, in serialized-key order."""
        decode_key = self._decode_key
        for key, _ in self._store.range():
            yield decode_key(key)

    def __repr__(self) -> str:
        return f"KeyValueStore({self._store!r})"


class ReadOnlyKeyValueStore(Generic[K, V]):
    """Every local instance of one store, read as one store.

    ``stores`` is the list of partition stores or a function returning the
    current list, so that the view follows the tasks this instance owns as
    partitions move between instances. Reads see writes that are not yet
    committed. A key lives in one partition, so at most one store answers
    :meth:`get`.

    Only this instance's partitions are visible: a key another instance owns
    reads as absent.
    """

    __slots__ = ("_decode_key", "_decode_value", "_encode_key", "_stores")

    def __init__(
        self,
        stores: Sequence[PartitionStore] | Callable[[], Sequence[PartitionStore]],
        key_serde: Serde[K],
        value_serde: Serde[V],
    ) -> None:
        if callable(stores):
            self._stores = stores
        else:
            fixed = list(stores)
            self._stores = lambda: fixed
        self._encode_key = _key_encoder(key_serde)
        self._decode_key = cast("Callable[[bytes], K]", key_serde.deserialize)
        self._decode_value = cast("Callable[[bytes], V]", value_serde.deserialize)

    def get(self, key: K) -> V | None:
        """The value of ``key`` in whichever local store holds it; None when none does."""
        data = self._encode_key(key)
        for store in self._stores():
            value = store.get(data)
            if value is not None:
                return self._decode_value(value)
        return None

    def __contains__(self, key: object) -> bool:
        data = self._encode_key(cast("K", key))
        return any(store.get(data) is not None for store in self._stores())

    def range(
        self, start: K | None = None, end: K | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[K, V]]:
        """Pairs with ``start <= key < end`` across the stores, in serialized-key order."""
        low = None if start is None else self._encode_key(start)
        high = None if end is None else self._encode_key(end)
        ranges = [store.range(low, high, reverse=reverse) for store in self._stores()]
        decode_key, decode_value = self._decode_key, self._decode_value
        for key, value in heapq.merge(*ranges, key=_by_key, reverse=reverse):
            yield decode_key(key), decode_value(value)

    def items(self, *, reverse: bool = False) -> Iterator[tuple[K, V]]:
        """Every pair across the stores, in serialized-key order."""
        return self.range(reverse=reverse)

    def approximate_num_entries(self) -> int:
        """The estimated number of keys over all the stores (counted when a store cannot say)."""
        total = 0
        for store in self._stores():
            if isinstance(store, SupportsApproximateCount):
                total += store.approximate_num_entries()
            else:
                total += sum(1 for _ in store.range())
        return total

    def __repr__(self) -> str:
        return f"ReadOnlyKeyValueStore({list(self._stores())!r})"
