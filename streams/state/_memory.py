"""A partition store in a dict, for tests and for state rebuilt on every start.

The committed layer is a dict plus a sorted list of its keys, so that a range
is a binary search and a slice rather than a sort of the whole store.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator

from tidal.streams.state._base import BufferedStore, Pair, Write

__all__ = ["InMemoryPartitionStore"]

# Past this many keys added or removed in one commit, rebuilding the sorted key
# list in one pass beats moving its tail once per key.
_BULK = 64


class InMemoryPartitionStore(BufferedStore):
    """A :class:`~tidal.streams.PartitionStore` kept in memory.

    Nothing survives :meth:`close`; a task using it restores from the
    changelog on every start.

    >>> store = InMemoryPartitionStore("counts")
    >>> store.put(b"a", b"1")
    >>> store.get(b"a"), store.pending()
    (b'1', [(b'a', b'1')])
    >>> store.commit(changelog_offset=1)
    >>> store.pending(), store.changelog_offset
    ([], 1)
    """

    __slots__ = ("_data", "_keys")

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []  # the keys of _data, sorted
        self._read = self._data.get

    def approximate_num_entries(self) -> int:
        """The number of committed keys (exact here)."""
        return len(self._data)

    def _committed_range(
        self, start: bytes | None, end: bytes | None, reverse: bool
    ) -> Iterator[Pair]:
        keys = self._keys
        lo = 0 if start is None else bisect_left(keys, start)
        hi = len(keys) if end is None else bisect_left(keys, end)
        chosen = keys[lo:hi]  # a copy: commits while iterating cannot shift it
        if reverse:
            chosen.reverse()
        return _pairs(self._data, chosen)

    def _write(self, writes: Iterable[Write], changelog_offset: int | None) -> None:
        data = self._data
        existed: dict[bytes, bool] = {}  # key -> was it committed before these writes
        for key, value in writes:
            if key not in existed:
                existed[key] = key in data
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        added = [key for key, was in existed.items() if not was and key in data]
        removed = [key for key, was in existed.items() if was and key not in data]
        if removed or added:
            self._update_keys(added, removed)

    def _update_keys(self, added: list[bytes], removed: list[bytes]) -> None:
        keys = self._keys
        if len(removed) + len(added) > _BULK:
            gone = set(removed)
            kept = [key for key in keys if key not in gone] if gone else keys
            kept.extend(added)
            kept.sort()
            self._keys = kept
            return
        for key in removed:
            del keys[bisect_left(keys, key)]
        for key in added:
            insort(keys, key)

    def _close(self) -> None:
        self._data = {}
        self._keys = []
        self._read = self._data.get


def _pairs(data: dict[bytes, bytes], keys: list[bytes]) -> Iterator[Pair]:
    for key in keys:
        value = data.get(key)
        if value is not None:  # deleted by a commit made while iterating
            yield key, value
