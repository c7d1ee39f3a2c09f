"""The input of the Streams benchmarks (``streams.py``, ``streams_eos.py``): keyed JSON
orders and the per-key totals they add up to. Standard library only: ``streams.py``'s
peer workers import it in an environment without Tidal."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

__all__ = ["SEED", "expected_totals", "generate", "user_key"]

SEED = 20_260_521


def user_key(index: int) -> str:
    """The key of user ``index``."""
    return f"user-{index:05d}"


def generate(records: int, keys: int, seed: int = SEED) -> tuple[list[str], list[bytes]]:
    """Keys and JSON values of the input records, the same for a given seed."""
    rng = random.Random(seed)
    names = [user_key(i) for i in range(keys)]
    out_keys: list[str] = []
    values: list[bytes] = []
    for seq in range(records):
        user = names[rng.randrange(keys)]
        amount = rng.randint(1, 999)
        out_keys.append(user)
        values.append(b'{"user":"%s","amount":%d,"seq":%d}' % (user.encode(), amount, seq))
    return out_keys, values


def expected_totals(keys: Sequence[str], values: Sequence[bytes]) -> dict[str, tuple[int, int]]:
    """``(count, sum)`` per key, computed straight from the input."""
    totals: dict[str, list[int]] = {}
    for key, value in zip(keys, values, strict=True):
        amount = json.loads(value)["amount"]
        entry = totals.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += amount
    return {key: (c, s) for key, (c, s) in totals.items()}
