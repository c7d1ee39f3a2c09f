"""JSON text exactly as Kafka's Jackson-based ``JsonSerializer`` writes it.

Compact (no spaces), keys in the order given, strings escaped the way Jackson escapes
them: ``\\" \\\\ \\b \\t \\n \\f \\r``, other control characters as ``\\u00XX`` (upper-case
hex), characters outside the Basic Multilingual Plane as a ``\\uD83D\\uDE00`` surrogate pair,
everything else (including DEL and U+2028) as raw UTF-8. Numbers print like Java's
``toString``; bytes as standard padded base64.

Maps read back from JSON are ordered the way Java's ``HashMap`` iterates them
(:func:`java_hashmap_order`), because that is the order Kafka's converter writes them back in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["escape_string", "java_hashmap_order", "java_string_hash"]

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\U00010000-\U0010ffff]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04X}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


def escape_string(text: str) -> str:
    """``text`` as a quoted JSON string, escaped like Jackson."""
    if _NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


@lru_cache(maxsize=4096)
def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode`` (over UTF-16 code units, 32-bit overflow)."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return _int32(h)


def _java_hash(key: Any) -> int | None:
    if isinstance(key, str):
        return java_string_hash(key)
    if isinstance(key, bool):
        return 1231 if key else 1237
    if isinstance(key, int):
        if -(2**31) <= key < 2**31:
            return key
        return _int32((key & 0xFFFFFFFFFFFFFFFF) ^ ((key & 0xFFFFFFFFFFFFFFFF) >> 32))
    return None


def java_hashmap_order(keys: Iterable[Any]) -> list[Any] | None:
    """``keys`` in the order a ``java.util.HashMap`` filled with them iterates.

    Returns None when a key has no Java hash we can compute (the caller keeps its order).
    Bucket index order, insertion order within a bucket; the table starts at 16 buckets
    and doubles whenever it is more than 3/4 full, as in ``HashMap``.
    """
    items = list(keys)
    capacity = 16
    while len(items) > capacity * 3 // 4:
        capacity *= 2
    mask = capacity - 1
    ranked = []
    for position, key in enumerate(items):
        h = _java_hash(key)
        if h is None:
            return None
        spread = (h ^ ((h & 0xFFFFFFFF) >> 16)) & mask
        ranked.append((spread, position, key))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [key for _, _, key in ranked]
