"""The coordinator's shared state: groups, settings, clock and persistence.

Every operation runs on the event loop and changes groups synchronously, so
no locks are needed. Writes to ``__consumer_offsets`` are synchronous too:
an append lands in the page cache, as a produced batch does, and the
coordinator answers only after it returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._clock import LoopScheduler, Scheduler
from tidal.log.broker.group._config import GroupCoordinatorConfig
from tidal.log.broker.group._group import ClassicGroup, GroupState, MemberMetadata
from tidal.log.broker.group._records import (
    GroupMetadataValue,
    MemberRecord,
    OffsetAndMetadata,
    encode_group_metadata_key,
    encode_group_metadata_value,
    encode_offset_commit_key,
    encode_offset_commit_value,
    partition_for,
)
from tidal.log.broker.group._storage import LoadedGroup, OffsetsTopicStorage, replay
from tidal.log.records import RecordsError, RecordTooLargeError, SimpleRecord, encode_batch
from tidal.log.storage import StorageError

__all__ = ["CoordinatorCore", "TopicPartition"]

_log = logging.getLogger("tidal.log.broker.group")

TopicPartition = tuple[str, int]


class CoordinatorCore:
    """State and persistence shared by the coordinator's operations."""

    def __init__(
        self,
        storage: OffsetsTopicStorage,
        config: GroupCoordinatorConfig | None = None,
        *,
        scheduler: Scheduler | None = None,
        partition_exists: Callable[[str, int], bool] | None = None,
    ) -> None:
        self.storage = storage
        self.config = config if config is not None else GroupCoordinatorConfig()
        self.scheduler: Scheduler = scheduler if scheduler is not None else LoopScheduler()
        self.partition_exists = partition_exists
        self.groups: dict[str, ClassicGroup] = {}
        #: True until :meth:`load` finished; requests get COORDINATOR_LOAD_IN_PROGRESS.
        self.loading = True
        self.closed = False
        #: Batches appended so far (past the replayed ones): a batch's append
        #: order, which orders offset commits as their log offsets would.
        self.appended = 0

    def now(self) -> int:
        """The scheduler's clock, in ms."""
        return self.scheduler.now_ms()

    def partition_for(self, group_id: str) -> int:
        """The ``__consumer_offsets`` partition holding ``group_id``."""
        return partition_for(group_id, self.config.offsets_topic_num_partitions)

    def _status(self, group_id: str, *, allow_empty: bool = False) -> int:
        """Kafka's ``validateGroupStatus``: group id, then availability, then loading."""
        if not group_id and not allow_empty:
            return errors.INVALID_GROUP_ID
        if self.closed:
            return errors.NOT_COORDINATOR
        if self.loading:
            return errors.COORDINATOR_LOAD_IN_PROGRESS
        return errors.NONE

    # ---- writing -------------------------------------------------------------------------

    def _append(self, group_id: str, records: list[SimpleRecord], too_large: int) -> int:
        if not records:
            return errors.NONE
        try:
            self.storage.append(self.partition_for(group_id), encode_batch(records))
        except RecordTooLargeError:
            _log.warning("group %s: __consumer_offsets batch too large", group_id)
            return too_large
        except (StorageError, RecordsError, OSError):
            _log.exception("group %s: writing __consumer_offsets failed", group_id)
            return errors.UNKNOWN_SERVER_ERROR
        self.appended += 1
        return errors.NONE

    def store_group(self, group: ClassicGroup, assignment: dict[str, bytes]) -> int:
        """Write the group's metadata record with ``assignment``; an error code."""
        protocol = group.protocol_name
        members = [
            MemberRecord(
                m.member_id,
                m.group_instance_id,
                m.client_id,
                m.client_host,
                m.rebalance_timeout_ms,
                m.session_timeout_ms,
                m.metadata(protocol) if protocol is not None else b"",
                assignment.get(m.member_id, b""),
            )
            for m in group.members.values()
        ]
        value = GroupMetadataValue(
            group.protocol_type or "",
            group.generation_id,
            protocol,
            group.leader_id,
            -1 if group.state_timestamp is None else group.state_timestamp,
            members,
        )
        record = SimpleRecord(
            encode_group_metadata_value(value),
            key=encode_group_metadata_key(group.group_id),
            timestamp=self.now(),
        )
        return self._append(group.group_id, [record], errors.UNKNOWN_SERVER_ERROR)

    def store_offsets(
        self, group: ClassicGroup, offsets: dict[TopicPartition, OffsetAndMetadata]
    ) -> int:
        """Write committed offsets in one batch, then apply them; an error code."""
        now = self.now()
        records = [
            SimpleRecord(
                encode_offset_commit_value(value),
                key=encode_offset_commit_key(group.group_id, topic, partition),
                timestamp=now,
            )
            for (topic, partition), value in offsets.items()
        ]
        error = self._append(group.group_id, records, errors.INVALID_COMMIT_OFFSET_SIZE)
        if error == errors.NONE:
            group.offsets.update(offsets)
            group.offset_positions.update(dict.fromkeys(offsets, self.appended))
        return error

    def cleanup_group(self, group: ClassicGroup, remove: Iterable[TopicPartition]) -> int:
        """Drop offsets (with tombstones); an Empty group left without offsets dies.

        A dead group leaves ``groups`` and gets a metadata tombstone, unless it
        never had a generation (it only stored offsets). Returns how many
        offsets were removed.
        """
        removed = [tp for tp in remove if group.offsets.pop(tp, None) is not None]
        for tp in removed:
            group.offset_positions.pop(tp, None)
        if group.is_(GroupState.EMPTY) and not group.offsets:
            group.transition(GroupState.DEAD, self.now())
        now = self.now()
        records = [
            SimpleRecord(None, key=encode_offset_commit_key(group.group_id, t, p), timestamp=now)
            for t, p in removed
        ]
        if group.is_(GroupState.DEAD):
            if self.groups.get(group.group_id) is group:
                del self.groups[group.group_id]
            if group.generation_id > 0:
                key = encode_group_metadata_key(group.group_id)
                records.append(SimpleRecord(None, key=key, timestamp=now))
        # As in Kafka a failed tombstone write is only logged: the next expiry
        # pass or restart cleans up again.
        self._append(group.group_id, records, errors.UNKNOWN_SERVER_ERROR)
        return len(removed)

    # ---- loading -------------------------------------------------------------------------

    async def _replay(self) -> dict[str, LoadedGroup]:
        partitions = self.config.offsets_topic_num_partitions
        return await asyncio.to_thread(replay, self.storage, partitions)

    def _install(self, loaded: LoadedGroup) -> ClassicGroup:
        group = ClassicGroup(
            loaded.group_id,
            offsets=dict(loaded.offsets),
            offset_positions=dict(loaded.positions),
        )
        group.pending_txn_offsets = {pid: dict(o) for pid, o in loaded.pending.items()}
        # Later appends must order after every replayed record.
        self.appended = max(
            [
                self.appended,
                *loaded.positions.values(),
                *(p.position for pending in loaded.pending.values() for p in pending.values()),
            ]
        )
        metadata = loaded.metadata
        if metadata is not None:
            group.protocol_type = metadata.protocol_type or None
            group.generation_id = metadata.generation
            group.protocol_name = metadata.protocol
            stamp = metadata.current_state_timestamp
            group.state_timestamp = stamp if stamp >= 0 else None
            protocol = metadata.protocol
            for m in metadata.members:
                protocols = [(protocol, m.subscription)] if protocol is not None else []
                group.add(
                    MemberMetadata(
                        m.member_id,
                        m.group_instance_id,
                        m.client_id,
                        m.client_host,
                        m.rebalance_timeout,
                        m.session_timeout,
                        group.protocol_type or "",
                        protocols,
                        assignment=m.assignment,
                    )
                )
            if metadata.leader in group.members:
                group.leader_id = metadata.leader
            if group.members:
                group.state = GroupState.STABLE
            group.subscribed_topics = group.compute_subscribed_topics()
        self.groups[group.group_id] = group
        return group
