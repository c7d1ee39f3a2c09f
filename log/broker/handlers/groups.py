"""The classic group membership and group administration APIs.

JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups and
DeleteGroups. Each handler copies the request into the group coordinator's
typed arguments, awaits the coordinator and copies its result back, field by
field; the request version decides which fields the answer may carry
(fields a version lacks keep their defaults, so the codec accepts them).
"""

from __future__ import annotations

from tidal.log.broker._context import RequestContext
from tidal.log.broker.group import (
    DescribedGroup,
    HeartbeatArgs,
    JoinGroupArgs,
    LeaveGroupArgs,
    MemberIdentity,
    SyncGroupArgs,
)
from tidal.log.broker.handlers import handles
from tidal.log.protocol.messages import (
    DeleteGroupsRequest,
    DeleteGroupsResponse,
    DescribeGroupsRequest,
    DescribeGroupsResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    ListGroupsRequest,
    ListGroupsResponse,
    SyncGroupRequest,
    SyncGroupResponse,
)
from tidal.log.protocol.messages import describe_groups as wire_describe
from tidal.log.protocol.messages.delete_groups import DeletableGroupResult
from tidal.log.protocol.messages.join_group import JoinGroupResponseMember
from tidal.log.protocol.messages.leave_group import MemberResponse
from tidal.log.protocol.messages.list_groups import ListedGroup

__all__ = [
    "GROUP_OPERATIONS",
    "delete_groups",
    "describe_groups",
    "heartbeat",
    "join_group",
    "leave_group",
    "list_groups",
    "sync_group",
]

#: Kafka's bit field of the operations allowed on a GROUP resource without an
#: authorizer: READ, DELETE, DESCRIBE (``AclOperation`` codes 3, 6, 8).
GROUP_OPERATIONS = sum(1 << op for op in (3, 6, 8))


@handles(JoinGroupRequest)
async def join_group(ctx: RequestContext, request: JoinGroupRequest) -> JoinGroupResponse:
    """Join (or re-join) a group; answered once the rebalance completes."""
    version = ctx.api_version
    args = JoinGroupArgs(
        group_id=request.group_id,
        session_timeout_ms=request.session_timeout_ms,
        # v0 has no rebalance timeout: the session timeout bounds the rebalance.
        rebalance_timeout_ms=(
            request.session_timeout_ms if version == 0 else request.rebalance_timeout_ms
        ),
        member_id=request.member_id,
        group_instance_id=request.group_instance_id,
        protocol_type=request.protocol_type,
        protocols=[(p.name, p.metadata) for p in request.protocols],
        reason=request.reason,
        client_id=ctx.client_id or "",
        client_host=ctx.client_host,
        require_known_member_id=version >= 4,
        supports_skip_assignment=version >= 9,
    )
    result = await ctx.broker.groups.join_group(args)
    response = JoinGroupResponse(
        error_code=result.error_code,
        generation_id=result.generation_id,
        protocol_type=result.protocol_type,
        # Non-nullable before v7.
        protocol_name=(
            result.protocol_name if version >= 7 or result.protocol_name is not None else ""
        ),
        leader=result.leader,
        member_id=result.member_id,
        members=[
            JoinGroupResponseMember(
                member_id=m.member_id, group_instance_id=m.group_instance_id, metadata=m.metadata
            )
            for m in result.members
        ],
    )
    if version >= 9:
        response.skip_assignment = result.skip_assignment
    return response


@handles(SyncGroupRequest)
async def sync_group(ctx: RequestContext, request: SyncGroupRequest) -> SyncGroupResponse:
    """Hand out the leader's assignment; answered once the leader has synced."""
    args = SyncGroupArgs(
        group_id=request.group_id,
        generation_id=request.generation_id,
        member_id=request.member_id,
        group_instance_id=request.group_instance_id,
        protocol_type=request.protocol_type,
        protocol_name=request.protocol_name,
        assignments=[(a.member_id, a.assignment) for a in request.assignments],
    )
    result = await ctx.broker.groups.sync_group(args)
    return SyncGroupResponse(
        error_code=result.error_code,
        protocol_type=result.protocol_type,
        protocol_name=result.protocol_name,
        assignment=result.assignment,
    )


@handles(HeartbeatRequest)
async def heartbeat(ctx: RequestContext, request: HeartbeatRequest) -> HeartbeatResponse:
    """Keep a member alive; REBALANCE_IN_PROGRESS tells it to re-join."""
    result = await ctx.broker.groups.heartbeat(
        HeartbeatArgs(
            group_id=request.group_id,
            generation_id=request.generation_id,
            member_id=request.member_id,
            group_instance_id=request.group_instance_id,
        )
    )
    return HeartbeatResponse(error_code=result.error_code)


@handles(LeaveGroupRequest)
async def leave_group(ctx: RequestContext, request: LeaveGroupRequest) -> LeaveGroupResponse:
    """Remove one member (v0-2) or a batch of members (v3+)."""
    batched = ctx.api_version >= 3
    if batched:
        members = [
            MemberIdentity(m.member_id, m.group_instance_id, m.reason) for m in request.members
        ]
    else:
        members = [MemberIdentity(request.member_id)]
    result = await ctx.broker.groups.leave_group(LeaveGroupArgs(request.group_id, members))
    if not batched:
        # v0-2 answer with the one member's error when the group itself was fine.
        error = result.error_code
        if error == 0 and result.members:
            error = result.members[0].error_code
        return LeaveGroupResponse(error_code=error)
    return LeaveGroupResponse(
        error_code=result.error_code,
        members=[
            MemberResponse(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                error_code=m.error_code,
            )
            for m in result.members
        ],
    )


def _described(
    ctx: RequestContext, request: DescribeGroupsRequest, group: DescribedGroup
) -> wire_describe.DescribedGroup:
    described = wire_describe.DescribedGroup(
        error_code=group.error_code,
        group_id=group.group_id,
        group_state=group.group_state,
        protocol_type=group.protocol_type,
        protocol_data=group.protocol_data,
        members=[
            wire_describe.DescribedGroupMember(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                member_metadata=m.member_metadata,
                member_assignment=m.member_assignment,
            )
            for m in group.members
        ],
    )
    if ctx.api_version >= 3 and request.include_authorized_operations:
        described.authorized_operations = GROUP_OPERATIONS
    return described


@handles(DescribeGroupsRequest)
async def describe_groups(
    ctx: RequestContext, request: DescribeGroupsRequest
) -> DescribeGroupsResponse:
    """State, protocol and members of each group (unknown groups are ``Dead``)."""
    groups = await ctx.broker.groups.describe_groups(request.groups)
    return DescribeGroupsResponse(groups=[_described(ctx, request, g) for g in groups])


@handles(ListGroupsRequest)
async def list_groups(ctx: RequestContext, request: ListGroupsRequest) -> ListGroupsResponse:
    """Every group, optionally only those in the given states (v4+) or of the
    given types (v5+)."""
    result = await ctx.broker.groups.list_groups(request.states_filter, request.types_filter)
    return ListGroupsResponse(
        error_code=result.error_code,
        groups=[
            ListedGroup(
                group_id=g.group_id,
                protocol_type=g.protocol_type,
                group_state=g.group_state,
                group_type=g.group_type,
            )
            for g in result.groups
        ],
    )


@handles(DeleteGroupsRequest)
async def delete_groups(ctx: RequestContext, request: DeleteGroupsRequest) -> DeleteGroupsResponse:
    """Delete empty groups with their committed offsets."""
    results = await ctx.broker.groups.delete_groups(request.groups_names)
    return DeleteGroupsResponse(
        results=[
            DeletableGroupResult(group_id=r.group_id, error_code=r.error_code) for r in results
        ]
    )
