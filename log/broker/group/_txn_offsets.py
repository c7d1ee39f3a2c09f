"""TxnOffsetCommit and the end of a transaction on ``__consumer_offsets``.

A transactional producer commits its consumer's offsets in its transaction
(``send_offsets_to_transaction``). They are written at once, as a
transactional batch of the producer (its id and epoch) in the group's
``__consumer_offsets`` partition, but stay *pending*: OffsetFetch does not
show them, and answers UNSTABLE_OFFSET_COMMIT for those partitions when the
consumer asks for stable offsets (``require_stable``, read_committed
consumers). The transaction coordinator's marker decides: ``complete_txn``
writes the COMMIT or ABORT marker to the partition and applies or drops the
producer's pending offsets of every group there. Replaying the partition at
start does the same, marker by marker (``_storage.replay``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._core import TopicPartition
from tidal.log.broker.group._group import ClassicGroup, GroupState
from tidal.log.broker.group._messages import OffsetCommitArgs, PartitionError, TopicPartitions
from tidal.log.broker.group._rebalance import RebalanceOps
from tidal.log.broker.group._records import (
    OffsetAndMetadata,
    PendingTxnOffset,
    encode_offset_commit_key,
    encode_offset_commit_value,
)
from tidal.log.broker.group._storage import apply_committed
from tidal.log.records import (
    ControlRecordType,
    RecordsError,
    RecordTooLargeError,
    SimpleRecord,
    encode_batch,
    encode_control_batch,
)
from tidal.log.storage import StorageError

__all__ = ["TxnOffsetCommitArgs", "TxnOffsetOps"]

_log = logging.getLogger("tidal.log.broker.group")

_CommitResult = list[TopicPartitions[PartitionError]]


@dataclass(frozen=True, slots=True)
class TxnOffsetCommitArgs:
    """A TxnOffsetCommit request: an OffsetCommit inside a producer's transaction."""

    commit: OffsetCommitArgs
    producer_id: int
    producer_epoch: int


class TxnOffsetOps(RebalanceOps):
    """Transactional offset commits (a mixin of ``GroupCoordinator``)."""

    async def commit_txn_offsets(self, args: TxnOffsetCommitArgs) -> _CommitResult:
        """Write offsets as pending in the producer's transaction; an error per partition."""
        commit = args.commit
        error = self._status(commit.group_id)
        if error == errors.NONE:
            group = self.groups.get(commit.group_id)
            if group is None:
                if commit.generation_id >= 0:
                    error = errors.ILLEGAL_GENERATION
                else:
                    group = ClassicGroup(commit.group_id, state_timestamp=self.now())
                    self.groups[commit.group_id] = group
            if group is not None:
                error = self._txn_commit_error(group, commit)
        if error != errors.NONE or group is None:
            return _everywhere(commit, error)
        now = self.now()
        accepted: dict[TopicPartition, OffsetAndMetadata] = {}
        codes: dict[TopicPartition, int] = {}
        for topic in commit.topics:
            for p in topic.partitions:
                tp = (topic.name, p.partition_index)
                metadata = p.committed_metadata or ""
                if self.partition_exists is not None and not self.partition_exists(*tp):
                    codes[tp] = errors.UNKNOWN_TOPIC_OR_PARTITION
                elif len(metadata) > self.config.offset_metadata_max_bytes:
                    codes[tp] = errors.OFFSET_METADATA_TOO_LARGE
                else:
                    accepted[tp] = OffsetAndMetadata(
                        p.committed_offset, p.committed_leader_epoch, metadata, now
                    )
        stored = self._store_pending(group, args, accepted)
        codes.update(dict.fromkeys(accepted, stored))
        return [
            TopicPartitions(
                t.name,
                [
                    PartitionError(p.partition_index, codes[(t.name, p.partition_index)])
                    for p in t.partitions
                ],
            )
            for t in commit.topics
        ]

    @staticmethod
    def _txn_commit_error(group: ClassicGroup, args: OffsetCommitArgs) -> int:
        # Kafka's doTxnCommitOffsets: any state but Dead; members are checked from v3.
        if group.is_(GroupState.DEAD):
            return errors.COORDINATOR_NOT_AVAILABLE
        if group.is_static_member_fenced(args.group_instance_id, args.member_id):
            return errors.FENCED_INSTANCE_ID
        if args.member_id and args.member_id not in group.members:
            return errors.UNKNOWN_MEMBER_ID
        if args.generation_id >= 0 and args.generation_id != group.generation_id:
            return errors.ILLEGAL_GENERATION
        return errors.NONE

    def _store_pending(
        self,
        group: ClassicGroup,
        args: TxnOffsetCommitArgs,
        offsets: dict[TopicPartition, OffsetAndMetadata],
    ) -> int:
        if not offsets:
            return errors.NONE
        now = self.now()
        records = [
            SimpleRecord(
                encode_offset_commit_value(value),
                key=encode_offset_commit_key(group.group_id, topic, partition),
                timestamp=now,
            )
            for (topic, partition), value in offsets.items()
        ]
        batch = encode_batch(
            records,
            producer_id=args.producer_id,
            producer_epoch=args.producer_epoch,
            base_sequence=0,
            is_transactional=True,
        )
        try:
            self.storage.append(self.partition_for(group.group_id), batch)
        except RecordTooLargeError:
            return errors.INVALID_COMMIT_OFFSET_SIZE
        except (StorageError, RecordsError, OSError):
            _log.exception("group %s: writing transactional offsets failed", group.group_id)
            return errors.UNKNOWN_SERVER_ERROR
        self.appended += 1
        pending = group.pending_txn_offsets.setdefault(args.producer_id, {})
        for tp, value in offsets.items():
            pending[tp] = PendingTxnOffset(self.appended, value)
        return errors.NONE

    def complete_txn(
        self, offsets_partition: int, producer_id: int, producer_epoch: int, commit: bool
    ) -> None:
        """Write the transaction's marker to ``__consumer_offsets-<offsets_partition>``
        and apply (commit) or drop (abort) the producer's pending offsets there.
        Raises the storage error when the marker cannot be written."""
        marker = encode_control_batch(
            ControlRecordType.COMMIT if commit else ControlRecordType.ABORT,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            coordinator_epoch=0,
            timestamp=self.now(),
        )
        self.storage.append(offsets_partition, marker)
        for group in self.groups.values():
            pending = group.pending_txn_offsets.pop(producer_id, None)
            if pending is None:
                continue
            if self.partition_for(group.group_id) != offsets_partition:
                group.pending_txn_offsets[producer_id] = pending
                continue
            if commit:
                apply_committed(group.offsets, group.offset_positions, pending)


def _everywhere(args: OffsetCommitArgs, error: int) -> _CommitResult:
    return [
        TopicPartitions(t.name, [PartitionError(p.partition_index, error) for p in t.partitions])
        for t in args.topics
    ]
