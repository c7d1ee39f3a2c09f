"""``ProducerIdManager``: producer ids that are never handed out twice, and InitProducerId.

Ids are claimed in blocks, like Kafka's ``ProducerIdsBlock``: before the first
id of a block is given out, the block is recorded durably in
``<data dir>/producer-id-block``, in the JSON Kafka kept in ZooKeeper's
``/latest_producer_id_block``::

    {"version":1,"broker":0,"block_start":"1000","block_end":"1999"}

After a restart (clean or not) the next block starts after ``block_end``, so
the unused rest of the old block is skipped and no id is reused.

InitProducerId for a producer without a transactional id:

- no (producer id, epoch) → a new id at epoch 0;
- KIP-360 bump with the current (id, epoch) → the same id at epoch + 1, or a
  new id at epoch 0 when the epoch is exhausted (32767);
- a retry of a bump whose answer was lost (the epoch before the current one,
  or the exhausted epoch of an id that was replaced) → the current answer
  again;
- any other epoch of a known id → ``PRODUCER_FENCED`` (``INVALID_PRODUCER_EPOCH``
  for InitProducerId v0-3, which predate that code);
- an id this broker does not remember (issued before a restart, or idle longer
  than ``producer.id.expiration.ms``) → a new id at epoch 0, which is what
  Kafka answers every producer without a transactional id.

Thread-safe: one lock around allocation.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tidal.log.broker.producer._errors import (
    INVALID_PRODUCER_EPOCH,
    INVALID_REQUEST,
    NONE,
    PRODUCER_FENCED,
)
from tidal.log.broker.producer._state import DEFAULT_PRODUCER_ID_EXPIRATION_MS
from tidal.log.records import NO_PRODUCER_EPOCH, NO_PRODUCER_ID

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "MAX_PRODUCER_EPOCH",
    "PRODUCER_ID_BLOCK_FILE",
    "CorruptProducerIdBlockError",
    "InitProducerIdResult",
    "ProducerIdManager",
    "ProducerIdsBlock",
]

PRODUCER_ID_BLOCK_FILE = "producer-id-block"
#: Kafka's ``ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE``.
DEFAULT_BLOCK_SIZE = 1000
#: Epochs are int16; at this one a bump moves to a new producer id.
MAX_PRODUCER_EPOCH = 32767


class CorruptProducerIdBlockError(Exception):
    """The block file cannot be read: starting anyway could reuse ids."""


@dataclass(frozen=True, slots=True)
class ProducerIdsBlock:
    """A claimed range of producer ids, ``first_producer_id`` to ``last_producer_id``."""

    broker_id: int
    first_producer_id: int
    size: int

    @property
    def last_producer_id(self) -> int:
        """The last id of the block (inclusive)."""
        return self.first_producer_id + self.size - 1


@dataclass(frozen=True, slots=True)
class InitProducerIdResult:
    """The InitProducerId answer: an error code, or an id and epoch."""

    error: int
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


@dataclass(slots=True)
class _Issued:
    epoch: int
    last_epoch: int
    touched_ms: int
    previous_producer_id: int = NO_PRODUCER_ID


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ProducerIdManager:
    """Allocates producer ids under ``data_dir`` and answers InitProducerId.

    >>> ids = ProducerIdManager("/var/lib/tidal")      # doctest: +SKIP
    >>> ids.init_producer_id()                          # doctest: +SKIP
    InitProducerIdResult(error=0, producer_id=0, producer_epoch=0)
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        broker_id: int = 0,
        block_size: int = DEFAULT_BLOCK_SIZE,
        producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS,
        clock: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        if block_size < 1:
            raise ValueError(f"block size must be positive, not {block_size}")
        self.path = Path(data_dir) / PRODUCER_ID_BLOCK_FILE
        self.broker_id = broker_id
        self.block_size = block_size
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self.clock = clock
        self._lock = threading.Lock()
        previous = self._read_block()
        self._next_block_start = 0 if previous is None else previous.last_producer_id + 1
        self._block: ProducerIdsBlock | None = None
        self._next_id = 0
        self._issued: dict[int, _Issued] = {}
        self._replaced_by: dict[int, int] = {}

    @property
    def current_block(self) -> ProducerIdsBlock | None:
        """The block ids are given out from (None before the first id)."""
        return self._block

    # ---- allocation --------------------------------------------------------------

    def generate_producer_id(self) -> int:
        """A producer id never given out before, by this or an earlier run."""
        with self._lock:
            return self._generate()

    def _generate(self) -> int:
        if self._block is None or self._next_id > self._block.last_producer_id:
            block = ProducerIdsBlock(self.broker_id, self._next_block_start, self.block_size)
            self._write_block(block)
            self._block, self._next_id = block, block.first_producer_id
            self._next_block_start = block.last_producer_id + 1
        producer_id = self._next_id
        self._next_id += 1
        return producer_id

    def _read_block(self) -> ProducerIdsBlock | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
            if data.get("version") != 1:
                raise CorruptProducerIdBlockError(
                    f"{self.path}: unknown version {data.get('version')!r}"
                )
            start, end = int(data["block_start"]), int(data["block_end"])
            broker = int(data.get("broker", self.broker_id))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CorruptProducerIdBlockError(f"{self.path}: {e}") from e
        if start < 0 or end < start:
            raise CorruptProducerIdBlockError(f"{self.path}: bad block {start}..{end}")
        return ProducerIdsBlock(broker, start, end - start + 1)

    def _write_block(self, block: ProducerIdsBlock) -> None:
        text = json.dumps(
            {
                "version": 1,
                "broker": block.broker_id,
                "block_start": str(block.first_producer_id),
                "block_end": str(block.last_producer_id),
            },
            separators=(",", ":"),
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ---- InitProducerId ------------------------------------------------------------

    def init_producer_id(
        self,
        producer_id: int = NO_PRODUCER_ID,
        producer_epoch: int = NO_PRODUCER_EPOCH,
        *,
        version: int = 4,
    ) -> InitProducerIdResult:
        """Answer InitProducerId (request ``version``) for a producer without a
        transactional id; see the module docstring for the rules."""
        if (producer_id == NO_PRODUCER_ID) != (producer_epoch == NO_PRODUCER_EPOCH):
            return InitProducerIdResult(INVALID_REQUEST)
        with self._lock:
            now = self.clock()
            self._expire(now)
            if producer_id == NO_PRODUCER_ID:
                return self._new(now)
            issued = self._issued.get(producer_id)
            if issued is None:
                replacement = self._replaced_by.get(producer_id)
                if replacement is None:
                    return self._new(now)
                if producer_epoch == MAX_PRODUCER_EPOCH:  # the rotation's answer was lost
                    current = self._issued[replacement]
                    current.touched_ms = now
                    return InitProducerIdResult(NONE, replacement, current.epoch)
                return self._fenced(version)
            issued.touched_ms = now
            if producer_epoch == issued.epoch:
                if issued.epoch >= MAX_PRODUCER_EPOCH:
                    del self._issued[producer_id]
                    return self._new(now, previous=producer_id)
                issued.last_epoch, issued.epoch = issued.epoch, issued.epoch + 1
                return InitProducerIdResult(NONE, producer_id, issued.epoch)
            if producer_epoch == issued.last_epoch:  # the bump's answer was lost
                return InitProducerIdResult(NONE, producer_id, issued.epoch)
            return self._fenced(version)

    def _new(self, now: int, previous: int = NO_PRODUCER_ID) -> InitProducerIdResult:
        producer_id = self._generate()
        self._issued[producer_id] = _Issued(0, NO_PRODUCER_EPOCH, now, previous)
        if previous != NO_PRODUCER_ID:
            self._replaced_by[previous] = producer_id
        return InitProducerIdResult(NONE, producer_id, 0)

    @staticmethod
    def _fenced(version: int) -> InitProducerIdResult:
        # InitProducerId v0-3 clients do not know PRODUCER_FENCED (KafkaApis maps it too).
        return InitProducerIdResult(PRODUCER_FENCED if version >= 4 else INVALID_PRODUCER_EPOCH)

    def _expire(self, now: int) -> None:
        horizon = now - self.producer_id_expiration_ms
        stale = [pid for pid, issued in self._issued.items() if issued.touched_ms <= horizon]
        for pid in stale:
            issued = self._issued.pop(pid)
            self._replaced_by.pop(issued.previous_producer_id, None)
