"""OffsetCommit, OffsetFetch, OffsetDelete, topic deletion and offsets expiry.

Group members commit with their generation and member id; anyone may commit
with generation -1 and no member id while the group is Empty (a "simple"
consumer that assigns partitions itself). Offsets of a group that became
Empty expire ``offsets.retention.minutes`` after it did (Kafka 2.1+); offsets
of groups that never had members expire that long after their commit.
"""

from __future__ import annotations

import logging

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._core import TopicPartition
from tidal.log.broker.group._group import CONSUMER_PROTOCOL_TYPE, ClassicGroup, GroupState
from tidal.log.broker.group._messages import (
    OffsetCommitArgs,
    OffsetDeleteArgs,
    OffsetDeleteResult,
    OffsetFetchArgs,
    OffsetFetchPartition,
    OffsetFetchResult,
    PartitionError,
    TopicPartitions,
)
from tidal.log.broker.group._rebalance import RebalanceOps
from tidal.log.broker.group._records import OffsetAndMetadata

__all__ = ["OffsetOps"]

_log = logging.getLogger("tidal.log.broker.group")

_CommitResult = list[TopicPartitions[PartitionError]]


def _everywhere(args: OffsetCommitArgs, error: int) -> _CommitResult:
    return [
        TopicPartitions(t.name, [PartitionError(p.partition_index, error) for p in t.partitions])
        for t in args.topics
    ]


class OffsetOps(RebalanceOps):
    """Committed offsets: commit, fetch, delete, expire."""

    async def commit_offsets(self, args: OffsetCommitArgs) -> _CommitResult:
        """Commit offsets; one error code per partition, as OffsetCommit answers."""
        error = self._status(args.group_id, allow_empty=True)
        if error != errors.NONE:
            return _everywhere(args, error)
        group = self.groups.get(args.group_id)
        if group is None:
            if args.generation_id >= 0:
                return _everywhere(args, errors.ILLEGAL_GENERATION)
            # Offsets-only group, kept for a consumer that does its own assignment.
            group = ClassicGroup(args.group_id, state_timestamp=self.now())
            self.groups[args.group_id] = group
        error = self._commit_error(group, args)
        if error != errors.NONE:
            return _everywhere(args, error)
        member = group.members.get(args.member_id)
        if member is not None:
            self._schedule_heartbeat(group, member)
        now = self.now()
        accepted: dict[TopicPartition, OffsetAndMetadata] = {}
        codes: dict[TopicPartition, int] = {}
        for topic in args.topics:
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
        stored = self.store_offsets(group, accepted)
        codes.update(dict.fromkeys(accepted, stored))
        return [
            TopicPartitions(
                t.name,
                [
                    PartitionError(p.partition_index, codes[(t.name, p.partition_index)])
                    for p in t.partitions
                ],
            )
            for t in args.topics
        ]

    @staticmethod
    def _commit_error(group: ClassicGroup, args: OffsetCommitArgs) -> int:
        if group.is_(GroupState.DEAD):
            return errors.COORDINATOR_NOT_AVAILABLE
        if args.generation_id >= 0 or args.member_id or args.group_instance_id is not None:
            if group.is_static_member_fenced(args.group_instance_id, args.member_id):
                return errors.FENCED_INSTANCE_ID
            if args.member_id not in group.members:
                return errors.UNKNOWN_MEMBER_ID
            if args.generation_id != group.generation_id:
                return errors.ILLEGAL_GENERATION
            if group.is_(GroupState.COMPLETING_REBALANCE):
                # The member has the new generation but no assignment yet.
                return errors.REBALANCE_IN_PROGRESS
            return errors.NONE
        if not group.is_(GroupState.EMPTY):
            return errors.UNKNOWN_MEMBER_ID  # only members commit for a live group
        return errors.NONE

    async def fetch_offsets(self, args: OffsetFetchArgs) -> OffsetFetchResult:
        """Committed offsets of listed partitions (-1 when none) or of all partitions.

        With ``require_stable`` a partition whose offset an open transaction
        holds answers UNSTABLE_OFFSET_COMMIT (offset -1), as Kafka does for
        read_committed consumers; otherwise the last committed offset shows.
        """
        error = self._status(args.group_id, allow_empty=True)
        if error != errors.NONE:
            return OffsetFetchResult(error)
        group = self.groups.get(args.group_id)
        offsets = group.offsets if group is not None else {}
        if args.topics is None:
            by_topic: dict[str, list[OffsetFetchPartition]] = {}
            for (name, partition), value in sorted(offsets.items()):
                if args.require_stable and self._unstable(group, (name, partition)):
                    entry = OffsetFetchPartition(
                        partition, -1, -1, "", errors.UNSTABLE_OFFSET_COMMIT
                    )
                else:
                    entry = OffsetFetchPartition(
                        partition, value.offset, value.leader_epoch, value.metadata, errors.NONE
                    )
                by_topic.setdefault(name, []).append(entry)
            return OffsetFetchResult(
                errors.NONE, [TopicPartitions(t, p) for t, p in by_topic.items()]
            )
        topics = []
        for topic in args.topics:
            partitions = []
            for partition in topic.partitions:
                found = offsets.get((topic.name, partition))
                if args.require_stable and self._unstable(group, (topic.name, partition)):
                    partitions.append(
                        OffsetFetchPartition(partition, -1, -1, "", errors.UNSTABLE_OFFSET_COMMIT)
                    )
                elif found is None:
                    partitions.append(OffsetFetchPartition(partition, -1, -1, "", errors.NONE))
                else:
                    partitions.append(
                        OffsetFetchPartition(
                            partition,
                            found.offset,
                            found.leader_epoch,
                            found.metadata,
                            errors.NONE,
                        )
                    )
            topics.append(TopicPartitions(topic.name, partitions))
        return OffsetFetchResult(errors.NONE, topics)

    @staticmethod
    def _unstable(group: ClassicGroup | None, tp: TopicPartition) -> bool:
        if group is None:
            return False
        return any(tp in pending for pending in group.pending_txn_offsets.values())

    async def delete_offsets(self, args: OffsetDeleteArgs) -> OffsetDeleteResult:
        """OffsetDelete: refused for partitions of topics the group consumes."""
        error = self._status(args.group_id)
        if error != errors.NONE:
            return OffsetDeleteResult(error)
        group = self.groups.get(args.group_id)
        if group is None or group.is_(GroupState.DEAD):
            return OffsetDeleteResult(errors.GROUP_ID_NOT_FOUND)
        if not group.is_(GroupState.EMPTY) and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return OffsetDeleteResult(errors.NON_EMPTY_GROUP)
        live = not group.is_(GroupState.EMPTY)
        doomed: list[TopicPartition] = []
        topics = []
        for topic in args.topics:
            subscribed = live and group.is_subscribed_to(topic.name)
            partitions = []
            for partition in topic.partitions:
                if self.partition_exists is not None and not self.partition_exists(
                    topic.name, partition
                ):
                    code = errors.UNKNOWN_TOPIC_OR_PARTITION
                elif subscribed:
                    code = errors.GROUP_SUBSCRIBED_TO_TOPIC
                else:
                    code = errors.NONE
                    doomed.append((topic.name, partition))
                partitions.append(PartitionError(partition, code))
            topics.append(TopicPartitions(topic.name, partitions))
        self.cleanup_group(group, doomed)
        return OffsetDeleteResult(errors.NONE, topics)

    def on_topic_deleted(self, topics: list[str]) -> int:
        """Drop every group's offsets of deleted ``topics``; returns how many."""
        gone = set(topics)
        removed = 0
        for group in list(self.groups.values()):
            doomed = [tp for tp in group.offsets if tp[0] in gone]
            if doomed:
                removed += self.cleanup_group(group, doomed)
        return removed

    def expire_offsets(self, now: int | None = None) -> int:
        """Remove expired offsets (with tombstones) and dead empty groups.

        Kafka's rules: an Empty group's offsets expire a retention period after
        it became Empty; a Stable "consumer" group's offsets of topics it no
        longer subscribes to, and offsets of groups without a protocol type
        (offsets-only groups), expire a retention period after their commit.
        Returns the number of offsets removed.
        """
        now = self.now() if now is None else now
        retention = self.config.offsets_retention_ms
        removed = 0
        for group in list(self.groups.values()):
            expired = [
                tp
                for tp, value in group.offsets.items()
                if self._expired(group, value, retention, now) and not self._subscribed(group, tp)
            ]
            removed += self.cleanup_group(group, expired)
        if removed:
            _log.info("expired %d committed offsets", removed)
        return removed

    @staticmethod
    def _subscribed(group: ClassicGroup, tp: TopicPartition) -> bool:
        return (
            group.is_(GroupState.STABLE)
            and group.subscribed_topics is not None
            and tp[0] in group.subscribed_topics
        )

    @staticmethod
    def _expired(group: ClassicGroup, value: OffsetAndMetadata, retention: int, now: int) -> bool:
        if group.protocol_type is not None and group.is_(GroupState.EMPTY):
            base = group.state_timestamp
            base = value.commit_timestamp if base is None else base
        elif group.protocol_type is None or (
            group.protocol_type == CONSUMER_PROTOCOL_TYPE
            and group.is_(GroupState.STABLE)
            and group.subscribed_topics is not None
        ):
            base = value.commit_timestamp
        else:
            return False
        if value.expire_timestamp is not None:
            return now >= value.expire_timestamp
        return now - base >= retention
