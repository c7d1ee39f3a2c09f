"""JoinGroup and SyncGroup: forming groups, leaders, assignments, KIP-394, protocols."""

from __future__ import annotations

import asyncio
from typing import Any

from tidal.log.broker.group import GroupState, HeartbeatArgs, JoinGroupArgs, SyncGroupArgs, errors

GROUP = "orders-app"
INITIAL_DELAY = 100
REBALANCE = 1000
Harness = Any  # conftest.Harness; test modules cannot import conftest


async def test_one_member_joins_after_the_initial_delay_and_syncs(h: Harness) -> None:
    member_id = await h.new_member_id()
    join = h.spawn(h.coordinator.join_group(h.args(member_id)))
    await h.advance(INITIAL_DELAY - 1)
    assert not join.done()  # the first rebalance of a new group waits
    await h.advance(1)
    result = join.result()
    assert result.error_code == errors.NONE
    assert (result.generation_id, result.leader, result.member_id) == (1, member_id, member_id)
    assert (result.protocol_type, result.protocol_name) == ("consumer", "range")
    assert result.members == [(member_id, None, h.subscription("orders"))]
    [synced] = await h.sync_all([result], {member_id: b"orders-0,1"})
    assert (synced.error_code, synced.assignment) == (errors.NONE, b"orders-0,1")
    assert (synced.protocol_type, synced.protocol_name) == ("consumer", "range")
    group = h.coordinator.group(GROUP)
    assert group is not None
    assert group.is_(GroupState.STABLE)


async def test_three_members_get_one_leader_and_their_own_assignments(h: Harness) -> None:
    joined = await h.form_group(3)
    assert {r.error_code for r in joined} == {errors.NONE}
    assert {r.generation_id for r in joined} == {1}
    leader = joined[0].member_id  # the first member to join leads
    assert {r.leader for r in joined} == {leader}
    assert [len(r.members) for r in joined] == [3, 0, 0]
    assert [m.member_id for m in joined[0].members] == [r.member_id for r in joined]
    synced = await h.sync_all(joined)
    assert [s.assignment for s in synced] == [r.member_id.encode() for r in joined]


async def test_leader_assignment_misses_members_they_get_empty_bytes(h: Harness) -> None:
    joined = await h.form_group(2)
    synced = await h.sync_all(joined, {joined[0].member_id: b"all"})
    assert [s.assignment for s in synced] == [b"all", b""]


async def test_member_joining_a_stable_group_triggers_a_rebalance(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    newcomer = await h.new_member_id(client_id="late")
    new_join = h.spawn(h.coordinator.join_group(h.args(newcomer, client_id="late")))
    await h.settle()
    assert not new_join.done()
    for r in joined:
        beat = await h.coordinator.heartbeat(HeartbeatArgs(GROUP, 1, r.member_id))
        assert beat.error_code == errors.REBALANCE_IN_PROGRESS
    rejoins = [h.spawn(h.coordinator.join_group(h.args(r.member_id))) for r in joined]
    await h.settle()
    results = [await j for j in [*rejoins, new_join]]  # complete once all re-joined
    assert {r.generation_id for r in results} == {2}
    assert len(results[0].members) == 3
    assert results[0].leader == joined[0].member_id


async def test_follower_rejoining_unchanged_gets_the_current_generation(h: Harness) -> None:
    joined = await h.form_group(2)
    await h.sync_all(joined)
    again = await h.coordinator.join_group(h.args(joined[1].member_id))
    assert (again.error_code, again.generation_id, again.members) == (errors.NONE, 1, [])
    group = h.coordinator.group(GROUP)
    assert group is not None
    assert group.is_(GroupState.STABLE)
    # The leader re-joining asks for a rebalance (e.g. new partitions to assign).
    lead = h.spawn(h.coordinator.join_group(h.args(joined[0].member_id)))
    await h.settle()
    assert group.is_(GroupState.PREPARING_REBALANCE)
    assert not lead.done()


async def test_member_id_required_only_for_new_dynamic_members_on_v4(h: Harness) -> None:
    old_client = h.spawn(h.coordinator.join_group(h.args(v4=False, client_id="old")))
    static = h.spawn(h.coordinator.join_group(h.args(instance="host-1")))
    await h.initial_rebalance([old_client, static])
    assert old_client.result().member_id.startswith("old-")
    assert static.result().member_id.startswith("host-1-")
    assert {old_client.result().error_code, static.result().error_code} == {errors.NONE}


async def test_pending_member_id_expires_after_the_session_timeout(h: Harness) -> None:
    first = await h.new_member_id()
    h.spawn(h.coordinator.join_group(h.args(first)))
    pending = await h.new_member_id(session=7000)
    await h.advance(7000)
    late = await h.coordinator.join_group(h.args(pending))
    assert late.error_code == errors.UNKNOWN_MEMBER_ID


async def test_rebalance_waits_for_pending_members(h: Harness) -> None:
    joined = await h.form_group(1)
    await h.sync_all(joined)
    pending = await h.new_member_id(client_id="second")
    leader = h.spawn(h.coordinator.join_group(h.args(joined[0].member_id)))
    await h.settle()
    assert not leader.done()  # a rebalance started by the leader waits for the pending id
    second = await h.coordinator.join_group(h.args(pending, client_id="second"))
    assert second.generation_id == 2
    assert len((await leader).members) == 2


async def test_protocol_voting_picks_the_most_preferred_common_protocol(h: Harness) -> None:
    rr, rng, sticky = ("roundrobin", b"rr"), ("range", b"rg"), ("sticky", b"st")
    prefs = [[rr, rng, sticky], [rng, rr], [rr, rng]]
    ids = [await h.new_member_id(protocols=p) for p in prefs]
    joins = [
        h.spawn(h.coordinator.join_group(h.args(m, protocols=p)))
        for m, p in zip(ids, prefs, strict=True)
    ]
    results = await h.initial_rebalance(joins)
    assert {r.protocol_name for r in results} == {"roundrobin"}  # 2 votes against 1
    assert [m.metadata for m in results[0].members] == [b"rr", b"rr", b"rr"]


async def test_no_common_protocol_is_inconsistent(h: Harness) -> None:
    java = [("range", b""), ("cooperative-sticky", b"")]
    h.spawn(h.coordinator.join_group(h.args(protocols=java, v4=False)))
    await h.settle()
    aiokafka = await h.coordinator.join_group(h.args(protocols=[("roundrobin", b"")]))
    assert aiokafka.error_code == errors.INCONSISTENT_GROUP_PROTOCOL
    other_type = JoinGroupArgs(GROUP, 10_000, 10_000, "", None, "connect", java)
    result = await h.coordinator.join_group(other_type)
    assert result.error_code == errors.INCONSISTENT_GROUP_PROTOCOL
    no_protocols = JoinGroupArgs("fresh", 10_000, 10_000, "", None, "consumer", [])
    result = await h.coordinator.join_group(no_protocols)
    assert result.error_code == errors.INCONSISTENT_GROUP_PROTOCOL


async def test_initial_delay_grows_while_members_keep_arriving(h: Harness) -> None:
    first = h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.advance(INITIAL_DELAY // 2)
    second = h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.advance(INITIAL_DELAY // 2)
    assert not first.done()  # someone arrived during the delay: wait once more
    await h.advance(INITIAL_DELAY)
    assert first.done()
    assert second.done()
    assert len(first.result().members) == 2


async def test_initial_delay_never_exceeds_the_rebalance_timeout(h: Harness) -> None:
    first = h.spawn(h.coordinator.join_group(h.args(v4=False)))
    waited = 0
    while not first.done():
        h.spawn(h.coordinator.join_group(h.args(v4=False)))
        await h.advance(INITIAL_DELAY // 2)
        waited += INITIAL_DELAY // 2
    assert waited <= REBALANCE + INITIAL_DELAY


async def test_session_timeout_bounds_and_group_id_are_checked(h: Harness) -> None:
    for session in (5999, 1_800_001):
        result = await h.coordinator.join_group(h.args(session=session))
        assert result.error_code == errors.INVALID_SESSION_TIMEOUT
    result = await h.coordinator.join_group(h.args(group=""))
    assert result.error_code == errors.INVALID_GROUP_ID
    result = await h.coordinator.join_group(h.args("someone", group="nobody"))
    assert result.error_code == errors.UNKNOWN_MEMBER_ID


async def test_group_max_size(make_h: Any) -> None:
    h = await make_h(max_size=2)
    joined = await h.form_group(2)
    await h.sync_all(joined)
    third = await h.coordinator.join_group(h.args(v4=False))
    assert third.error_code == errors.GROUP_MAX_SIZE_REACHED


async def test_requests_while_loading(make_h: Any) -> None:
    h = await make_h(load=False)
    coordinator = h.coordinator
    result = await coordinator.join_group(h.args())
    assert result.error_code == errors.COORDINATOR_LOAD_IN_PROGRESS
    # As Kafka: SyncGroup says re-join, Heartbeat answers blindly.
    sync = await coordinator.sync_group(SyncGroupArgs(GROUP, 1, "m"))
    assert sync.error_code == errors.REBALANCE_IN_PROGRESS
    beat = await coordinator.heartbeat(HeartbeatArgs(GROUP, 1, "m"))
    assert beat.error_code == errors.NONE


async def test_sync_group_checks(h: Harness) -> None:
    joined = await h.form_group(2)
    leader, follower = joined
    stale = await h.coordinator.sync_group(SyncGroupArgs(GROUP, 0, follower.member_id))
    assert stale.error_code == errors.ILLEGAL_GENERATION
    unknown = await h.coordinator.sync_group(SyncGroupArgs(GROUP, 1, "nobody"))
    assert unknown.error_code == errors.UNKNOWN_MEMBER_ID
    wrong = SyncGroupArgs(GROUP, 1, follower.member_id, protocol_name="roundrobin")
    assert (await h.coordinator.sync_group(wrong)).error_code == errors.INCONSISTENT_GROUP_PROTOCOL
    # A follower waiting for the leader learns of a new rebalance.
    waiting = h.spawn(h.coordinator.sync_group(SyncGroupArgs(GROUP, 1, follower.member_id)))
    await h.settle()
    h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.settle()
    assert (await waiting).error_code == errors.REBALANCE_IN_PROGRESS
    during = await h.coordinator.sync_group(SyncGroupArgs(GROUP, 1, leader.member_id))
    assert during.error_code == errors.REBALANCE_IN_PROGRESS


async def test_close_answers_waiting_joins(h: Harness) -> None:
    join = h.spawn(h.coordinator.join_group(h.args(v4=False)))
    await h.settle()
    h.coordinator.close()
    result = await asyncio.wait_for(join, 1)
    assert result.error_code == errors.NOT_COORDINATOR
