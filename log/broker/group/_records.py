"""Apache Kafka's ``__consumer_offsets`` record formats, byte for byte.

Every key and value starts with an int16 schema version; the rest is Kafka's
classic (non-flexible) encoding: int16-length strings (-1 for null),
int32-length bytes, int32-count arrays, all big-endian. Version 4 of the values
is flexible (compact lengths, tagged fields); Tidal reads it and writes what
Kafka writes::

    OffsetCommitKey v1     group string, topic string, partition int32
    GroupMetadataKey v2    group string
    OffsetCommitValue v3   offset int64, leader_epoch int32, metadata string,
                           commit_timestamp int64
    GroupMetadataValue v3  protocol_type string, generation int32,
                           protocol nullable string, leader nullable string,
                           current_state_timestamp int64,
                           members [member_id string, group_instance_id nullable string,
                                    client_id string, client_host string,
                                    rebalance_timeout int32, session_timeout int32,
                                    subscription bytes, assignment bytes]

A deleted offset or group is its key with a null value (a tombstone), which
compaction eventually drops. The partition of a group is Kafka's
``abs(groupId.hashCode()) % offsets.topic.num.partitions``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from tidal.log.broker.group._wire import Reader, Writer

__all__ = [
    "GroupMetadataKey",
    "GroupMetadataValue",
    "MemberRecord",
    "OffsetAndMetadata",
    "OffsetCommitKey",
    "PendingTxnOffset",
    "decode_group_metadata_value",
    "decode_key",
    "decode_offset_commit_value",
    "encode_group_metadata_key",
    "encode_group_metadata_value",
    "encode_offset_commit_key",
    "encode_offset_commit_value",
    "java_string_hash",
    "partition_for",
]

_INT32_MIN = -(1 << 31)


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode()``: over UTF-16 code units, wrapping at 32 bits."""
    data = text.encode("utf-16-be", "surrogatepass")
    h = 0
    for (unit,) in struct.iter_unpack(">H", data):
        h = (31 * h + unit) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(group_id: str, num_partitions: int) -> int:
    """The ``__consumer_offsets`` partition of ``group_id`` (Kafka's ``Utils.abs``)."""
    h = java_string_hash(group_id)
    return (0 if h == _INT32_MIN else abs(h)) % num_partitions


@dataclass(frozen=True, slots=True)
class OffsetCommitKey:
    """Key of a committed offset (schema versions 0 and 1)."""

    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class GroupMetadataKey:
    """Key of a group's metadata (schema version 2)."""

    group: str


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    """A committed offset as stored. ``expire_timestamp`` only comes from v1 values."""

    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp: int = 0
    expire_timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class PendingTxnOffset:
    """A transactional offset waiting for its transaction's marker, and where
    its record is in ``__consumer_offsets`` (Kafka's
    ``CommitRecordMetadataAndOffset``: the append order decides, at the
    COMMIT marker, whether it replaces the committed offset)."""

    position: int
    value: OffsetAndMetadata


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One member inside a ``GroupMetadataValue``."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout: int
    session_timeout: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupMetadataValue:
    """A group's metadata as stored; ``current_state_timestamp`` -1 when unknown."""

    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int = -1
    members: list[MemberRecord] = field(default_factory=list)


# ---- keys -------------------------------------------------------------------------------


def encode_offset_commit_key(group: str, topic: str, partition: int) -> bytes:
    """OffsetCommitKey version 1, as Kafka writes it."""
    w = Writer()
    w.int16(1)
    w.string(group)
    w.string(topic)
    w.int32(partition)
    return w.done()


def encode_group_metadata_key(group: str) -> bytes:
    """GroupMetadataKey version 2."""
    w = Writer()
    w.int16(2)
    w.string(group)
    return w.done()


def decode_key(data: bytes) -> OffsetCommitKey | GroupMetadataKey | None:
    """Decode a record key; ``None`` for the key versions of newer group types.

    Raises ``CorruptGroupRecordError`` for bytes that do not parse.
    """
    r = Reader(data)
    version = r.int16()
    if version in (0, 1):
        key: OffsetCommitKey | GroupMetadataKey = OffsetCommitKey(r.string(), r.string(), r.int32())
    elif version == 2:
        key = GroupMetadataKey(r.string())
    else:
        return None  # consumer (KIP-848), share and streams group records
    return key


# ---- values -----------------------------------------------------------------------------


def encode_offset_commit_value(value: OffsetAndMetadata) -> bytes:
    """OffsetCommitValue version 3 (version 1 when an expire timestamp is set, as Kafka)."""
    w = Writer()
    if value.expire_timestamp is not None:
        w.int16(1)
        w.int64(value.offset)
        w.string(value.metadata)
        w.int64(value.commit_timestamp)
        w.int64(value.expire_timestamp)
        return w.done()
    w.int16(3)
    w.int64(value.offset)
    w.int32(value.leader_epoch)
    w.string(value.metadata)
    w.int64(value.commit_timestamp)
    return w.done()


def decode_offset_commit_value(data: bytes) -> OffsetAndMetadata:
    """Decode OffsetCommitValue versions 0-4."""
    r = Reader(data)
    version = r.int16()
    if not 0 <= version <= 4:
        r.fail(f"unknown OffsetCommitValue version {version}")
    r.flexible = version >= 4
    offset = r.int64()
    leader_epoch = r.int32() if version >= 3 else -1
    metadata = r.string()
    commit_timestamp = r.int64()
    expire_timestamp = r.int64() if version == 1 else None
    r.tagged_fields()
    return OffsetAndMetadata(offset, leader_epoch, metadata, commit_timestamp, expire_timestamp)


def encode_group_metadata_value(value: GroupMetadataValue) -> bytes:
    """GroupMetadataValue version 3, as Kafka writes it."""
    w = Writer()
    w.int16(3)
    w.string(value.protocol_type)
    w.int32(value.generation)
    w.nullable_string(value.protocol)
    w.nullable_string(value.leader)
    w.int64(value.current_state_timestamp)
    w.int32(len(value.members))
    for m in value.members:
        w.string(m.member_id)
        w.nullable_string(m.group_instance_id)
        w.string(m.client_id)
        w.string(m.client_host)
        w.int32(m.rebalance_timeout)
        w.int32(m.session_timeout)
        w.blob(m.subscription)
        w.blob(m.assignment)
    return w.done()


def decode_group_metadata_value(data: bytes) -> GroupMetadataValue:
    """Decode GroupMetadataValue versions 0-4."""
    r = Reader(data)
    version = r.int16()
    if not 0 <= version <= 4:
        r.fail(f"unknown GroupMetadataValue version {version}")
    r.flexible = version >= 4
    protocol_type = r.string()
    generation = r.int32()
    protocol = r.nullable_string()
    leader = r.nullable_string()
    timestamp = r.int64() if version >= 2 else -1
    members = []
    for _ in range(r.array_length()):
        member_id = r.string()
        instance_id = r.nullable_string() if version >= 3 else None
        client_id = r.string()
        client_host = r.string()
        session_timeout = r.int32()
        # Version 0 has no rebalance timeout; Kafka then uses the session timeout.
        rebalance_timeout = session_timeout
        if version >= 1:
            rebalance_timeout, session_timeout = session_timeout, r.int32()
        members.append(
            MemberRecord(
                member_id,
                instance_id,
                client_id,
                client_host,
                rebalance_timeout,
                session_timeout,
                r.blob(),
                r.blob(),
            )
        )
        r.tagged_fields()
    r.tagged_fields()
    return GroupMetadataValue(protocol_type, generation, protocol, leader, timestamp, members)
