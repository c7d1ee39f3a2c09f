"""Kafka's classic group coordinator: consumer groups and committed offsets.

``GroupCoordinator`` implements JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch, OffsetDelete, DescribeGroups, ListGroups and
DeleteGroups with Kafka's semantics, over plain typed arguments and results
(``JoinGroupArgs`` -> ``JoinGroupResult``, ...) that the broker's handlers
fill from and copy into wire messages. Group metadata and offsets live in
the compacted ``__consumer_offsets`` topic in Kafka's own record formats,
behind the narrow ``OffsetsTopicStorage`` interface.

Example::

    from tidal.log.broker.group import GroupCoordinator, JoinGroupArgs, LogOffsetsStorage

    coordinator = GroupCoordinator(LogOffsetsStorage(log_manager))
    await coordinator.start()
    # errors.MEMBER_ID_REQUIRED, errors.UNKNOWN_MEMBER_ID, ...: Kafka's codes as ints
    joined = await coordinator.join_group(
        JoinGroupArgs("orders-app", 10_000, 30_000, "", None, "consumer",
                      [("range", subscription)], require_known_member_id=True)
    )  # MEMBER_ID_REQUIRED: join again with joined.member_id
"""

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._clock import LoopScheduler, ManualScheduler, Scheduler, TimerHandle
from tidal.log.broker.group._config import GroupCoordinatorConfig
from tidal.log.broker.group._coordinator import GroupCoordinator
from tidal.log.broker.group._group import (
    CONSUMER_PROTOCOL_TYPE,
    ClassicGroup,
    GroupState,
    MemberMetadata,
)
from tidal.log.broker.group._messages import (
    DeleteGroupResult,
    DescribedGroup,
    DescribedGroupMember,
    HeartbeatArgs,
    HeartbeatResult,
    JoinGroupArgs,
    JoinGroupMember,
    JoinGroupResult,
    LeaveGroupArgs,
    LeaveGroupMemberResult,
    LeaveGroupResult,
    ListedGroup,
    ListGroupsResult,
    MemberIdentity,
    OffsetCommitArgs,
    OffsetCommitPartition,
    OffsetDeleteArgs,
    OffsetDeleteResult,
    OffsetFetchArgs,
    OffsetFetchPartition,
    OffsetFetchResult,
    PartitionError,
    SyncGroupArgs,
    SyncGroupResult,
    TopicPartitions,
)
from tidal.log.broker.group._records import (
    GroupMetadataKey,
    GroupMetadataValue,
    MemberRecord,
    OffsetAndMetadata,
    OffsetCommitKey,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
    encode_group_metadata_key,
    encode_group_metadata_value,
    encode_offset_commit_key,
    encode_offset_commit_value,
    java_string_hash,
    partition_for,
)
from tidal.log.broker.group._storage import (
    OFFSETS_TOPIC,
    LogOffsetsStorage,
    MemoryOffsetsStorage,
    OffsetsTopicStorage,
    offsets_topic_config,
)
from tidal.log.broker.group._txn_offsets import TxnOffsetCommitArgs
from tidal.log.broker.group._wire import CorruptGroupRecordError

__all__ = [
    "CONSUMER_PROTOCOL_TYPE",
    "OFFSETS_TOPIC",
    "ClassicGroup",
    "CorruptGroupRecordError",
    "DeleteGroupResult",
    "DescribedGroup",
    "DescribedGroupMember",
    "GroupCoordinator",
    "GroupCoordinatorConfig",
    "GroupMetadataKey",
    "GroupMetadataValue",
    "GroupState",
    "HeartbeatArgs",
    "HeartbeatResult",
    "JoinGroupArgs",
    "JoinGroupMember",
    "JoinGroupResult",
    "LeaveGroupArgs",
    "LeaveGroupMemberResult",
    "LeaveGroupResult",
    "ListGroupsResult",
    "ListedGroup",
    "LogOffsetsStorage",
    "LoopScheduler",
    "ManualScheduler",
    "MemberIdentity",
    "MemberMetadata",
    "MemberRecord",
    "MemoryOffsetsStorage",
    "OffsetAndMetadata",
    "OffsetCommitArgs",
    "OffsetCommitKey",
    "OffsetCommitPartition",
    "OffsetDeleteArgs",
    "OffsetDeleteResult",
    "OffsetFetchArgs",
    "OffsetFetchPartition",
    "OffsetFetchResult",
    "OffsetsTopicStorage",
    "PartitionError",
    "Scheduler",
    "SyncGroupArgs",
    "SyncGroupResult",
    "TimerHandle",
    "TopicPartitions",
    "TxnOffsetCommitArgs",
    "decode_group_metadata_value",
    "decode_key",
    "decode_offset_commit_value",
    "encode_group_metadata_key",
    "encode_group_metadata_value",
    "encode_offset_commit_key",
    "encode_offset_commit_value",
    "errors",
    "java_string_hash",
    "offsets_topic_config",
    "partition_for",
]
