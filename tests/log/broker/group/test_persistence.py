"""Groups and offsets in __consumer_offsets on disk, and reloading them after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker.group import (
    OFFSETS_TOPIC,
    GroupState,
    HeartbeatArgs,
    LeaveGroupArgs,
    LogOffsetsStorage,
    MemberIdentity,
    OffsetAndMetadata,
    OffsetCommitArgs,
    OffsetCommitPartition,
    TopicPartitions,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
    errors,
    partition_for,
)
from tidal.log.records import Record, decode_batch, iter_batches
from tidal.log.storage import LogManager

GROUP = "orders-app"
PARTITIONS = 5  # offsets_topic_num_partitions of the test config
Harness = Any  # conftest.Harness; test modules cannot import conftest


class Disk:
    """A data directory whose LogManager can be shut down and reopened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manager = LogManager(path, start_scheduler=False)

    def restart(self) -> LogOffsetsStorage:
        self.manager.shutdown()
        self.manager = LogManager(self.path, start_scheduler=False)
        return LogOffsetsStorage(self.manager)

    def records(self, group: str = GROUP) -> list[Record]:
        log = self.manager.get_log(OFFSETS_TOPIC, partition_for(group, PARTITIONS))
        assert log is not None
        data = log.read_bytes(log.log_start_offset, 1 << 20)
        out: list[Record] = []
        pos = 0
        for header in iter_batches(data):
            out.extend(decode_batch(data, pos).records)
            pos += header.size
        return out


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    d = Disk(tmp_path)
    yield d
    d.manager.shutdown()


async def test_restart_reloads_groups_members_assignments_and_offsets(
    disk: Disk, make_h: Any
) -> None:
    h = await make_h(storage=LogOffsetsStorage(disk.manager))
    joined = await h.form_group(2)
    await h.sync_all(joined)
    await h.commit({("orders", 0): 5, ("orders", 1): 6}, generation=1, member=joined[0].member_id)
    await h.coordinator.commit_offsets(
        OffsetCommitArgs("simple", [TopicPartitions("audit", [OffsetCommitPartition(3, 9)])])
    )
    await h.coordinator.commit_offsets(
        OffsetCommitArgs("doomed", [TopicPartitions("audit", [OffsetCommitPartition(0, 1)])])
    )
    assert await h.coordinator.delete_groups(["doomed"]) == [("doomed", errors.NONE)]
    before = await h.coordinator.describe_groups([GROUP])
    h.coordinator.close()

    again = await make_h(storage=disk.restart())
    assert await again.coordinator.describe_groups([GROUP]) == before
    assert await again.fetch() == {("orders", 0): 5, ("orders", 1): 6}
    assert await again.fetch("simple") == {("audit", 3): 9}
    listed = await again.coordinator.list_groups()
    assert sorted(g.group_id for g in listed.groups) == [GROUP, "simple"]
    group = again.coordinator.group(GROUP)
    assert (group.state, group.generation_id, group.leader_id) == (
        GroupState.STABLE,
        1,
        joined[0].member_id,
    )
    # The members carry on with their generation.
    beat = await again.coordinator.heartbeat(HeartbeatArgs(GROUP, 1, joined[1].member_id))
    assert beat.error_code == errors.NONE
    result = await again.commit({("orders", 0): 7}, generation=1, member=joined[1].member_id)
    assert result == {("orders", 0): errors.NONE}


async def test_reloaded_members_that_never_return_expire(disk: Disk, make_h: Any) -> None:
    h = await make_h(storage=LogOffsetsStorage(disk.manager))
    await h.sync_all(await h.form_group(1))
    h.coordinator.close()
    again = await make_h(storage=disk.restart())
    await again.advance(again.SESSION + again.REBALANCE)
    group = again.coordinator.group(GROUP)
    assert (group.state, group.generation_id) == (GroupState.EMPTY, 2)
    # The Empty generation was written too: a second restart agrees.
    again.coordinator.close()
    third = await make_h(storage=disk.restart())
    reloaded = third.coordinator.group(GROUP)
    assert (reloaded.state, reloaded.generation_id, reloaded.members) == (GroupState.EMPTY, 2, {})


async def test_records_are_kafkas_keys_and_values(disk: Disk, make_h: Any) -> None:
    h = await make_h(storage=LogOffsetsStorage(disk.manager))
    joined = await h.form_group(1)
    await h.sync_all(joined)
    now = h.clock.now_ms()
    await h.commit({("orders", 0): 5}, generation=1, member=joined[0].member_id)
    log = disk.manager.get_log(OFFSETS_TOPIC, partition_for(GROUP, PARTITIONS))
    assert log is not None
    assert log.config.compact
    group_record, offset_record = disk.records()
    # GroupMetadataKey v2, then OffsetCommitKey v1: int16 version, int16-length strings.
    assert group_record.key == b"\x00\x02\x00\x0aorders-app"
    assert offset_record.key == b"\x00\x01\x00\x0aorders-app\x00\x06orders\x00\x00\x00\x00"
    assert offset_record.value is not None
    assert offset_record.value[:2] == b"\x00\x03"
    assert decode_offset_commit_value(offset_record.value) == OffsetAndMetadata(5, 3, "m", now)
    assert group_record.value is not None
    value = decode_group_metadata_value(group_record.value)
    assert (value.protocol_type, value.generation, value.protocol) == ("consumer", 1, "range")
    [member] = value.members
    assert (member.member_id, member.client_id, member.assignment) == (
        joined[0].member_id,
        "c0",
        joined[0].member_id.encode(),
    )
    assert member.subscription == h.subscription("orders")


async def test_deletes_are_tombstones_and_stay_deleted(disk: Disk, make_h: Any) -> None:
    h = await make_h(storage=LogOffsetsStorage(disk.manager))
    joined = await h.form_group(1)
    await h.sync_all(joined)
    await h.commit({("orders", 0): 5}, generation=1, member=joined[0].member_id)
    await h.coordinator.leave_group(LeaveGroupArgs(GROUP, [MemberIdentity(joined[0].member_id)]))
    assert await h.coordinator.delete_groups([GROUP]) == [(GROUP, errors.NONE)]
    tombstones = [r for r in disk.records() if r.value is None]
    assert {type(decode_key(r.key or b"")).__name__ for r in tombstones} == {
        "OffsetCommitKey",
        "GroupMetadataKey",
    }
    h.coordinator.close()
    again = await make_h(storage=disk.restart())
    assert again.coordinator.group(GROUP) is None
    assert await again.fetch() == {}


async def test_load_in_progress_until_loaded(disk: Disk, make_h: Any) -> None:
    h = await make_h(storage=LogOffsetsStorage(disk.manager), load=False)
    result = await h.commit({("orders", 0): 1})
    assert result == {("orders", 0): errors.COORDINATOR_LOAD_IN_PROGRESS}
    assert (await h.coordinator.list_groups()).error_code == errors.COORDINATOR_LOAD_IN_PROGRESS
    await h.coordinator.load()
    assert await h.commit({("orders", 0): 1}) == {("orders", 0): errors.NONE}
