"""A partition store in RocksDB (through rocksdict), surviving restarts.

Layout of one store's database::

    <task_dir>/<store name>/          one RocksDB database per store per task
        column family "default"       the store's keys and values, raw bytes
        column family "__tidal__"     local metadata, never ranged or logged:
            b"changelog_offset"       8 bytes big-endian signed

A commit is one ``WriteBatch`` holding the buffered writes and the offset, so
after any crash the data on disk and the offset it claims always agree.

Durability: the write-ahead log stays on and is not synced per commit. A
process crash loses nothing committed; a machine crash may lose the last
commits, in which case the offset on disk is older too and the runtime
replays the changelog from it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from rocksdict import (
    BlockBasedOptions,
    Cache,
    ColumnFamily,
    DBCompressionType,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
)

from tidal.streams.state._base import BufferedStore, Pair, StoreError, Write

__all__ = ["RocksDBPartitionStore", "StoreLockedError"]

_META_FAMILY = "__tidal__"
_OFFSET_KEY = b"changelog_offset"
_OFFSET = struct.Struct(">q")

# One block cache for every store of the process, as Kafka Streams advises:
# the number of tasks then does not multiply the memory spent on caching.
_SHARED_CACHE = Cache(128 * 1024 * 1024)


class StoreLockedError(StoreError):
    """Another store instance (in this process or another) holds the database's lock."""


def _options() -> Options:
    """RocksDB settings for a streaming workload: point reads, short ranges, steady writes."""
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    options.set_compression_type(DBCompressionType.lz4())
    # Commits are small and frequent; memtables absorb them and flush in the background.
    options.set_write_buffer_size(64 * 1024 * 1024)
    options.set_max_write_buffer_number(3)
    options.set_level_compaction_dynamic_level_bytes(True)
    options.set_max_background_jobs(2)
    # RocksDB's own info log otherwise grows without bound in the state directory.
    options.set_keep_log_file_num(2)
    options.set_max_log_file_size(8 * 1024 * 1024)
    table = BlockBasedOptions()
    table.set_block_cache(_SHARED_CACHE)
    table.set_bloom_filter(10, False)  # most gets look up one key; skip the misses
    table.set_cache_index_and_filter_blocks(True)
    table.set_pin_l0_filter_and_index_blocks_in_cache(True)
    options.set_block_based_table_factory(table)
    return options


class RocksDBPartitionStore(BufferedStore):
    """A :class:`~tidal.streams.PartitionStore` in a RocksDB database at ``path``.

    Opening creates the database when missing and reads back the changelog
    offset of the last commit. A database that another instance holds raises
    :class:`StoreLockedError`; one that cannot be read raises
    :class:`StoreError`; both name the path.

    Reads of committed keys go through a small cache of up to
    ``cache_entries`` keys (absent keys included), kept current by every
    commit and restore: a call into RocksDB costs microseconds, and streams
    read the same keys again and again.

    Close the store to release its lock; an unfinished :meth:`range` iterator
    keeps the database open until it is dropped.
    """

    __slots__ = ("_cache", "_cache_entries", "_db", "_meta", "_path")

    def __init__(self, name: str, path: Path | str, *, cache_entries: int = 8192) -> None:
        if cache_entries < 1:
            raise ValueError(f"cache_entries must be at least 1, got {cache_entries}")
        super().__init__(name)
        self._path = Path(path)
        self._db, self._meta, self._offset = _open(name, self._path)
        self._read = self._db.get
        self._cache: dict[bytes, bytes | None] = {}
        self._cache_entries = cache_entries

    @property
    def path(self) -> Path:
        """The database's directory."""
        return self._path

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, the buffered write first; None when absent or deleted."""
        pending = self._pending
        if key in pending:
            return pending[key]
        cache = self._cache
        if key in cache:
            return cache[key]
        value = self._read(key)
        if len(cache) >= self._cache_entries:
            cache.clear()  # cheaper than LRU bookkeeping on every read
        cache[key] = value
        return value

    def approximate_num_entries(self) -> int:
        """RocksDB's estimate of the number of committed keys."""
        return self._db.property_int_value("rocksdb.estimate-num-keys") or 0

    def _committed_range(
        self, start: bytes | None, end: bytes | None, reverse: bool
    ) -> Iterator[Pair]:
        read = ReadOptions()
        if end is not None:
            read.set_iterate_upper_bound(end)
        if not reverse:
            # Raw mode: keys are bytes, which rocksdict's stubs cannot say.
            return self._db.items(from_key=start, read_opt=read)  # type: ignore[return-value]
        # No set_iterate_lower_bound: rocksdict 0.3 applies it as an upper bound.
        return _down_to(self._db.items(backwards=True, read_opt=read), start)  # type: ignore[arg-type]

    def _write(self, writes: Iterable[Write], changelog_offset: int | None) -> None:
        batch = WriteBatch(raw_mode=True)
        cache = self._cache
        try:
            for key, value in writes:
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
                if key in cache:
                    cache[key] = value
            if changelog_offset is not None:
                batch.put(_OFFSET_KEY, _OFFSET.pack(changelog_offset), self._meta)
            self._db.write(batch)
        except BaseException:
            cache.clear()  # it may already hold values the failed batch did not write
            raise

    def _close(self) -> None:
        # The column family handle keeps the database (and its lock) alive until dropped.
        del self._meta
        self._cache.clear()
        self._db.close()


def _down_to(items: Iterator[Pair], start: bytes | None) -> Iterator[Pair]:
    """Stop a backwards iteration at the first key below ``start``."""
    for item in items:
        if start is not None and item[0] < start:
            return
        yield item


def _open(name: str, path: Path) -> tuple[Rdict, ColumnFamily, int | None]:
    """Open (or create) the database and read its changelog offset."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = _options()
    try:
        db = Rdict(str(path), options, column_families={_META_FAMILY: _options()})
    except Exception as exc:
        message = str(exc)
        kind = StoreLockedError if "lock" in message.lower() else StoreError
        raise kind(f"cannot open state store {name!r} at {path}: {message}") from exc
    try:
        meta_view = db.get_column_family(_META_FAMILY)
        raw = meta_view.get(_OFFSET_KEY)
        del meta_view
        meta = db.get_column_family_handle(_META_FAMILY)
        offset = None if raw is None else _OFFSET.unpack(raw)[0]
    except Exception as exc:
        db.close()
        raise StoreError(f"cannot read state store {name!r} at {path}: {exc}") from exc
    return db, meta, offset
