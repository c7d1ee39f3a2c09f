"""SyncGroup, Heartbeat and LeaveGroup.

SyncGroup from followers waits for the leader's; the leader's assignment is
written to ``__consumer_offsets`` and then handed to every waiting member, and
the group becomes Stable. Heartbeats keep a member's session alive and tell
it when to re-join. LeaveGroup removes members (in batches since v3) and
starts a rebalance.
"""

from __future__ import annotations

import asyncio

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._group import ClassicGroup, GroupState
from tidal.log.broker.group._messages import (
    HeartbeatArgs,
    HeartbeatResult,
    LeaveGroupArgs,
    LeaveGroupMemberResult,
    LeaveGroupResult,
    MemberIdentity,
    SyncGroupArgs,
    SyncGroupResult,
)
from tidal.log.broker.group._rebalance import RebalanceOps

__all__ = ["MembershipOps"]


class MembershipOps(RebalanceOps):
    """The SyncGroup, Heartbeat and LeaveGroup operations."""

    def _member_error(
        self, group: ClassicGroup | None, member_id: str, instance_id: str | None, generation: int
    ) -> int:
        """Kafka's checks shared by SyncGroup and Heartbeat, in Kafka's order."""
        if group is None:
            return errors.UNKNOWN_MEMBER_ID
        if group.is_(GroupState.DEAD):
            return errors.COORDINATOR_NOT_AVAILABLE
        if group.is_static_member_fenced(instance_id, member_id):
            return errors.FENCED_INSTANCE_ID
        if member_id not in group.members:
            return errors.UNKNOWN_MEMBER_ID
        if generation != group.generation_id:
            return errors.ILLEGAL_GENERATION
        return errors.NONE

    async def sync_group(self, args: SyncGroupArgs) -> SyncGroupResult:
        """Send (leader) or await (followers) the assignment of this generation."""
        status = self._status(args.group_id)
        if status == errors.COORDINATOR_LOAD_IN_PROGRESS:
            # The rebalance state was lost with the load: join again. (Older
            # clients do not know COORDINATOR_LOAD_IN_PROGRESS here.)
            return SyncGroupResult(errors.REBALANCE_IN_PROGRESS)
        if status != errors.NONE:
            return SyncGroupResult(status)
        group = self.groups.get(args.group_id)
        error = self._member_error(
            group, args.member_id, args.group_instance_id, args.generation_id
        )
        if error != errors.NONE or group is None:
            return SyncGroupResult(error)
        if (args.protocol_type is not None and args.protocol_type != group.protocol_type) or (
            args.protocol_name is not None and args.protocol_name != group.protocol_name
        ):
            return SyncGroupResult(errors.INCONSISTENT_GROUP_PROTOCOL)
        member = group.members[args.member_id]
        if group.is_(GroupState.EMPTY):
            return SyncGroupResult(errors.UNKNOWN_MEMBER_ID)
        if group.is_(GroupState.PREPARING_REBALANCE):
            return SyncGroupResult(errors.REBALANCE_IN_PROGRESS)
        self._synced(group, args.member_id)
        if group.is_(GroupState.STABLE):
            self._schedule_heartbeat(group, member)
            return SyncGroupResult(
                errors.NONE, group.protocol_type, group.protocol_name, member.assignment
            )
        # CompletingRebalance: wait for the leader's assignment.
        future: asyncio.Future[SyncGroupResult] = asyncio.get_running_loop().create_future()
        self._complete_sync(member, SyncGroupResult(errors.REBALANCE_IN_PROGRESS))
        member.sync_future = future
        if args.member_id == group.leader_id:
            self._store_assignment(group, dict(args.assignments))
        return await future

    def _synced(self, group: ClassicGroup, member_id: str) -> None:
        group.pending_sync.discard(member_id)
        if not group.pending_sync:
            self._cancel_sync_timer(group)

    def _store_assignment(self, group: ClassicGroup, assignments: dict[str, bytes]) -> None:
        assignment = {m: assignments.get(m, b"") for m in group.members}
        error = self.store_group(group, assignment)
        if error != errors.NONE:
            self._reset_and_propagate_assignment_error(group, error)
            self._maybe_prepare_rebalance(group, "storing the assignment failed")
            return
        self._set_and_propagate_assignment(group, assignment)
        group.transition(GroupState.STABLE, self.now())

    async def heartbeat(self, args: HeartbeatArgs) -> HeartbeatResult:
        """Keep the member's session alive; REBALANCE_IN_PROGRESS means re-join."""
        status = self._status(args.group_id)
        if status == errors.COORDINATOR_LOAD_IN_PROGRESS:
            return HeartbeatResult(errors.NONE)  # as Kafka: answer blindly while loading
        if status != errors.NONE:
            return HeartbeatResult(status)
        group = self.groups.get(args.group_id)
        error = self._member_error(
            group, args.member_id, args.group_instance_id, args.generation_id
        )
        if error != errors.NONE or group is None:
            return HeartbeatResult(error)
        if group.is_(GroupState.EMPTY):
            return HeartbeatResult(errors.UNKNOWN_MEMBER_ID)
        self._schedule_heartbeat(group, group.members[args.member_id])
        if group.is_(GroupState.PREPARING_REBALANCE):
            return HeartbeatResult(errors.REBALANCE_IN_PROGRESS)
        return HeartbeatResult(errors.NONE)

    async def leave_group(self, args: LeaveGroupArgs) -> LeaveGroupResult:
        """Remove members (v3+ batch semantics); each gets its own error code."""
        status = self._status(args.group_id)
        if status != errors.NONE:
            return LeaveGroupResult(status)
        group = self.groups.get(args.group_id)
        if group is None:
            return LeaveGroupResult(
                errors.NONE,
                [self._left(m, errors.UNKNOWN_MEMBER_ID) for m in args.members],
            )
        if group.is_(GroupState.DEAD):
            return LeaveGroupResult(errors.COORDINATOR_NOT_AVAILABLE)
        return LeaveGroupResult(errors.NONE, [self._leave(group, m) for m in args.members])

    @staticmethod
    def _left(member: MemberIdentity, error: int) -> LeaveGroupMemberResult:
        return LeaveGroupMemberResult(member.member_id, member.group_instance_id, error)

    def _leave(self, group: ClassicGroup, leaving: MemberIdentity) -> LeaveGroupMemberResult:
        member_id, instance_id = leaving.member_id, leaving.group_instance_id
        reason = f"member {member_id or instance_id} left ({leaving.reason})"
        if member_id == "":
            # An administrator removing a static member by instance id.
            current = group.static_members.get(instance_id) if instance_id is not None else None
            if current is None:
                return self._left(leaving, errors.UNKNOWN_MEMBER_ID)
            self._remove_member_and_update_group(group, group.members[current], reason)
            return self._left(leaving, errors.NONE)
        if member_id in group.pending_members:
            self._remove_pending_member(group, member_id)
            return self._left(leaving, errors.NONE)
        if group.is_static_member_fenced(instance_id, member_id):
            return self._left(leaving, errors.FENCED_INSTANCE_ID)
        member = group.members.get(member_id)
        if member is None:
            return self._left(leaving, errors.UNKNOWN_MEMBER_ID)
        self._remove_member_and_update_group(group, member, reason)
        return self._left(leaving, errors.NONE)
