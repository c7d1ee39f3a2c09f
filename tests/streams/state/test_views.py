"""Typed store views: KeyValueStore for processors, ReadOnlyKeyValueStore for queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tidal.streams._contract import PartitionStore
from tidal.streams.serdes import JsonSerde, LongSerde, StringSerde
from tidal.streams.state import (
    InMemoryPartitionStore,
    KeyValueStore,
    ReadOnlyKeyValueStore,
    RocksDBPartitionStore,
)
from tidal.streams.state._base import BufferedStore


def test_key_value_store_round_trips_typed_values(store: BufferedStore) -> None:
    counts = KeyValueStore(store, StringSerde(), LongSerde())
    assert counts.name == "counts"
    assert counts.partition_store is store
    counts.put("apple", 3)
    counts.put("pear", -1)
    assert counts.get("apple") == 3
    assert counts.get("plum") is None
    assert counts.get("plum", 0) == 0
    assert "apple" in counts
    assert "plum" not in counts
    # What reaches the bytes-level store (and the changelog) is the serdes' bytes.
    assert store.pending() == [(b"apple", b"\0" * 7 + b"\3"), (b"pear", b"\xff" * 8)]
    counts.delete("pear")
    counts.put("apple", None)  # None deletes, as a tombstone would
    assert store.pending() == [(b"pear", None), (b"apple", None)]
    assert list(counts.items()) == []


def test_key_value_store_orders_by_serialized_key(store: BufferedStore) -> None:
    by_number = KeyValueStore(store, LongSerde(), StringSerde())
    for number in [5, -1, 0, 1, -(2**63)]:
        by_number.put(number, str(number))
    # Two's complement: negative numbers sort after positive ones.
    assert [key for key, _ in by_number.items()] == [0, 1, 5, -(2**63), -1]
    assert list(by_number.keys()) == [0, 1, 5, -(2**63), -1]
    assert list(by_number.range(1, -(2**63))) == [(1, "1"), (5, "5")]
    assert list(by_number.range(1, -(2**63), reverse=True)) == [(5, "5"), (1, "1")]
    assert next(iter(by_number.items(reverse=True))) == (-1, "-1")


def test_key_value_store_refuses_none_keys() -> None:
    store = KeyValueStore(InMemoryPartitionStore("s"), StringSerde(), JsonSerde())
    with pytest.raises(ValueError, match="key cannot be None"):
        store.put(None, {"a": 1})  # type: ignore[arg-type]


def test_key_value_store_sees_committed_and_buffered(store: BufferedStore) -> None:
    docs = KeyValueStore(store, StringSerde(), JsonSerde())
    docs.put("a", {"n": 1})
    store.commit(1)
    docs.put("b", [1, 2])
    assert dict(docs.items()) == {"a": {"n": 1}, "b": [1, 2]}
    store.rollback()
    assert dict(docs.items()) == {"a": {"n": 1}}


@pytest.fixture
def partitions(tmp_path: Path) -> Iterator[list[PartitionStore]]:
    """Three local instances of one store, of both kinds, as three tasks would hold."""
    stores: list[BufferedStore] = [
        InMemoryPartitionStore("counts"),
        RocksDBPartitionStore("counts", tmp_path / "1"),
        InMemoryPartitionStore("counts"),
    ]
    for index, store in enumerate(stores):
        for word in ["apple", "kiwi", "pear", "fig", "date", "lime"][index::3]:
            store.put(word.encode(), LongSerde().serialize(len(word)) or b"")
        store.commit(1)
    yield list(stores)
    for store in stores:
        store.close()


def test_read_only_store_gets_from_whichever_store_holds_the_key(
    partitions: list[PartitionStore],
) -> None:
    view = ReadOnlyKeyValueStore(partitions, StringSerde(), LongSerde())
    assert view.get("apple") == 5
    assert view.get("kiwi") == 4
    assert view.get("date") == 4
    assert view.get("mango") is None
    assert "pear" in view
    assert "mango" not in view


def test_read_only_store_merges_ranges_in_key_order(partitions: list[PartitionStore]) -> None:
    view = ReadOnlyKeyValueStore(partitions, StringSerde(), LongSerde())
    words = ["apple", "date", "fig", "kiwi", "lime", "pear"]
    assert [key for key, _ in view.items()] == words
    assert [key for key, _ in view.items(reverse=True)] == words[::-1]
    assert list(view.range("d", "l")) == [("date", 4), ("fig", 3), ("kiwi", 4)]
    assert list(view.range("d", "l", reverse=True)) == [("kiwi", 4), ("fig", 3), ("date", 4)]


def test_read_only_store_sees_uncommitted_writes(partitions: list[PartitionStore]) -> None:
    view = ReadOnlyKeyValueStore(partitions, StringSerde(), LongSerde())
    partitions[1].put(b"zucchini", LongSerde().serialize(8) or b"")
    partitions[0].delete(b"apple")
    assert view.get("zucchini") == 8
    assert view.get("apple") is None
    assert [key for key, _ in view.items()][-1] == "zucchini"


class _BareStore:
    """A PartitionStore that cannot estimate its size."""

    def __init__(self, inner: InMemoryPartitionStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name == "approximate_num_entries":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_read_only_store_counts_entries(partitions: list[PartitionStore]) -> None:
    view = ReadOnlyKeyValueStore(partitions, StringSerde(), LongSerde())
    assert view.approximate_num_entries() == 6
    inner = InMemoryPartitionStore("counts")
    inner.put(b"x", b"1")
    inner.put(b"y", b"1")
    bare: PartitionStore = _BareStore(inner)  # type: ignore[assignment]
    assert ReadOnlyKeyValueStore([bare], StringSerde(), LongSerde()).approximate_num_entries() == 2


def test_read_only_store_follows_a_changing_set_of_stores(
    partitions: list[PartitionStore],
) -> None:
    owned = list(partitions)
    view = ReadOnlyKeyValueStore(lambda: owned, StringSerde(), LongSerde())
    assert view.get("kiwi") == 4
    owned.pop(1)  # the task holding kiwi moved to another instance
    assert view.get("kiwi") is None
    assert [key for key, _ in view.items()] == ["apple", "fig", "lime", "pear"]
