"""What both partition stores share: the write buffer and the merged range.

A store keeps two layers. The *committed* layer is the memory dict or the
RocksDB database; the *buffer* is a dict of the writes made since the last
commit, ``None`` marking a delete. Reads look in the buffer first. A commit
hands the buffer to the committed layer in one step with the changelog
offset; a rollback forgets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import NoReturn

from tidal.streams._contract import StreamsError

__all__ = ["StoreClosedError", "StoreError"]

Pair = tuple[bytes, bytes]
Write = tuple[bytes, bytes | None]

_by_key = itemgetter(0)


class StoreError(StreamsError):
    """A state store cannot be opened or used (corrupt, locked, closed...)."""


class StoreClosedError(StoreError):
    """The store was closed; the task that owned it is gone."""


class _ClosedBuffer(dict[bytes, bytes | None]):
    """Stands in for a closed store's buffer so that any use raises.

    Every store method touches the buffer first, so swapping it in at close
    makes a closed store fail loudly at no cost to the open store's hot path.
    """

    __slots__ = ("_message",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self._message = f"state store {name!r} is closed"

    def _closed(self, *_: object) -> NoReturn:
        raise StoreClosedError(self._message)

    __contains__ = __getitem__ = __setitem__ = __delitem__ = __len__ = __iter__ = _closed
    get = pop = items = keys = values = clear = _closed


class BufferedStore:
    """A :class:`~tidal.streams.PartitionStore` minus its committed layer.

    Subclasses set ``_read`` (a committed-layer ``get``) and implement
    ``_committed_range``, ``_write`` and ``_close``.
    """

    __slots__ = ("_name", "_offset", "_pending", "_read")

    _read: Callable[[bytes], bytes | None]

    def __init__(self, name: str) -> None:
        self._name = name
        self._offset: int | None = None
        self._pending: dict[bytes, bytes | None] = {}

    @property
    def name(self) -> str:
        """The store's name, as in its :class:`~tidal.streams.StoreSpec`."""
        return self._name

    @property
    def changelog_offset(self) -> int | None:
        """The next changelog offset this store has applied (None: nothing yet)."""
        return self._offset

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, the buffered write first; None when absent or deleted."""
        pending = self._pending
        if key in pending:
            return pending[key]
        return self._read(key)

    def put(self, key: bytes, value: bytes) -> None:
        """Buffer ``key = value`` until the next commit."""
        pending = self._pending
        # Moved to the end: pending() lists keys in the order of their last writes,
        # the order a compacted changelog of every write would keep.
        pending.pop(key, None)
        pending[key] = value

    def delete(self, key: bytes) -> None:
        """Buffer the deletion of ``key`` until the next commit."""
        pending = self._pending
        pending.pop(key, None)
        pending[key] = None

    def pending(self) -> Sequence[Write]:
        """The buffered writes in the order of their last write; None is a delete."""
        return list(self._pending.items())

    def rollback(self) -> None:
        """Forget the buffered writes."""
        self._pending.clear()

    def range(
        self, start: bytes | None = None, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[Pair]:
        """Pairs with ``start <= key < end`` by key bytes, committed and buffered merged.

        The buffered writes are read when the call is made; writes made while
        iterating may or may not appear.
        """
        buffered = [
            item
            for item in self._pending.items()
            if (start is None or item[0] >= start) and (end is None or item[0] < end)
        ]
        committed = self._committed_range(start, end, reverse)
        if not buffered:
            return committed
        buffered.sort(key=_by_key, reverse=reverse)
        return _merge(committed, buffered, reverse)

    def commit(self, changelog_offset: int | None) -> None:
        """Write the buffered writes and ``changelog_offset`` in one atomic step.

        ``changelog_offset=None`` (a store without changelog) keeps the stored offset.
        """
        pending = self._pending
        if pending or (changelog_offset is not None and changelog_offset != self._offset):
            self._write(pending.items(), changelog_offset)
            pending.clear()
        if changelog_offset is not None:
            self._offset = changelog_offset

    def restore(self, records: Iterable[Write], next_offset: int) -> None:
        """Apply changelog records straight to the committed layer with ``next_offset``."""
        if self._pending:
            raise StoreError(
                f"cannot restore state store {self._name!r}: it holds uncommitted writes"
            )
        # The last record of a key decides its state; the committed layers rely on
        # seeing each key once.
        self._write(dict(records).items(), next_offset)
        self._offset = next_offset

    def close(self) -> None:
        """Drop the buffered writes and release the store; later use raises."""
        if isinstance(self._pending, _ClosedBuffer):
            return
        self._pending = _ClosedBuffer(self._name)
        self._close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, changelog_offset={self._offset})"

    # ---- the committed layer --------------------------------------------------------

    def _committed_range(
        self, start: bytes | None, end: bytes | None, reverse: bool
    ) -> Iterator[Pair]:
        raise NotImplementedError

    def _write(self, writes: Iterable[Write], changelog_offset: int | None) -> None:
        """Apply ``writes`` (each key once) and the offset (when not None) atomically."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


def _merge(committed: Iterator[Pair], buffered: list[Write], reverse: bool) -> Iterator[Pair]:
    """Merge two key-ordered streams; the buffered write wins, None hides the key."""
    queue = iter(buffered)
    head: Write | None = next(queue, None)
    for key, value in committed:
        while head is not None and (head[0] > key if reverse else head[0] < key):
            if head[1] is not None:
                yield head[0], head[1]
            head = next(queue, None)
        if head is not None and head[0] == key:
            if head[1] is not None:
                yield key, head[1]
            head = next(queue, None)
        else:
            yield key, value
    while head is not None:
        if head[1] is not None:
            yield head[0], head[1]
        head = next(queue, None)


def check_store_name(name: str) -> str:
    """``name`` if it can name a directory under a task's state directory."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"invalid state store name {name!r}: it names a directory")
    return name
