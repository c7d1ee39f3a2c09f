"""Serdes for structured values: JSON (orjson) and MessagePack (msgpack).

MessagePack is the default serde of internal topics and state stores: it is
compact, fast, and keeps ``bytes`` apart from ``str``. Both serdes read back
lists where tuples were written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack
import orjson

from tidal.log.records import _batch
from tidal.streams.serdes._base import Serde, SerializationError, _preview

__all__ = ["JsonSerde", "MsgpackSerde"]


def _copy_exact(data: bytes) -> bytes:
    """A copy of ``data`` whose allocation fits its length."""
    return bytes(memoryview(data))


_compact: Callable[[bytes], bytes] = _copy_exact
if _batch.SPEEDUPS:
    from tidal.log.records._speedups import compact_bytes

    _compact = compact_bytes


class JsonSerde(Serde[Any]):
    """JSON in UTF-8 through orjson.

    ``option`` is a bitwise OR of ``orjson.OPT_*`` flags for writing, for
    example ``orjson.OPT_SORT_KEYS`` for a canonical form.
    """

    __slots__ = ("_option",)

    def __init__(self, *, option: int | None = None) -> None:
        self._option = option

    def serialize(self, obj: Any) -> bytes | None:
        """The JSON bytes of ``obj``."""
        if obj is None:
            return None
        try:
            # orjson's answer carries 1-4 KiB of spare capacity per value; a
            # buffered state write or pending output would keep it all alive.
            return _compact(orjson.dumps(obj, option=self._option))
        except orjson.JSONEncodeError as exc:
            raise SerializationError(f"JsonSerde cannot serialize {obj!r}: {exc}") from exc

    def deserialize(self, data: bytes | None) -> Any:
        """The value the JSON in ``data`` holds."""
        if data is None:
            return None
        try:
            return orjson.loads(data)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise SerializationError(
                f"JsonSerde expects JSON, got {_preview(data)}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return "JsonSerde()" if self._option is None else f"JsonSerde(option={self._option})"


_UNPACK_ERRORS = (ValueError, TypeError, msgpack.UnpackException, RecursionError)


class MsgpackSerde(Serde[Any]):
    """MessagePack through msgpack, with ``bytes`` and ``str`` kept distinct.

    Map keys may be any hashable msgpack value (ints, bytes...), not only str.
    """

    __slots__ = ("_pack",)

    def __init__(self) -> None:
        # A reused Packer is twice as fast as msgpack.packb on small values;
        # it holds the GIL for the whole call (no ``default`` hook), so one
        # instance is safe to share between threads.
        self._pack = msgpack.Packer(use_bin_type=True).pack

    def serialize(self, obj: Any) -> bytes | None:
        """The MessagePack bytes of ``obj``."""
        if obj is None:
            return None
        try:
            data: bytes = self._pack(obj)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"MsgpackSerde cannot serialize {obj!r}: {exc}") from exc
        return data

    def deserialize(self, data: bytes | None) -> Any:
        """The value the MessagePack in ``data`` holds."""
        if data is None:
            return None
        try:
            return msgpack.unpackb(data, raw=False, strict_map_key=False)
        except _UNPACK_ERRORS as exc:
            raise SerializationError(
                f"MsgpackSerde expects MessagePack, got {_preview(data)}: {exc!r}"
            ) from exc

    def __repr__(self) -> str:
        return "MsgpackSerde()"
