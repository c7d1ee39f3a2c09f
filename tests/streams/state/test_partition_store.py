"""The PartitionStore contract, checked against every store implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from tidal.streams._contract import PartitionStore
from tidal.streams.state import StoreClosedError, StoreError
from tidal.streams.state._base import BufferedStore, Write

Opener = Callable[[], BufferedStore]

KEYS = [b"", b"\x00", b"a", b"aa", b"ab", b"b", b"ba", b"\x7f", b"\x80", b"\xff", b"\xff\xff"]


def fill(store: PartitionStore, keys: Iterable[bytes], offset: int | None = 1) -> None:
    for key in keys:
        store.put(key, b"v" + key)
    store.commit(offset)


def test_implements_the_protocol(store: BufferedStore) -> None:
    checked: PartitionStore = store
    assert checked.name == "counts"
    assert checked.changelog_offset is None


def test_reads_see_own_writes_before_commit(store: BufferedStore) -> None:
    assert store.get(b"k") is None
    store.put(b"k", b"1")
    assert store.get(b"k") == b"1"
    assert list(store.range()) == [(b"k", b"1")]
    store.put(b"k", b"2")
    assert store.get(b"k") == b"2"
    store.commit(7)
    assert store.get(b"k") == b"2"
    assert store.pending() == []
    assert store.changelog_offset == 7


def test_empty_value_is_a_value_not_a_delete(store: BufferedStore) -> None:
    store.put(b"k", b"")
    assert store.get(b"k") == b""
    store.commit(1)
    assert store.get(b"k") == b""
    assert list(store.range()) == [(b"k", b"")]
    assert store.pending() == []


def test_rollback_forgets_buffered_puts_and_deletes(store: BufferedStore) -> None:
    fill(store, [b"a", b"b"], offset=3)
    store.put(b"a", b"changed")
    store.put(b"c", b"new")
    store.delete(b"b")
    store.rollback()
    assert store.pending() == []
    assert store.get(b"a") == b"va"
    assert store.get(b"b") == b"vb"
    assert store.get(b"c") is None
    assert list(store.range()) == [(b"a", b"va"), (b"b", b"vb")]
    assert store.changelog_offset == 3


def test_pending_is_last_write_per_key_in_write_order(store: BufferedStore) -> None:
    store.put(b"a", b"1")
    store.put(b"b", b"1")
    store.put(b"c", b"1")
    store.put(b"a", b"2")
    store.delete(b"b")
    store.delete(b"zz")
    assert store.pending() == [(b"c", b"1"), (b"a", b"2"), (b"b", None), (b"zz", None)]
    snapshot = store.pending()
    store.put(b"c", b"3")
    assert snapshot == [(b"c", b"1"), (b"a", b"2"), (b"b", None), (b"zz", None)]
    assert store.pending()[-1] == (b"c", b"3")


def test_delete_hides_committed_key_in_get_and_range(store: BufferedStore) -> None:
    fill(store, [b"a", b"b", b"c"])
    store.delete(b"b")
    assert store.get(b"b") is None
    assert list(store.range()) == [(b"a", b"va"), (b"c", b"vc")]
    assert list(store.range(reverse=True)) == [(b"c", b"vc"), (b"a", b"va")]
    assert list(store.range(b"b", b"c")) == []
    store.commit(2)
    assert store.get(b"b") is None
    assert [key for key, _ in store.range()] == [b"a", b"c"]
    store.put(b"b", b"again")
    assert store.get(b"b") == b"again"
    assert [key for key, _ in store.range()] == [b"a", b"b", b"c"]


def test_range_orders_by_key_bytes_and_honours_bounds(store: BufferedStore) -> None:
    # Half the keys committed, half buffered, so the merge is exercised too.
    fill(store, KEYS[::2])
    for key in KEYS[1::2]:
        store.put(key, b"v" + key)
    ordered = sorted(KEYS)
    assert [key for key, _ in store.range()] == ordered
    assert [key for key, _ in store.range(reverse=True)] == ordered[::-1]
    assert all(value == b"v" + key for key, value in store.range())
    for start in [None, *KEYS, b"\x00\x00", b"c"]:
        for end in [None, *KEYS, b"c"]:
            want = [
                key
                for key in ordered
                if (start is None or key >= start) and (end is None or key < end)
            ]
            assert [key for key, _ in store.range(start, end)] == want, (start, end)
            assert [key for key, _ in store.range(start, end, reverse=True)] == want[::-1]


def test_buffered_write_overrides_committed_value_in_range(store: BufferedStore) -> None:
    fill(store, [b"a", b"b", b"c"])
    store.put(b"b", b"new")
    store.put(b"d", b"vd")
    store.delete(b"a")
    assert list(store.range()) == [(b"b", b"new"), (b"c", b"vc"), (b"d", b"vd")]
    assert list(store.range(reverse=True)) == [(b"d", b"vd"), (b"c", b"vc"), (b"b", b"new")]


def test_commit_writes_data_and_offset_together(store: BufferedStore) -> None:
    store.put(b"a", b"1")
    store.commit(10)
    assert (store.get(b"a"), store.changelog_offset) == (b"1", 10)
    store.commit(None)  # a store without changelog keeps its offset
    assert store.changelog_offset == 10
    store.commit(12)  # nothing buffered: the offset still moves
    assert store.changelog_offset == 12


def test_failed_commit_keeps_the_buffer_and_the_old_offset(
    store: BufferedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, [b"a"], offset=1)
    store.put(b"b", b"2")

    def broken(self: BufferedStore, writes: Iterable[Write], offset: int | None) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(type(store), "_write", broken)
        with pytest.raises(OSError, match="disk full"):
            store.commit(2)
    assert store.pending() == [(b"b", b"2")]
    assert store.changelog_offset == 1
    store.commit(2)
    assert (store.get(b"b"), store.changelog_offset) == (b"2", 2)


def test_many_keys_in_one_commit(store: BufferedStore) -> None:
    keys = [i.to_bytes(2, "big") for i in range(0, 1000, 3)]
    fill(store, reversed(keys))
    assert [key for key, _ in store.range()] == keys
    for key in keys[::2]:
        store.delete(key)
    store.put(b"\x00\x01", b"x")
    store.commit(2)
    assert [key for key, _ in store.range()] == sorted([*keys[1::2], b"\x00\x01"])
    assert store.approximate_num_entries() >= 0  # type: ignore[attr-defined]


def test_restore_writes_directly_and_records_the_offset(store: BufferedStore) -> None:
    fill(store, [b"gone", b"kept"])
    store.restore([(b"a", b"1"), (b"b", b"1"), (b"b", None), (b"gone", None), (b"a", b"2")], 40)
    assert store.pending() == []
    assert store.changelog_offset == 40
    assert list(store.range()) == [(b"a", b"2"), (b"kept", b"vkept")]
    store.restore([(b"c", b"3")], 41)
    store.rollback()  # restored records are not buffered: a rollback keeps them
    assert store.get(b"c") == b"3"
    assert store.changelog_offset == 41


def test_restore_refuses_a_store_with_uncommitted_writes(store: BufferedStore) -> None:
    store.put(b"a", b"1")
    with pytest.raises(StoreError, match="uncommitted writes"):
        store.restore([(b"b", b"2")], 5)
    assert store.get(b"b") is None


def test_closed_store_raises(open_store_again: Opener) -> None:
    store = open_store_again()
    store.put(b"a", b"1")
    store.close()
    store.close()  # idempotent
    uses: list[Callable[[], object]] = [
        lambda: store.get(b"a"),
        lambda: store.put(b"a", b"1"),
        lambda: store.delete(b"a"),
        store.range,
        lambda: store.commit(1),
        store.pending,
        lambda: store.restore([], 1),
    ]
    for use in uses:
        with pytest.raises(StoreClosedError, match="state store 'counts' is closed"):
            use()


def test_range_is_not_disturbed_by_commits_while_iterating(store: BufferedStore) -> None:
    fill(store, [b"a", b"b", b"c", b"d"])
    seen = []
    for key, _ in store.range():
        seen.append(key)
        if key == b"a":
            store.put(b"bb", b"x")
            store.commit(2)
    assert seen[:2] == [b"a", b"b"]
    assert seen[-2:] == [b"c", b"d"]
