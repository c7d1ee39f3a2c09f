"""Where the group coordinator keeps ``__consumer_offsets``, and replaying it.

The coordinator only appends record batches to a partition and, at start,
reads a partition back from its beginning. ``LogOffsetsStorage`` does that
over the storage engine's ``LogManager`` (a compacted topic, as in Kafka);
``MemoryOffsetsStorage`` keeps batches in lists for tests.

``replay`` rebuilds groups and offsets as Kafka loads them: records apply in
offset order per partition, a value replacing what its key held and a
tombstone removing it. A group comes back when its metadata survived or when
it still has offsets (groups that only store offsets, with no metadata
record, come back Empty). It does not need the event loop, so the
coordinator replays on a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from tidal.log.broker.group._records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetAndMetadata,
    OffsetCommitKey,
    PendingTxnOffset,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
)
from tidal.log.broker.group._wire import CorruptGroupRecordError
from tidal.log.records import (
    ControlRecordType,
    EndTransactionMarker,
    Record,
    RecordsError,
    decode_batch,
    iter_batches,
)
from tidal.log.storage import LogConfig, LogManager, PartitionLog

__all__ = [
    "OFFSETS_TOPIC",
    "LoadedGroup",
    "LogOffsetsStorage",
    "MemoryOffsetsStorage",
    "OffsetsTopicStorage",
    "apply_committed",
    "offsets_topic_config",
    "replay",
]

_log = logging.getLogger("tidal.log.broker.group")

#: Kafka's internal topic for group metadata and committed offsets.
OFFSETS_TOPIC = "__consumer_offsets"

_READ_CHUNK = 1 << 20


class OffsetsTopicStorage(Protocol):
    """Append-and-replay access to the partitions of ``__consumer_offsets``."""

    def append(self, partition: int, batch: bytes) -> None:
        """Append one record batch to ``partition``; raises on failure.

        The coordinator answers a commit only after this returns.
        """

    def read(self, partition: int) -> Iterator[bytes]:
        """The partition's batches from its start, in offset order, as buffers
        of whole batches (a partition never written yields nothing)."""


class MemoryOffsetsStorage:
    """``OffsetsTopicStorage`` in lists, for tests; ``fail`` makes appends raise."""

    def __init__(self) -> None:
        self.batches: dict[int, list[bytes]] = {}
        self.fail: Exception | None = None

    def append(self, partition: int, batch: bytes) -> None:
        """Keep ``batch`` in memory."""
        if self.fail is not None:
            raise self.fail
        self.batches.setdefault(partition, []).append(bytes(batch))

    def read(self, partition: int) -> Iterator[bytes]:
        """The batches appended to ``partition``."""
        yield from list(self.batches.get(partition, ()))


def offsets_topic_config(segment_bytes: int = 104857600) -> LogConfig:
    """The topic config Kafka gives ``__consumer_offsets``: compacted, 100 MiB segments
    (``offsets.topic.segment.bytes``)."""
    return LogConfig.from_properties(
        {"cleanup.policy": "compact", "segment.bytes": str(segment_bytes)}
    )


class LogOffsetsStorage:
    """``OffsetsTopicStorage`` over a ``LogManager``.

    Partitions are created on first append with ``config`` (default
    :func:`offsets_topic_config`). A single node commits on append, so the
    high watermark follows the log end offset.
    """

    def __init__(
        self, manager: LogManager, config: LogConfig | None = None, topic: str = OFFSETS_TOPIC
    ) -> None:
        self.manager = manager
        self.config = config if config is not None else offsets_topic_config()
        self.topic = topic
        # The log manager opens every directory with the broker's topic
        # defaults (delete policy, 7-day retention); an internal topic is not
        # in the topic registry, so its compacted config is applied here.
        for (name, _), log in manager.logs().items():
            if name == topic:
                log.update_config(self.config)

    def _log(self, partition: int) -> PartitionLog:
        log = self.manager.get_log(self.topic, partition)
        if log is None:
            log = self.manager.get_or_create_log(self.topic, partition, self.config)
        return log

    def append(self, partition: int, batch: bytes) -> None:
        """Append as the leader and advance the high watermark."""
        log = self._log(partition)
        log.append(batch, from_producer=False)
        log.high_watermark = log.log_end_offset

    def read(self, partition: int) -> Iterator[bytes]:
        """Read the partition in chunks of about 1 MiB of whole batches."""
        log = self.manager.get_log(self.topic, partition)
        if log is None:
            return
        offset = log.log_start_offset
        while offset < log.log_end_offset:
            data = log.read_bytes(offset, _READ_CHUNK)
            next_offset = offset
            for header in iter_batches(data):
                next_offset = header.next_offset
            if next_offset <= offset:
                return
            yield data
            offset = next_offset


# ---- replay ----------------------------------------------------------------------------


def apply_committed(
    offsets: dict[tuple[str, int], OffsetAndMetadata],
    positions: dict[tuple[str, int], int],
    pending: dict[tuple[str, int], PendingTxnOffset],
) -> None:
    """Apply a committed transaction's offsets: Kafka's
    ``GroupMetadata.completePendingTxnOffsetCommit``. An offset replaces the
    committed one only if its record was appended after that one's; a plain
    OffsetCommit written while the transaction was open is newer and stays."""
    for tp, entry in pending.items():
        if positions.get(tp, -1) < entry.position:
            offsets[tp] = entry.value
            positions[tp] = entry.position


@dataclass(slots=True)
class LoadedGroup:
    """What the log holds for one group."""

    group_id: str
    metadata: GroupMetadataValue | None = None
    offsets: dict[tuple[str, int], OffsetAndMetadata] = field(default_factory=dict)
    #: the append order of the batch behind each of ``offsets``
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    #: offsets of transactions with no marker yet, by producer id
    pending: dict[int, dict[tuple[str, int], PendingTxnOffset]] = field(default_factory=dict)


#: a record and the append order of its batch
_Positioned = tuple[int, Record]


def _partition_records(
    storage: OffsetsTopicStorage, partition: int, appended: int
) -> tuple[list[_Positioned], dict[int, list[_Positioned]], int]:
    """The records that apply, in log order, the records of transactions
    still open at the end, by producer id, and the batches counted so far
    (``appended`` before this partition): each record carries its batch's
    number in that count, which orders batches as their offsets do.

    A transactional offset commit applies where its COMMIT marker is (if no
    later plain commit replaced it, see ``_apply``); an aborted one never does.
    """
    records: list[_Positioned] = []
    open_txns: dict[int, list[_Positioned]] = {}
    for chunk in storage.read(partition):
        pos = 0
        for header in iter_batches(chunk):
            appended += 1
            if header.is_control:
                pending = open_txns.pop(header.producer_id, None)
                if pending is not None:
                    marker = EndTransactionMarker.from_batch(decode_batch(chunk, pos))
                    if marker.type == ControlRecordType.COMMIT:
                        records.extend(pending)
            else:
                batch = [(appended, r) for r in decode_batch(chunk, pos).records]
                if header.is_transactional:
                    open_txns.setdefault(header.producer_id, []).extend(batch)
                else:
                    records.extend(batch)
            pos += header.size
    return records, open_txns, appended


def replay(storage: OffsetsTopicStorage, num_partitions: int) -> dict[str, LoadedGroup]:
    """Replay every partition; returns the surviving groups by id.

    A record that does not parse is logged and skipped (Kafka fails the load;
    one bad record should not cost every other group its offsets).
    """
    groups: dict[str, LoadedGroup] = {}
    appended = 0
    for partition in range(num_partitions):
        try:
            records, open_txns, appended = _partition_records(storage, partition, appended)
        except RecordsError:
            _log.exception("skipping the rest of __consumer_offsets-%d: corrupt batch", partition)
            continue
        for position, record in records:
            try:
                _apply(groups, position, record)
            except CorruptGroupRecordError as exc:
                _log.warning(
                    "skipping record at offset %d of __consumer_offsets-%d: %s",
                    record.offset,
                    partition,
                    exc,
                )
        for producer_id, pending in open_txns.items():
            for position, record in pending:
                try:
                    _apply_pending(groups, producer_id, position, record)
                except CorruptGroupRecordError as exc:
                    _log.warning("skipping a pending transactional offset: %s", exc)
    return {
        group_id: group
        for group_id, group in groups.items()
        if group.metadata is not None or group.offsets or group.pending
    }


def _apply_pending(
    groups: dict[str, LoadedGroup], producer_id: int, position: int, record: Record
) -> None:
    if record.key is None or record.value is None:
        return
    key = decode_key(record.key)
    if isinstance(key, OffsetCommitKey):
        group = groups.setdefault(key.group, LoadedGroup(key.group))
        pending = group.pending.setdefault(producer_id, {})
        value = decode_offset_commit_value(record.value)
        pending[(key.topic, key.partition)] = PendingTxnOffset(position, value)


def _apply(groups: dict[str, LoadedGroup], position: int, record: Record) -> None:
    if record.key is None:
        raise CorruptGroupRecordError("record without a key")
    key = decode_key(record.key)
    if isinstance(key, OffsetCommitKey):
        group = groups.setdefault(key.group, LoadedGroup(key.group))
        tp = (key.topic, key.partition)
        if record.value is None:
            group.offsets.pop(tp, None)
            group.positions.pop(tp, None)
        else:
            # A plain commit comes in log order, so it always applies; a
            # committed transaction's offset comes at its marker and applies
            # only over an older record (Kafka's load does the same).
            value = decode_offset_commit_value(record.value)
            apply_committed(group.offsets, group.positions, {tp: PendingTxnOffset(position, value)})
    elif isinstance(key, GroupMetadataKey):
        group = groups.setdefault(key.group, LoadedGroup(key.group))
        group.metadata = None if record.value is None else decode_group_metadata_value(record.value)
