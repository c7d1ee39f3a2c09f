"""Choosing and opening the store a :class:`~tidal.streams.StoreSpec` asks for."""

from __future__ import annotations

from pathlib import Path

from tidal.streams._contract import PartitionStore, StoreSpec
from tidal.streams.state._base import check_store_name
from tidal.streams.state._memory import InMemoryPartitionStore
from tidal.streams.state._rocksdb import RocksDBPartitionStore

__all__ = ["STORE_KINDS", "open_store"]

#: The values :attr:`StoreSpec.kind` may take.
STORE_KINDS = ("memory", "rocksdb")


def open_store(spec: StoreSpec, task_dir: Path) -> PartitionStore:
    """Open one task's instance of the store ``spec`` describes.

    ``"rocksdb"`` opens (or creates) the database at ``task_dir/<spec.name>``;
    ``"memory"`` starts empty and ignores ``task_dir``. Raises ValueError for
    another kind or a name that cannot name a directory.
    """
    name = check_store_name(spec.name)
    if spec.kind == "rocksdb":
        return RocksDBPartitionStore(name, Path(task_dir) / name)
    if spec.kind == "memory":
        return InMemoryPartitionStore(name)
    raise ValueError(
        f"state store {spec.name!r} has unknown kind {spec.kind!r}; "
        f"valid kinds: {', '.join(STORE_KINDS)}"
    )
