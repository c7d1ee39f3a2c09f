"""OffsetCommit/OffsetFetch/OffsetDelete, DeleteGroups, DescribeGroups, ListGroups, expiry."""

from __future__ import annotations

from typing import Any

from tidal.log.broker.group import (
    GroupState,
    HeartbeatArgs,
    LeaveGroupArgs,
    MemberIdentity,
    OffsetCommitArgs,
    OffsetCommitPartition,
    OffsetDeleteArgs,
    OffsetFetchArgs,
    TopicPartitions,
    errors,
)

GROUP = "orders-app"
MINUTE = 60_000
Harness = Any  # conftest.Harness; test modules cannot import conftest


async def stable_group(h: Harness, n: int = 1) -> list[Any]:
    joined = await h.form_group(n)
    await h.sync_all(joined)
    return list(joined)


async def leave_all(h: Harness, joined: list[Any]) -> None:
    members = [MemberIdentity(r.member_id) for r in joined]
    await h.coordinator.leave_group(LeaveGroupArgs(GROUP, members))


async def test_member_commits_are_checked_against_the_generation(h: Harness) -> None:
    [me] = await stable_group(h)
    ok = await h.commit({("orders", 0): 10}, generation=1, member=me.member_id)
    assert ok == {("orders", 0): errors.NONE}
    assert await h.fetch() == {("orders", 0): 10}
    stale = await h.commit({("orders", 0): 11}, generation=0, member=me.member_id)
    assert stale == {("orders", 0): errors.ILLEGAL_GENERATION}
    stranger = await h.commit({("orders", 0): 11}, generation=1, member="stranger")
    assert stranger == {("orders", 0): errors.UNKNOWN_MEMBER_ID}
    # Only members commit for a group that has members.
    simple = await h.commit({("orders", 0): 11})
    assert simple == {("orders", 0): errors.UNKNOWN_MEMBER_ID}
    assert await h.fetch() == {("orders", 0): 10}


async def test_commit_while_completing_rebalance_says_rebalance_in_progress(h: Harness) -> None:
    [me] = await h.form_group(1)
    result = await h.commit({("orders", 0): 1}, generation=1, member=me.member_id)
    assert result == {("orders", 0): errors.REBALANCE_IN_PROGRESS}


async def test_commits_during_a_rebalance_are_accepted(h: Harness) -> None:
    [me] = await stable_group(h)
    h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.settle()
    result = await h.commit({("orders", 0): 5}, generation=1, member=me.member_id)
    assert result == {("orders", 0): errors.NONE}


async def test_standalone_commits_create_an_offsets_only_group(h: Harness) -> None:
    assert await h.commit({("orders", 0): 7, ("orders", 1): 8, ("audit", 0): 1}) == dict.fromkeys(
        [("orders", 0), ("orders", 1), ("audit", 0)], errors.NONE
    )
    assert await h.fetch() == {("audit", 0): 1, ("orders", 0): 7, ("orders", 1): 8}
    listed = await h.coordinator.list_groups()
    assert listed.groups == [(GROUP, "", "Empty", "classic")]
    other = await h.coordinator.commit_offsets(
        OffsetCommitArgs("unknown", [TopicPartitions("t", [OffsetCommitPartition(0, 1)])], 3, "m")
    )
    assert other[0].partitions[0].error_code == errors.ILLEGAL_GENERATION


async def test_fetch_listed_partitions(h: Harness) -> None:
    await h.commit({("orders", 0): 7})
    result = await h.coordinator.fetch_offsets(
        OffsetFetchArgs(GROUP, [TopicPartitions("orders", [0, 1])], require_stable=True)
    )
    assert result.error_code == errors.NONE
    assert result.topics == [
        ("orders", [(0, 7, 3, "m", errors.NONE), (1, -1, -1, "", errors.NONE)]),
    ]
    nobody = await h.coordinator.fetch_offsets(OffsetFetchArgs("nobody"))
    assert (nobody.error_code, nobody.topics) == (errors.NONE, [])


async def test_commit_errors_per_partition(make_h: Any) -> None:
    h = await make_h(offset_metadata_max_bytes=4)
    h.coordinator.partition_exists = lambda topic, partition: partition < 2
    result = await h.coordinator.commit_offsets(
        OffsetCommitArgs(
            GROUP,
            [
                TopicPartitions(
                    "orders",
                    [
                        OffsetCommitPartition(0, 1, committed_metadata="tiny"),
                        OffsetCommitPartition(1, 1, committed_metadata="too long"),
                        OffsetCommitPartition(2, 1),
                        OffsetCommitPartition(3, 1, committed_metadata=None),
                    ],
                )
            ],
        )
    )
    codes = [p.error_code for p in result[0].partitions]
    assert codes == [
        errors.NONE,
        errors.OFFSET_METADATA_TOO_LARGE,
        errors.UNKNOWN_TOPIC_OR_PARTITION,
        errors.UNKNOWN_TOPIC_OR_PARTITION,
    ]
    assert await h.fetch() == {("orders", 0): 1}


async def test_failed_write_is_reported_and_not_applied(h: Harness) -> None:
    h.storage.fail = OSError("disk full")
    assert await h.commit({("orders", 0): 1}) == {("orders", 0): errors.UNKNOWN_SERVER_ERROR}
    h.storage.fail = None
    assert await h.fetch() == {}


async def test_delete_offsets(h: Harness) -> None:
    [me] = await stable_group(h)  # subscribed to "orders"
    await h.commit({("orders", 0): 1, ("legacy", 0): 2}, generation=1, member=me.member_id)
    result = await h.coordinator.delete_offsets(
        OffsetDeleteArgs(GROUP, [TopicPartitions("orders", [0]), TopicPartitions("legacy", [0])])
    )
    assert result.error_code == errors.NONE
    assert result.topics == [
        ("orders", [(0, errors.GROUP_SUBSCRIBED_TO_TOPIC)]),
        ("legacy", [(0, 0)]),
    ]
    assert await h.fetch() == {("orders", 0): 1}
    await leave_all(h, [me])
    result = await h.coordinator.delete_offsets(
        OffsetDeleteArgs(GROUP, [TopicPartitions("orders", [0])])
    )
    assert result.topics == [("orders", [(0, errors.NONE)])]
    # Empty and without offsets: the group is gone.
    assert h.coordinator.group(GROUP) is None
    missing = await h.coordinator.delete_offsets(OffsetDeleteArgs(GROUP, []))
    assert missing.error_code == errors.GROUP_ID_NOT_FOUND


async def test_delete_offsets_of_a_live_non_consumer_group(h: Harness) -> None:
    connect = h.args(v4=False)
    connect = type(connect)(**{**_fields(connect), "protocol_type": "connect"})
    join = h.spawn(h.coordinator.join_group(connect))
    await h.initial_rebalance([join])
    result = await h.coordinator.delete_offsets(OffsetDeleteArgs(GROUP, []))
    assert result.error_code == errors.NON_EMPTY_GROUP


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


async def test_delete_groups(h: Harness) -> None:
    joined = await stable_group(h)
    await h.commit({("orders", 0): 1}, generation=1, member=joined[0].member_id)
    await h.commit({("t", 0): 1})  # not allowed: the group has members
    results = await h.coordinator.delete_groups([GROUP, "nobody"])
    assert results == [(GROUP, errors.NON_EMPTY_GROUP), ("nobody", errors.GROUP_ID_NOT_FOUND)]
    await leave_all(h, joined)
    assert await h.coordinator.delete_groups([GROUP]) == [(GROUP, errors.NONE)]
    assert await h.fetch() == {}
    [described] = await h.coordinator.describe_groups([GROUP])
    assert described.group_state == "Dead"
    assert await h.coordinator.delete_groups([GROUP]) == [(GROUP, errors.GROUP_ID_NOT_FOUND)]


async def test_describe_groups_shape(h: Harness) -> None:
    joined = await h.form_group(2)
    [during] = await h.coordinator.describe_groups([GROUP])
    assert (during.group_state, during.protocol_data) == ("CompletingRebalance", "")
    assert {m.member_metadata for m in during.members} == {b""}
    await h.sync_all(joined)
    [group] = await h.coordinator.describe_groups([GROUP])
    assert (group.error_code, group.group_id, group.group_state) == (errors.NONE, GROUP, "Stable")
    assert (group.protocol_type, group.protocol_data) == ("consumer", "range")
    assert [m[:4] for m in group.members] == [
        (joined[0].member_id, None, "c0", "/127.0.0.1"),
        (joined[1].member_id, None, "c1", "/127.0.0.1"),
    ]
    assert {m.member_metadata for m in group.members} == {h.subscription("orders")}
    assert [m.member_assignment for m in group.members] == [r.member_id.encode() for r in joined]
    [unknown] = await h.coordinator.describe_groups(["nobody"])
    assert (unknown.error_code, unknown.group_state, unknown.members) == (errors.NONE, "Dead", [])


async def test_list_groups_with_filters(h: Harness) -> None:
    await stable_group(h)
    await h.coordinator.commit_offsets(
        OffsetCommitArgs("offsets-only", [TopicPartitions("t", [OffsetCommitPartition(0, 1)])])
    )
    every = await h.coordinator.list_groups()
    assert sorted(every.groups) == [
        ("offsets-only", "", "Empty", "classic"),
        (GROUP, "consumer", "Stable", "classic"),
    ]
    stable = await h.coordinator.list_groups(states_filter=["stable"])
    assert [g.group_id for g in stable.groups] == [GROUP]
    assert (await h.coordinator.list_groups(types_filter=["consumer"])).groups == []


async def test_offsets_of_an_empty_group_expire_after_retention_since_empty(h: Harness) -> None:
    joined = await stable_group(h)
    await h.commit({("orders", 0): 1}, generation=1, member=joined[0].member_id)
    for _ in range(5 * MINUTE // 3000):  # alive for five minutes after the commit
        await h.advance(3000)
        await h.coordinator.heartbeat(HeartbeatArgs(GROUP, 1, joined[0].member_id))
    await leave_all(h, joined)
    retention = h.coordinator.config.offsets_retention_ms
    assert h.coordinator.expire_offsets(h.clock.now_ms() + retention - 1) == 0
    assert h.coordinator.expire_offsets(h.clock.now_ms() + retention) == 1
    assert h.coordinator.group(GROUP) is None


async def test_offsets_only_groups_expire_by_commit_time(h: Harness) -> None:
    await h.commit({("orders", 0): 1})
    await h.advance(MINUTE)
    await h.commit({("orders", 1): 1})
    retention = h.coordinator.config.offsets_retention_ms
    assert h.coordinator.expire_offsets(h.clock.now_ms() - MINUTE + retention) == 1
    assert await h.fetch() == {("orders", 1): 1}


async def test_stable_groups_keep_offsets_of_subscribed_topics(h: Harness) -> None:
    [me] = await stable_group(h)
    await h.commit({("orders", 0): 1, ("legacy", 0): 1}, generation=1, member=me.member_id)
    retention = h.coordinator.config.offsets_retention_ms
    assert h.coordinator.expire_offsets(h.clock.now_ms() + retention) == 1
    assert await h.fetch() == {("orders", 0): 1}


async def test_expiry_runs_periodically(make_h: Any) -> None:
    h = await make_h(
        load=False, offsets_retention_minutes=1, offsets_retention_check_interval_ms=1000
    )
    await h.coordinator.start()
    await h.commit({("orders", 0): 1})
    await h.advance(MINUTE + 1000)
    assert h.coordinator.group(GROUP) is None


async def test_topic_deletion_removes_offsets(h: Harness) -> None:
    await h.commit({("orders", 0): 1, ("audit", 0): 1})
    assert h.coordinator.on_topic_deleted(["audit"]) == 1
    assert await h.fetch() == {("orders", 0): 1}
    h.coordinator.on_topic_deleted(["orders"])
    assert h.coordinator.group(GROUP) is None


async def test_group_state_after_everyone_left(h: Harness) -> None:
    joined = await stable_group(h, 2)
    await leave_all(h, joined)
    group = h.coordinator.group(GROUP)
    assert group is not None
    assert group.is_(GroupState.EMPTY)
