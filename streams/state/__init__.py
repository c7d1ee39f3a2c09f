"""State stores: one key-value store per store per task, committed with the changelog.

* :class:`RocksDBPartitionStore` and :class:`InMemoryPartitionStore` implement
  :class:`~tidal.streams.PartitionStore` at the bytes level: reads see the
  buffered writes, :meth:`~tidal.streams.PartitionStore.commit` writes them
  with the changelog offset atomically;
* :func:`open_store` opens the kind a :class:`~tidal.streams.StoreSpec` asks for;
* :class:`KeyValueStore` is the typed view processors use;
  :class:`ReadOnlyKeyValueStore` reads all local instances of a store for
  interactive queries.
"""

from tidal.streams.state._base import StoreClosedError, StoreError
from tidal.streams.state._memory import InMemoryPartitionStore
from tidal.streams.state._open import STORE_KINDS, open_store
from tidal.streams.state._rocksdb import RocksDBPartitionStore, StoreLockedError
from tidal.streams.state._views import (
    KeyValueStore,
    ReadOnlyKeyValueStore,
    SupportsApproximateCount,
)

__all__ = [
    "STORE_KINDS",
    "InMemoryPartitionStore",
    "KeyValueStore",
    "ReadOnlyKeyValueStore",
    "RocksDBPartitionStore",
    "StoreClosedError",
    "StoreError",
    "StoreLockedError",
    "SupportsApproximateCount",
    "open_store",
]
