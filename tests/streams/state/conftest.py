"""One fixture, two stores: every store test runs against memory and RocksDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tidal.streams.state import InMemoryPartitionStore, RocksDBPartitionStore
from tidal.streams.state._base import BufferedStore

Opener = Callable[[], BufferedStore]


@pytest.fixture(params=["memory", "rocksdb"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def open_store_again(store_kind: str, tmp_path: Path) -> Opener:
    """Opens the store of this test; for RocksDB, the same database every time."""
    if store_kind == "memory":
        return lambda: InMemoryPartitionStore("counts")
    return lambda: RocksDBPartitionStore("counts", tmp_path / "counts")


@pytest.fixture
def store(open_store_again: Opener) -> Iterator[BufferedStore]:
    opened = open_store_again()
    yield opened
    opened.close()
