"""The group membership and administration handlers over a real coordinator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.broker.group import errors
from tidal.log.protocol.messages import (
    DeleteGroupsRequest,
    DescribeGroupsRequest,
    HeartbeatRequest,
    JoinGroupRequest,
    LeaveGroupRequest,
    ListGroupsRequest,
    SyncGroupRequest,
)
from tidal.log.protocol.messages.join_group import JoinGroupRequestProtocol
from tidal.log.protocol.messages.leave_group import MemberIdentity
from tidal.log.protocol.messages.sync_group import SyncGroupRequestAssignment

Call = Any
Subscription = Callable[..., bytes]
GROUP = "orders-app"

# Versions of (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups)
# that clients pair up: kafka-python 2.0, librdkafka, aiokafka, kafka-python 3, Java 4.
CLIENT_VERSIONS = [
    (0, 0, 0, 0, 0, 0),
    (2, 1, 1, 1, 1, 1),
    (4, 3, 3, 2, 3, 2),
    (5, 3, 3, 3, 4, 4),
    (7, 5, 4, 5, 5, 5),
    (9, 5, 4, 5, 5, 5),
]


def join_request(
    version: int, member_id: str, subscription: bytes, instance_id: str | None = None
) -> JoinGroupRequest:
    request = JoinGroupRequest(
        group_id=GROUP,
        session_timeout_ms=10_000,
        member_id=member_id,
        protocol_type="consumer",
        protocols=[
            JoinGroupRequestProtocol(name="range", metadata=subscription),
            JoinGroupRequestProtocol(name="roundrobin", metadata=subscription),
        ],
    )
    if version >= 1:
        request.rebalance_timeout_ms = 5_000
    if version >= 5:
        request.group_instance_id = instance_id
    if version >= 8:
        request.reason = "starting"
    return request


async def join(call: Call, version: int, subscription: bytes, member_id: str = "") -> Any:
    """JoinGroup, repeating once with the assigned id after MEMBER_ID_REQUIRED (v4+)."""
    response = await call(join_request(version, member_id, subscription), version)
    if response.error_code == errors.MEMBER_ID_REQUIRED:
        assert version >= 4
        assert response.member_id
        response = await call(join_request(version, response.member_id, subscription), version)
    return response


@pytest.mark.parametrize("versions", CLIENT_VERSIONS)
async def test_one_member_lifecycle(
    call: Call, broker: Broker, subscription: Subscription, versions: tuple[int, ...]
) -> None:
    join_v, sync_v, heartbeat_v, leave_v, describe_v, list_v = versions
    meta = subscription("orders")
    joined = await join(call, join_v, meta)
    assert joined.error_code == 0
    member_id = joined.member_id
    assert (joined.generation_id, joined.leader, joined.protocol_name) == (1, member_id, "range")
    assert [(m.member_id, m.metadata) for m in joined.members] == [(member_id, meta)]
    assert joined.protocol_type == ("consumer" if join_v >= 7 else None)
    assert joined.skip_assignment is False

    sync = SyncGroupRequest(
        group_id=GROUP,
        generation_id=1,
        member_id=member_id,
        assignments=[SyncGroupRequestAssignment(member_id=member_id, assignment=b"all")],
    )
    if sync_v >= 5:
        sync.protocol_type, sync.protocol_name = "consumer", "range"
    synced = await call(sync, sync_v)
    assert (synced.error_code, synced.assignment) == (0, b"all")
    assert synced.protocol_name == ("range" if sync_v >= 5 else None)

    beat = await call(HeartbeatRequest(group_id=GROUP, generation_id=1, member_id=member_id), 0)
    assert beat.error_code == 0
    beat = await call(
        HeartbeatRequest(group_id=GROUP, generation_id=0, member_id=member_id), heartbeat_v
    )
    assert beat.error_code == errors.ILLEGAL_GENERATION

    described = await call(
        DescribeGroupsRequest(
            groups=[GROUP, "nobody"], include_authorized_operations=describe_v >= 3
        ),
        describe_v,
    )
    group, nobody = described.groups
    assert (group.error_code, group.group_state, group.protocol_type) == (0, "Stable", "consumer")
    assert group.protocol_data == "range"
    [member] = group.members
    assert (member.member_id, member.client_id, member.client_host) == (
        member_id,
        "tester",
        "/127.0.0.1",
    )
    assert (member.member_metadata, member.member_assignment) == (meta, b"all")
    assert (nobody.group_state, nobody.members) == ("Dead", [])
    if describe_v >= 3:
        assert group.authorized_operations > 0
    else:
        assert group.authorized_operations == -(2**31)

    listed = await call(ListGroupsRequest(), list_v)
    assert [(g.group_id, g.protocol_type) for g in listed.groups] == [(GROUP, "consumer")]
    assert listed.groups[0].group_state == ("Stable" if list_v >= 4 else "")

    if leave_v >= 3:
        leave = LeaveGroupRequest(group_id=GROUP, members=[MemberIdentity(member_id=member_id)])
    else:
        leave = LeaveGroupRequest(group_id=GROUP, member_id=member_id)
    left = await call(leave, leave_v)
    assert left.error_code == 0
    if leave_v >= 3:
        assert [(m.member_id, m.error_code) for m in left.members] == [(member_id, 0)]
    again = await call(leave, leave_v)
    if leave_v >= 3:
        assert again.error_code == 0
        assert again.members[0].error_code == errors.UNKNOWN_MEMBER_ID
    else:
        assert again.error_code == errors.UNKNOWN_MEMBER_ID

    deleted = await call(DeleteGroupsRequest(groups_names=[GROUP, GROUP + "-x"]), 2)
    assert [(r.group_id, r.error_code) for r in deleted.results] == [
        (GROUP, 0),
        (GROUP + "-x", errors.GROUP_ID_NOT_FOUND),
    ]


async def test_two_members_rebalance_and_only_the_leader_sees_members(
    call: Call, subscription: Subscription
) -> None:
    first = await join(call, 7, subscription("a"))
    assert first.generation_id == 1
    leader_id = first.member_id
    await call(
        SyncGroupRequest(
            group_id=GROUP,
            generation_id=1,
            member_id=leader_id,
            assignments=[SyncGroupRequestAssignment(member_id=leader_id, assignment=b"x")],
        ),
        5,
    )
    # A second member joins: the leader learns it from its heartbeat and re-joins.
    second = asyncio.ensure_future(join(call, 5, subscription("a")))
    for _ in range(100):
        beat = await call(HeartbeatRequest(group_id=GROUP, generation_id=1, member_id=leader_id), 4)
        if beat.error_code == errors.REBALANCE_IN_PROGRESS:
            break
        await asyncio.sleep(0.01)
    assert beat.error_code == errors.REBALANCE_IN_PROGRESS
    rejoined = await call(join_request(7, leader_id, subscription("a")), 7)
    follower = await second
    assert rejoined.generation_id == follower.generation_id == 2
    assert rejoined.leader == follower.leader == leader_id
    assert sorted(m.member_id for m in rejoined.members) == sorted([leader_id, follower.member_id])
    assert follower.members == []


async def test_join_group_errors(call: Call, subscription: Subscription) -> None:
    bad_timeout = join_request(5, "", subscription("a"))
    bad_timeout.session_timeout_ms = 1
    response = await call(bad_timeout, 5)
    assert response.error_code == errors.INVALID_SESSION_TIMEOUT
    assert response.protocol_name == ""  # not nullable before v7
    response = await call(join_request(9, "stranger", subscription("a")), 9)
    assert response.error_code == errors.UNKNOWN_MEMBER_ID
    assert response.protocol_name is None
    empty = join_request(2, "", subscription("a"))
    empty.group_id = ""
    response = await call(empty, 2)
    assert response.error_code == errors.INVALID_GROUP_ID


async def test_join_v0_uses_the_session_timeout_for_rebalances(
    call: Call, broker: Broker, subscription: Subscription
) -> None:
    joined = await join(call, 0, subscription("a"))
    assert joined.error_code == 0
    group = broker.groups.group(GROUP)
    assert group is not None
    member = group.members[joined.member_id]
    assert member.rebalance_timeout_ms == member.session_timeout_ms == 10_000


async def test_static_member_leaves_by_instance_id(
    call: Call, broker: Broker, subscription: Subscription
) -> None:
    joined = await call(join_request(5, "", subscription("a"), instance_id="host-1"), 5)
    assert joined.error_code == 0  # static members skip MEMBER_ID_REQUIRED
    left = await call(
        LeaveGroupRequest(
            group_id=GROUP, members=[MemberIdentity(group_instance_id="host-1", reason="bye")]
        ),
        5,
    )
    assert [(m.member_id, m.group_instance_id, m.error_code) for m in left.members] == [
        ("", "host-1", 0)
    ]
    group = broker.groups.group(GROUP)
    assert group is not None
    assert group.members == {}


async def test_list_groups_filters(call: Call, subscription: Subscription) -> None:
    await join(call, 7, subscription("a"))
    listed = await call(ListGroupsRequest(states_filter=["completingrebalance", "Empty"]), 4)
    assert [g.group_id for g in listed.groups] == [GROUP]
    listed = await call(ListGroupsRequest(states_filter=["Empty"]), 4)
    assert listed.groups == []
    listed = await call(ListGroupsRequest(types_filter=["classic"]), 5)
    assert [(g.group_id, g.group_type) for g in listed.groups] == [(GROUP, "classic")]
    listed = await call(ListGroupsRequest(types_filter=["consumer"]), 5)
    assert listed.groups == []


async def test_delete_non_empty_group(call: Call, subscription: Subscription) -> None:
    await join(call, 7, subscription("a"))
    deleted = await call(DeleteGroupsRequest(groups_names=[GROUP]), 0)
    assert deleted.results[0].error_code == errors.NON_EMPTY_GROUP


async def test_sync_and_heartbeat_errors(call: Call) -> None:
    synced = await call(SyncGroupRequest(group_id=GROUP, generation_id=1, member_id="m"), 3)
    assert synced.error_code == errors.UNKNOWN_MEMBER_ID
    beat = await call(HeartbeatRequest(group_id=GROUP, generation_id=1, member_id="m"), 2)
    assert beat.error_code == errors.UNKNOWN_MEMBER_ID


async def test_coordinator_closed_answers_not_coordinator(
    call: Call, broker: Broker, subscription: Subscription
) -> None:
    broker.groups.close()
    response = await call(join_request(3, "", subscription("a")), 3)
    assert response.error_code == errors.NOT_COORDINATOR
    listed = await call(ListGroupsRequest(), 3)
    assert listed.error_code == errors.NOT_COORDINATOR
