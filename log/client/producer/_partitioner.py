"""Partitioners: Java's murmur2 for keyed records, sticky for null keys.

Keyed records go to ``toPositive(murmur2(key)) % partitions``, byte for byte
what Kafka's Java producer and librdkafka's ``murmur2``/``murmur2_random``
choose, so a Tidal producer and a Java one put each key in the same
partition. Records without a key stick to one partition until a batch for
it is full, then move on (KIP-480), which fills batches instead of spreading
tiny ones over every partition.

A custom partitioner is any callable
``(topic, key_bytes, all_partitions, available_partitions) -> partition``.

``murmur2`` is the compiled one of ``tidal.log.records._speedups`` when the
record speedups are on (``tidal.log.records._batch.SPEEDUPS``);
:func:`_murmur2_py` is the fallback and the reference tests hold it to.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from tidal.log.records._batch import SPEEDUPS

__all__ = [
    "DefaultPartitioner",
    "PartitionerFn",
    "RandomPartitioner",
    "murmur2",
    "murmur2_partition",
]

#: ``(topic, key, all_partitions, available_partitions) -> partition``
PartitionerFn = Callable[[str, bytes | None, Sequence[int], Sequence[int]], int]

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF


def _murmur2_py(data: bytes) -> int:
    """Kafka's ``Utils.murmur2`` as an unsigned 32-bit value.

    >>> hex(_murmur2_py(b"kafka"))
    '0xd067cf64'
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    whole = length & ~3
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


#: Kafka's ``Utils.murmur2`` of a key as an unsigned 32-bit value:
#: ``hex(murmur2(b"kafka")) == '0xd067cf64'``.
murmur2: Callable[[bytes], int] = _murmur2_py
if SPEEDUPS:
    from tidal.log.records._speedups import murmur2


def murmur2_partition(key: bytes, num_partitions: int) -> int:
    """``toPositive(murmur2(key)) % num_partitions`` (``& 0x7fffffff``, not abs)."""
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions


class DefaultPartitioner:
    """murmur2 for keys; sticky partitions for null keys (KIP-480).

    The producer calls :meth:`on_new_batch` when a record for the sticky
    partition could not join the open batch, which moves the topic on.
    """

    def __init__(self) -> None:
        self._sticky: dict[str, int] = {}

    def __call__(
        self,
        topic: str,
        key: bytes | None,
        all_partitions: Sequence[int],
        available: Sequence[int],
    ) -> int:
        if key is not None:
            return murmur2_partition(key, len(all_partitions))
        current = self._sticky.get(topic)
        if current is None:
            current = self._pick(topic, available or all_partitions, None)
        return current

    def on_new_batch(
        self, topic: str, previous: int, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        """Choose another sticky partition after ``previous`` filled a batch."""
        if self._sticky.get(topic) != previous:
            return self._sticky.get(topic, previous)
        return self._pick(topic, available or all_partitions, previous)

    def _pick(self, topic: str, choices: Sequence[int], previous: int | None) -> int:
        if len(choices) > 1 and previous is not None:
            choices = [p for p in choices if p != previous]
        chosen = random.choice(choices)
        self._sticky[topic] = chosen
        return chosen


class RandomPartitioner:
    """librdkafka's ``murmur2_random``: murmur2 for keys, a random available
    partition for each null-key record."""

    def __call__(
        self,
        topic: str,
        key: bytes | None,
        all_partitions: Sequence[int],
        available: Sequence[int],
    ) -> int:
        if key is not None:
            return murmur2_partition(key, len(all_partitions))
        return random.choice(available or all_partitions)
