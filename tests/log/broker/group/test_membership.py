"""Heartbeat, LeaveGroup, session/rebalance/sync timeouts and static membership."""

from __future__ import annotations

import asyncio
from typing import Any

from tidal.log.broker.group import (
    GroupCoordinator,
    GroupCoordinatorConfig,
    GroupState,
    HeartbeatArgs,
    JoinGroupArgs,
    LeaveGroupArgs,
    MemberIdentity,
    MemoryOffsetsStorage,
    SyncGroupArgs,
    errors,
)

GROUP = "orders-app"
SESSION = 6000
REBALANCE = 1000
Harness = Any  # conftest.Harness; test modules cannot import conftest


async def beat(h: Harness, member_id: str, generation: int, instance: str | None = None) -> int:
    result = await h.coordinator.heartbeat(HeartbeatArgs(GROUP, generation, member_id, instance))
    return int(result.error_code)


def state(h: Harness) -> GroupState:
    group = h.coordinator.group(GROUP)
    assert group is not None
    return group.state  # type: ignore[no-any-return]


async def test_heartbeat_answers(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    member = joined[1].member_id
    assert await beat(h, member, 1) == errors.NONE
    assert await beat(h, member, 0) == errors.ILLEGAL_GENERATION
    assert await beat(h, "stranger", 1) == errors.UNKNOWN_MEMBER_ID
    result = await h.coordinator.heartbeat(HeartbeatArgs("no-such-group", 1, member))
    assert result.error_code == errors.UNKNOWN_MEMBER_ID
    h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.settle()
    assert await beat(h, member, 1) == errors.REBALANCE_IN_PROGRESS


async def test_leave_triggers_a_rebalance_of_the_rest(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    leaving = joined[1].member_id
    left = await h.coordinator.leave_group(LeaveGroupArgs(GROUP, [MemberIdentity(leaving)]))
    assert left.error_code == errors.NONE
    assert left.members == [(leaving, None, errors.NONE)]
    assert state(h) is GroupState.PREPARING_REBALANCE
    rejoined = await h.coordinator.join_group(h.args(joined[0].member_id))
    assert rejoined.generation_id == 2
    assert [m.member_id for m in rejoined.members] == [joined[0].member_id]


async def test_leave_in_batches_with_per_member_errors(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    members = [MemberIdentity(r.member_id, reason="shutdown") for r in joined]
    left = await h.coordinator.leave_group(
        LeaveGroupArgs(GROUP, [*members, MemberIdentity("ghost"), MemberIdentity("", "nobody")])
    )
    assert [m.error_code for m in left.members] == [
        errors.NONE,
        errors.NONE,
        errors.UNKNOWN_MEMBER_ID,
        errors.UNKNOWN_MEMBER_ID,
    ]
    group = h.coordinator.group(GROUP)
    assert group is not None
    assert (group.state, group.generation_id) == (GroupState.EMPTY, 2)
    missing = await h.coordinator.leave_group(LeaveGroupArgs("nope", [MemberIdentity("x")]))
    assert missing.members == [("x", None, errors.UNKNOWN_MEMBER_ID)]


async def test_session_expiry_removes_a_silent_member(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    alive, silent = joined[0].member_id, joined[1].member_id
    for _ in range(2):
        await h.advance(SESSION // 2)
        await beat(h, alive, 1)
    assert state(h) is GroupState.PREPARING_REBALANCE
    assert await beat(h, alive, 1) == errors.REBALANCE_IN_PROGRESS
    assert await beat(h, silent, 1) == errors.UNKNOWN_MEMBER_ID
    rejoined = await h.coordinator.join_group(h.args(alive))
    assert [m.member_id for m in rejoined.members] == [alive]


async def test_rebalance_timeout_removes_members_that_do_not_rejoin(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    newcomer = h.spawn(h.coordinator.join_group(h.args(v4=False, client_id="late")))
    leader = h.spawn(h.coordinator.join_group(h.args(joined[0].member_id)))
    await h.advance(REBALANCE - 1)
    assert not leader.done()
    await h.advance(1)
    result = leader.result()
    assert result.generation_id == 2
    assert {m.member_id for m in result.members} == {
        joined[0].member_id,
        newcomer.result().member_id,
    }
    assert await beat(h, joined[1].member_id, 1) == errors.UNKNOWN_MEMBER_ID


async def test_members_that_never_sync_are_removed(h: Harness) -> None:
    joined = await h.form_group(2)
    leader = joined[0]
    synced = await h.coordinator.sync_group(
        SyncGroupArgs(GROUP, 1, leader.member_id, assignments=[(leader.member_id, b"a")])
    )
    assert synced.assignment == b"a"
    assert state(h) is GroupState.STABLE
    await h.advance(REBALANCE)
    assert state(h) is GroupState.PREPARING_REBALANCE
    assert await beat(h, joined[1].member_id, 1) == errors.UNKNOWN_MEMBER_ID
    assert await beat(h, leader.member_id, 1) == errors.REBALANCE_IN_PROGRESS


async def test_static_member_restart_takes_over_without_rebalance(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    static_join = h.spawn(h.coordinator.join_group(h.args(instance="host-9")))
    rejoins = [h.spawn(h.coordinator.join_group(h.args(r.member_id))) for r in joined]
    await h.settle()
    second = [await j for j in [*rejoins, static_join]]
    static = second[2].member_id
    await h.sync_all(
        second, {r.member_id: b"static" if r.member_id == static else b"" for r in second}
    )
    # It restarts: a new member id, the same instance id; the group stays Stable.
    again = await h.coordinator.join_group(h.args(instance="host-9"))
    assert again.error_code == errors.NONE
    assert again.member_id != static
    assert again.generation_id == 2
    assert state(h) is GroupState.STABLE
    assert await beat(h, static, 2, "host-9") == errors.FENCED_INSTANCE_ID
    stale_sync = SyncGroupArgs(GROUP, 2, static, group_instance_id="host-9")
    assert (await h.coordinator.sync_group(stale_sync)).error_code == errors.FENCED_INSTANCE_ID
    sync = await h.coordinator.sync_group(
        SyncGroupArgs(GROUP, 2, again.member_id, group_instance_id="host-9")
    )
    assert sync.assignment == b"static"
    assert await beat(h, again.member_id, 2, "host-9") == errors.NONE


async def test_static_leader_restart_keeps_old_leader_id_before_v9(h: Harness) -> None:
    join = h.spawn(h.coordinator.join_group(h.args(instance="lead")))
    [first] = await h.initial_rebalance([join])
    await h.sync_all([first])
    old = await h.coordinator.join_group(h.args(instance="lead"))
    assert (old.leader, old.skip_assignment) == (first.member_id, False)
    new = await h.coordinator.join_group(h.args(instance="lead", skip=True))
    assert (new.leader, new.skip_assignment) == (new.member_id, True)
    assert [m.member_id for m in new.members] == [new.member_id]


async def test_static_members_outlive_the_rebalance_timeout(h: Harness) -> None:
    joins = [h.spawn(h.coordinator.join_group(h.args(instance=f"i{i}"))) for i in range(2)]
    joined = await h.initial_rebalance(joins)
    await h.sync_all(joined)
    h.spawn(h.coordinator.join_group(h.args(v4=False, client_id="dyn")))
    leader = h.spawn(h.coordinator.join_group(h.args(joined[0].member_id, instance="i0")))
    await h.advance(REBALANCE)
    # i1 did not re-join but, being static, keeps its place (and its old member id).
    members = {m.member_id: m.group_instance_id for m in leader.result().members}
    assert members[joined[1].member_id] == "i1"
    assert len(members) == 3


async def test_static_member_removed_by_instance_id(h: Harness) -> None:
    joins = [h.spawn(h.coordinator.join_group(h.args(instance=f"i{i}"))) for i in range(2)]
    joined = await h.initial_rebalance(joins)
    await h.sync_all(joined)
    left = await h.coordinator.leave_group(LeaveGroupArgs(GROUP, [MemberIdentity("", "i1")]))
    assert left.members == [("", "i1", errors.NONE)]
    assert state(h) is GroupState.PREPARING_REBALANCE
    wrong = MemberIdentity(joined[1].member_id, "i0")
    fenced = await h.coordinator.leave_group(LeaveGroupArgs(GROUP, [wrong]))
    assert fenced.members[0].error_code == errors.FENCED_INSTANCE_ID


async def test_timers_on_the_real_event_loop() -> None:
    config = GroupCoordinatorConfig(
        min_session_timeout_ms=1, initial_rebalance_delay_ms=0, offsets_topic_num_partitions=1
    )
    coordinator = GroupCoordinator(MemoryOffsetsStorage(), config)  # LoopScheduler
    await coordinator.start()
    args = JoinGroupArgs(GROUP, 30, 30, "", None, "consumer", [("range", b"")])
    joined = await coordinator.join_group(args)  # no delay: the rebalance completes at once
    assert (joined.error_code, joined.generation_id) == (errors.NONE, 1)
    sync = SyncGroupArgs(GROUP, 1, joined.member_id, assignments=[(joined.member_id, b"x")])
    assert (await coordinator.sync_group(sync)).assignment == b"x"
    await asyncio.sleep(0.1)  # no heartbeats: the 30 ms session expires
    group = coordinator.group(GROUP)
    assert group is not None
    assert (group.state, group.members) == (GroupState.EMPTY, {})
    coordinator.close()
