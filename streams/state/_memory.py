"""A partition store in a dict, for tests and for state rebuilt on every start.

The committed layer is a dict plus a sorted list of its keys, so that a range
is a binary search and a slice. Commits only note which keys came and went;
the list catches up at the next range, so stores that are never ranged (most
aggregations) never pay for ordering.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from tidal.streams.state._base import BufferedStore, Pair, Write

__all__ = ["InMemoryPartitionStore"]


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

    __slots__ = ("_added", "_data", "_keys", "_removed")

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []  # the keys of _data, sorted, once _sync_keys() ran
        self._added: list[bytes] = []  # keys committed since, not in _keys
        self._removed = False  # whether keys of _keys were deleted since
        self._read = self._data.get

    def approximate_num_entries(self) -> int:
        """The number of committed keys (exact here)."""
        return len(self._data)

    def _committed_range(
        self, start: bytes | None, end: bytes | None, reverse: bool
    ) -> Iterator[Pair]:
        if self._added or self._removed:
            self._sync_keys()
        keys = self._keys
        lo = 0 if start is None else bisect_left(keys, start)
        hi = len(keys) if end is None else bisect_left(keys, end)
        chosen = keys[lo:hi]  # a copy: commits while iterating cannot shift it
        if reverse:
            chosen.reverse()
        return _pairs(self._data, chosen)

    def _write(self, writes: Iterable[Write], changelog_offset: int | None) -> None:
        # Each key appears once in ``writes`` (a commit's buffer, a deduplicated restore).
        data = self._data
        added = self._added
        for key, value in writes:
            if value is None:
                if data.pop(key, None) is not None:
                    self._removed = True
            elif key in data:
                data[key] = value
            else:
                data[key] = value
                added.append(key)

    def _sync_keys(self) -> None:
        """Bring the sorted key list up to date with the committed dict."""
        data = self._data
        keys = self._keys
        if self._removed:
            # A key deleted and written again can sit in both lists: keep one.
            fresh = {key for key in self._added if key in data}
            keys = [key for key in keys if key in data and key not in fresh]
            added = sorted(fresh)
        else:
            added = sorted(self._added)
        # Two sorted runs: this sort is one linear merge.
        keys.extend(added)
        keys.sort()
        self._keys = keys
        self._added = []
        self._removed = False

    def _close(self) -> None:
        self._data = {}
        self._keys = []
        self._added = []
        self._read = self._data.get


def _pairs(data: dict[bytes, bytes], keys: list[bytes]) -> Iterator[Pair]:
    for key in keys:
        value = data.get(key)
        if value is not None:  # deleted by a commit made while iterating
            yield key, value
