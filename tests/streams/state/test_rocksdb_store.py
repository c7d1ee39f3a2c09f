"""What only the RocksDB store promises: persistence, locking, clear open errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tidal.streams._contract import StoreSpec
from tidal.streams.state import (
    InMemoryPartitionStore,
    RocksDBPartitionStore,
    StoreError,
    StoreLockedError,
    open_store,
)


def test_reopen_keeps_committed_data_and_offset_and_drops_the_buffer(tmp_path: Path) -> None:
    store = RocksDBPartitionStore("counts", tmp_path / "counts")
    store.put(b"a", b"1")
    store.put(b"b", b"2")
    store.commit(5)
    store.delete(b"a")
    store.put(b"c", b"uncommitted")
    store.close()

    again = RocksDBPartitionStore("counts", tmp_path / "counts")
    try:
        assert again.changelog_offset == 5
        assert list(again.range()) == [(b"a", b"1"), (b"b", b"2")]
        assert again.pending() == []
    finally:
        again.close()


def test_restored_offset_survives_reopen(tmp_path: Path) -> None:
    store = RocksDBPartitionStore("counts", tmp_path / "counts")
    store.restore([(b"k", b"v")], 99)
    store.close()
    again = RocksDBPartitionStore("counts", tmp_path / "counts")
    assert (again.get(b"k"), again.changelog_offset) == (b"v", 99)
    again.close()


def test_offset_is_never_a_key(tmp_path: Path) -> None:
    store = RocksDBPartitionStore("counts", tmp_path / "counts")
    store.commit(3)
    assert list(store.range()) == []
    assert store.get(b"changelog_offset") is None
    store.put(b"changelog_offset", b"user data")
    store.commit(4)
    store.close()
    again = RocksDBPartitionStore("counts", tmp_path / "counts")
    assert list(again.range()) == [(b"changelog_offset", b"user data")]
    assert again.changelog_offset == 4
    assert again.approximate_num_entries() == 1
    again.close()


def test_second_open_is_refused_until_close(tmp_path: Path) -> None:
    path = tmp_path / "counts"
    store = RocksDBPartitionStore("counts", path)
    list(store.range())
    with pytest.raises(StoreLockedError, match=f"'counts' at {path}"):
        RocksDBPartitionStore("counts", path)
    store.close()
    RocksDBPartitionStore("counts", path).close()


def test_corrupt_database_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "counts"
    store = RocksDBPartitionStore("counts", path)
    store.put(b"a", b"1")
    store.commit(1)
    store.close()
    (path / "CURRENT").write_bytes(b"\x00garbage")
    with pytest.raises(StoreError, match=f"cannot open state store 'counts' at {path}") as info:
        RocksDBPartitionStore("counts", path)
    assert not isinstance(info.value, StoreLockedError)


def test_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "counts"
    path.write_text("not a database")
    with pytest.raises(StoreError, match=str(path)):
        RocksDBPartitionStore("counts", path)


def test_commits_survive_a_killed_process_together_with_their_offset(tmp_path: Path) -> None:
    # The child commits batch i (keys k0..ki all set to i) with offset i+1, then
    # dies without closing. Whatever it got to disk, the offset must describe it.
    path = tmp_path / "counts"
    child = textwrap.dedent(
        f"""
        import os
        from tidal.streams.state import RocksDBPartitionStore
        store = RocksDBPartitionStore("counts", {str(path)!r})
        for i in range(200):
            for j in range(i + 1):
                store.put(b"k%d" % j, b"%d" % i)
            store.commit(i + 1)
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    store = RocksDBPartitionStore("counts", path)
    try:
        offset = store.changelog_offset
        assert offset == 200
        assert dict(store.range()) == {b"k%d" % j: b"199" for j in range(200)}
    finally:
        store.close()


def test_open_store_chooses_by_kind(tmp_path: Path) -> None:
    rocks = open_store(StoreSpec("counts", "app-counts-changelog"), tmp_path / "0_1")
    assert isinstance(rocks, RocksDBPartitionStore)
    assert rocks.path == tmp_path / "0_1" / "counts"
    assert (tmp_path / "0_1" / "counts").is_dir()
    rocks.close()
    memory = open_store(StoreSpec("counts", None, kind="memory"), tmp_path / "0_1")
    assert isinstance(memory, InMemoryPartitionStore)
    assert memory.name == "counts"


@pytest.mark.parametrize("name", ["", "..", "a/b", "a\\b"])
def test_open_store_refuses_names_that_escape_the_task_dir(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid state store name"):
        open_store(StoreSpec(name, None), tmp_path)


def test_open_store_refuses_unknown_kinds(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown kind 'redis'; valid kinds: memory, rocksdb"):
        open_store(StoreSpec("counts", None, kind="redis"), tmp_path)


@pytest.mark.parametrize("cache_entries", [1, 2, 8192])
def test_read_cache_follows_commits_and_restores(tmp_path: Path, cache_entries: int) -> None:
    store = RocksDBPartitionStore("counts", tmp_path / "counts", cache_entries=cache_entries)
    store.put(b"a", b"1")
    store.put(b"b", b"1")
    store.commit(1)
    assert (store.get(b"a"), store.get(b"b"), store.get(b"c")) == (b"1", b"1", None)
    store.put(b"a", b"2")
    store.delete(b"b")
    store.put(b"c", b"2")
    store.commit(2)
    assert (store.get(b"a"), store.get(b"b"), store.get(b"c")) == (b"2", None, b"2")
    store.restore([(b"a", None), (b"b", b"3")], 3)
    assert (store.get(b"a"), store.get(b"b"), store.get(b"c")) == (None, b"3", b"2")
    store.close()


def test_failed_write_leaves_no_stale_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RocksDBPartitionStore("counts", tmp_path / "counts")
    store.put(b"a", b"1")
    store.commit(1)
    assert store.get(b"a") == b"1"  # now cached
    store.put(b"a", b"2")

    class FailingDb:
        def __init__(self, db: object) -> None:
            self._db = db

        def write(self, batch: object) -> None:
            raise OSError("disk full")

    real = store._db
    monkeypatch.setattr(store, "_db", FailingDb(real))
    with pytest.raises(OSError, match="disk full"):
        store.commit(2)
    monkeypatch.setattr(store, "_db", real)
    store.rollback()
    assert store.get(b"a") == b"1"
    store.close()


def test_cache_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cache_entries must be at least 1, got 0"):
        RocksDBPartitionStore("counts", tmp_path / "counts", cache_entries=0)
