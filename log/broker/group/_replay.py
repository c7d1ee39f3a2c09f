"""Rebuild groups and offsets from ``__consumer_offsets``, as Kafka loads them.

Records are applied in offset order per partition: a value replaces what its
key held, a tombstone removes it. A group ends up loaded when its metadata
survived or when it still has offsets (groups that only store offsets, with
no metadata record, come back Empty). Runs without the event loop, so the
coordinator can replay on a worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tidal.log.broker.group._records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetAndMetadata,
    OffsetCommitKey,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
)
from tidal.log.broker.group._storage import OffsetsTopicStorage
from tidal.log.broker.group._wire import CorruptGroupRecordError
from tidal.log.records import Record, RecordsError, decode_batch, iter_batches

__all__ = ["LoadedGroup", "replay"]

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedGroup:
    """What the log holds for one group."""

    group_id: str
    metadata: GroupMetadataValue | None = None
    offsets: dict[tuple[str, int], OffsetAndMetadata] = field(default_factory=dict)


def _records(storage: OffsetsTopicStorage, partition: int) -> list[Record]:
    records: list[Record] = []
    for chunk in storage.read(partition):
        pos = 0
        for header in iter_batches(chunk):
            # Transactional offset commits wait for the transaction coordinator;
            # control markers carry no group data.
            if not header.is_control and not header.is_transactional:
                records.extend(decode_batch(chunk, pos).records)
            pos += header.size
    return records


def replay(storage: OffsetsTopicStorage, num_partitions: int) -> dict[str, LoadedGroup]:
    """Replay every partition; returns the surviving groups by id.

    A record that does not parse is logged and skipped (Kafka fails the load;
    one bad record should not cost every other group its offsets).
    """
    groups: dict[str, LoadedGroup] = {}
    for partition in range(num_partitions):
        try:
            records = _records(storage, partition)
        except RecordsError:
            _log.exception("skipping the rest of __consumer_offsets-%d: corrupt batch", partition)
            continue
        for record in records:
            try:
                _apply(groups, record)
            except CorruptGroupRecordError as exc:
                _log.warning(
                    "skipping record at offset %d of __consumer_offsets-%d: %s",
                    record.offset,
                    partition,
                    exc,
                )
    return {
        group_id: group
        for group_id, group in groups.items()
        if group.metadata is not None or group.offsets
    }


def _apply(groups: dict[str, LoadedGroup], record: Record) -> None:
    if record.key is None:
        raise CorruptGroupRecordError("record without a key")
    key = decode_key(record.key)
    if isinstance(key, OffsetCommitKey):
        group = groups.setdefault(key.group, LoadedGroup(key.group))
        tp = (key.topic, key.partition)
        if record.value is None:
            group.offsets.pop(tp, None)
        else:
            group.offsets[tp] = decode_offset_commit_value(record.value)
    elif isinstance(key, GroupMetadataKey):
        group = groups.setdefault(key.group, LoadedGroup(key.group))
        group.metadata = None if record.value is None else decode_group_metadata_value(record.value)
