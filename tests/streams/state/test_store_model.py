"""Each store against a dict model over random writes, commits, rollbacks and reopens."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tidal.streams.state import InMemoryPartitionStore, RocksDBPartitionStore
from tidal.streams.state._base import BufferedStore

KEYS = st.sampled_from([b"", b"\x00", b"a", b"ab", b"b", b"ba", b"\xff"]) | st.binary(max_size=2)
BOUNDS = st.none() | KEYS


class StoreModel(RuleBasedStateMachine):
    """The store must answer exactly like two dicts: committed and buffered."""

    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="tidal-store-model-"))
        self.store = self.open()
        self.committed: dict[bytes, bytes] = {}
        self.buffered: dict[bytes, bytes | None] = {}
        self.offset: int | None = None
        self.next_offset = 0

    def open(self) -> BufferedStore:
        if self.kind == "memory":
            return InMemoryPartitionStore("model")
        return RocksDBPartitionStore("model", self.directory / "model")

    def view(self) -> dict[bytes, bytes]:
        merged = dict(self.committed)
        for key, value in self.buffered.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged

    @rule(key=KEYS, value=st.binary(max_size=3))
    def put(self, key: bytes, value: bytes) -> None:
        self.store.put(key, value)
        self.buffered.pop(key, None)
        self.buffered[key] = value

    @rule(key=KEYS)
    def delete(self, key: bytes) -> None:
        self.store.delete(key)
        self.buffered.pop(key, None)
        self.buffered[key] = None

    @rule(logged=st.booleans())
    def commit(self, logged: bool) -> None:
        assert list(self.store.pending()) == list(self.buffered.items())
        self.committed = self.view()
        self.buffered.clear()
        if logged:
            self.next_offset += 1
            self.offset = self.next_offset
        self.store.commit(self.offset if logged else None)

    @rule()
    def rollback(self) -> None:
        self.store.rollback()
        self.buffered.clear()

    @rule(records=st.lists(st.tuples(KEYS, st.none() | st.binary(max_size=3)), max_size=5))
    def restore(self, records: list[tuple[bytes, bytes | None]]) -> None:
        self.rollback()
        self.next_offset += 1
        self.store.restore(records, self.next_offset)
        for key, value in records:
            if value is None:
                self.committed.pop(key, None)
            else:
                self.committed[key] = value
        self.offset = self.next_offset

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = self.open()
        self.buffered.clear()
        if self.kind == "memory":  # nothing survives; the changelog would refill it
            self.committed.clear()
            self.offset = None

    @rule(key=KEYS)
    def get(self, key: bytes) -> None:
        assert self.store.get(key) == self.view().get(key)

    @rule(start=BOUNDS, end=BOUNDS, reverse=st.booleans())
    def range(self, start: bytes | None, end: bytes | None, reverse: bool) -> None:
        want = sorted(
            (key, value)
            for key, value in self.view().items()
            if (start is None or key >= start) and (end is None or key < end)
        )
        if reverse:
            want.reverse()
        assert list(self.store.range(start, end, reverse=reverse)) == want

    @invariant()
    def offset_and_pending_agree(self) -> None:
        assert self.store.changelog_offset == self.offset
        assert list(self.store.pending()) == list(self.buffered.items())

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class RocksDBStoreModel(StoreModel):
    kind = "rocksdb"


TestInMemoryStoreModel = StoreModel.TestCase
TestInMemoryStoreModel.settings = settings(max_examples=150, stateful_step_count=40)
TestRocksDBStoreModel = RocksDBStoreModel.TestCase
TestRocksDBStoreModel.settings = settings(max_examples=40, stateful_step_count=30)
