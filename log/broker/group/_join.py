"""JoinGroup: new, pending, current and static members (Kafka's classic rules).

A new dynamic member on JoinGroup v4+ first gets MEMBER_ID_REQUIRED and a
generated id (KIP-394) and joins again with it; a static member (with a
``group.instance.id``) joins at once and, when its instance id is known,
takes over the old member id's place, fencing the old id. The answer waits
until the rebalance completes; a follower re-joining a Stable group with
unchanged metadata gets the current generation at once.
"""

from __future__ import annotations

import asyncio
import uuid

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._group import ClassicGroup, GroupState, MemberMetadata
from tidal.log.broker.group._messages import JoinGroupArgs, JoinGroupResult, SyncGroupResult
from tidal.log.broker.group._rebalance import RebalanceOps

__all__ = ["JoinOps"]

_Future = asyncio.Future[JoinGroupResult]


class JoinOps(RebalanceOps):
    """The JoinGroup operation."""

    async def join_group(self, args: JoinGroupArgs) -> JoinGroupResult:
        """Join (or re-join) ``args.group_id``; returns when the rebalance completes.

        Only the leader's result lists the members, with each member's
        metadata for the chosen protocol.
        """
        error = self._status(args.group_id)
        if error == errors.NONE:
            config = self.config
            if not (
                config.min_session_timeout_ms
                <= args.session_timeout_ms
                <= config.max_session_timeout_ms
            ):
                error = errors.INVALID_SESSION_TIMEOUT
        if error != errors.NONE:
            return JoinGroupResult(error, member_id=args.member_id)
        is_new = args.member_id == ""
        group = self.groups.get(args.group_id)
        if group is None:
            if not is_new:
                return JoinGroupResult(errors.UNKNOWN_MEMBER_ID, member_id=args.member_id)
            group = ClassicGroup(args.group_id, state_timestamp=self.now())
            self.groups[args.group_id] = group
        if not self._accept_joining_member(group, args.member_id):
            self._reject_over_max_size(group, args.member_id)
            return JoinGroupResult(errors.GROUP_MAX_SIZE_REACHED)
        future: _Future = asyncio.get_running_loop().create_future()
        if is_new:
            self._join_new_member(group, args, future)
        else:
            self._join_current_member(group, args, future)
        self._try_complete_join(group)
        return await future

    def _accept_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        limit = self.config.max_size
        member = group.members.get(member_id)
        if group.state in (GroupState.EMPTY, GroupState.DEAD):
            return True
        if group.is_(GroupState.PREPARING_REBALANCE):
            joined = member is not None and member.join_future is not None
            return joined or group.awaiting_join() < limit
        return member is not None or len(group.members) < limit

    def _reject_over_max_size(self, group: ClassicGroup, member_id: str) -> None:
        member = group.members.get(member_id)
        if member is not None:
            self._remove_member_and_update_group(group, member, "group is over group.max.size")
        elif member_id in group.pending_members:
            self._remove_pending_member(group, member_id)

    @staticmethod
    def _answer(future: _Future, error: int, member_id: str = "") -> None:
        if not future.done():
            future.set_result(JoinGroupResult(error, member_id=member_id))

    def _join_new_member(self, group: ClassicGroup, args: JoinGroupArgs, future: _Future) -> None:
        if group.is_(GroupState.DEAD):
            self._answer(future, errors.COORDINATOR_NOT_AVAILABLE)
            return
        if not group.supports_protocols(args.protocol_type, args.protocols):
            self._answer(future, errors.INCONSISTENT_GROUP_PROTOCOL)
            return
        instance_id = args.group_instance_id
        member_id = f"{instance_id if instance_id is not None else args.client_id}-{uuid.uuid4()}"
        if instance_id is not None:
            old_id = group.static_members.get(instance_id)
            if old_id is not None:
                self._update_static_member(group, old_id, member_id, args, future)
            else:
                self._add_member_and_rebalance(group, args, member_id, future)
        elif args.require_known_member_id:
            # KIP-394: the client joins again with this id; until then it is pending.
            self._add_pending_member(group, member_id, args.session_timeout_ms)
            self._answer(future, errors.MEMBER_ID_REQUIRED, member_id)
        else:
            self._add_member_and_rebalance(group, args, member_id, future)

    def _join_current_member(
        self, group: ClassicGroup, args: JoinGroupArgs, future: _Future
    ) -> None:
        member_id = args.member_id
        if group.is_(GroupState.DEAD):
            self._answer(future, errors.COORDINATOR_NOT_AVAILABLE, member_id)
        elif not group.supports_protocols(args.protocol_type, args.protocols):
            self._answer(future, errors.INCONSISTENT_GROUP_PROTOCOL, member_id)
        elif member_id in group.pending_members:
            self._add_member_and_rebalance(group, args, member_id, future)
        elif group.is_static_member_fenced(args.group_instance_id, member_id):
            self._answer(future, errors.FENCED_INSTANCE_ID, member_id)
        elif member_id not in group.members or (
            args.group_instance_id is not None
            and args.group_instance_id not in group.static_members
        ):
            self._answer(future, errors.UNKNOWN_MEMBER_ID, member_id)
        else:
            self._rejoin(group, group.members[member_id], args, future)

    def _rejoin(
        self, group: ClassicGroup, member: MemberMetadata, args: JoinGroupArgs, future: _Future
    ) -> None:
        state = group.state
        is_leader = member.member_id == group.leader_id
        unchanged = member.matches(args.protocols)
        if state is GroupState.PREPARING_REBALANCE or (
            # The leader re-joining a Stable group asks for a rebalance (e.g.
            # its topics' partitions changed); so does any changed subscription.
            state in (GroupState.COMPLETING_REBALANCE, GroupState.STABLE)
            and (not unchanged or (state is GroupState.STABLE and is_leader))
        ):
            self._update_member_and_rebalance(group, member, args, future)
        elif state in (GroupState.COMPLETING_REBALANCE, GroupState.STABLE):
            # Same metadata (a lost JoinGroup answer, say): the current generation.
            members = group.current_member_metadata() if is_leader else []
            future.set_result(
                JoinGroupResult(
                    errors.NONE,
                    group.generation_id,
                    group.protocol_type,
                    group.protocol_name,
                    group.leader_id or "",
                    False,
                    member.member_id,
                    members,
                )
            )
        else:  # Empty: the member was removed meanwhile
            self._answer(future, errors.UNKNOWN_MEMBER_ID, member.member_id)

    def _set_join_future(self, member: MemberMetadata, future: _Future) -> None:
        # A second JoinGroup while one waits: the older one learns to retry.
        self._complete_join(member, JoinGroupResult(errors.REBALANCE_IN_PROGRESS))
        member.join_future = future

    def _add_member_and_rebalance(
        self, group: ClassicGroup, args: JoinGroupArgs, member_id: str, future: _Future
    ) -> None:
        timer = group.pending_timers.pop(member_id, None)
        if timer is not None:
            timer.cancel()
        member = MemberMetadata(
            member_id,
            args.group_instance_id,
            args.client_id,
            args.client_host,
            args.rebalance_timeout_ms,
            args.session_timeout_ms,
            args.protocol_type,
            list(args.protocols),
            join_future=future,
            is_new=True,
        )
        if group.is_(GroupState.PREPARING_REBALANCE) and group.generation_id == 0:
            group.new_member_added = True
        group.add(member)
        # A new member cannot heartbeat while its JoinGroup waits, and a client
        # that gave up would leave a ghost behind: bound its wait.
        self._schedule_heartbeat(group, member, self.config.new_member_join_timeout_ms)
        self._maybe_prepare_rebalance(group, f"adding new member {member_id} ({args.reason})")

    def _update_member_and_rebalance(
        self, group: ClassicGroup, member: MemberMetadata, args: JoinGroupArgs, future: _Future
    ) -> None:
        member.protocols = list(args.protocols)
        member.rebalance_timeout_ms = args.rebalance_timeout_ms
        member.session_timeout_ms = args.session_timeout_ms
        self._set_join_future(member, future)
        self._maybe_prepare_rebalance(
            group,
            f"member {member.member_id} re-joined in {group.state.value} ({args.reason})",
        )

    def _update_static_member(
        self, group: ClassicGroup, old_id: str, new_id: str, args: JoinGroupArgs, future: _Future
    ) -> None:
        instance_id = args.group_instance_id
        assert instance_id is not None
        old_leader = group.leader_id
        member = group.members[old_id]
        # The old incarnation's waiting requests are fenced.
        self._complete_join(member, JoinGroupResult(errors.FENCED_INSTANCE_ID, member_id=old_id))
        self._complete_sync(member, SyncGroupResult(errors.FENCED_INSTANCE_ID))
        saved = (member.protocols, member.rebalance_timeout_ms, member.session_timeout_ms)
        group.replace_static_member(instance_id, old_id, new_id)
        member.protocols = list(args.protocols)
        member.rebalance_timeout_ms = args.rebalance_timeout_ms
        member.session_timeout_ms = args.session_timeout_ms
        member.join_future = future
        self._schedule_heartbeat(group, member)
        if group.is_(GroupState.STABLE):
            if group.select_protocol() != group.protocol_name:
                self._maybe_prepare_rebalance(
                    group, f"static member {instance_id} changed protocol"
                )
                return
            # Same protocol: no rebalance, only remember the new member id.
            assignment = {m.member_id: m.assignment for m in group.members.values()}
            error = self.store_group(group, assignment)
            if error != errors.NONE:
                group.replace_static_member(instance_id, new_id, old_id)
                member.protocols, member.rebalance_timeout_ms, member.session_timeout_ms = saved
                self._complete_join(member, JoinGroupResult(error))
                return
            is_leader = group.leader_id == new_id
            # Pre-v9 clients must not think they lead (a Stable group would not pass
            # on a new assignment), so they see the old leader id.
            skip = args.supports_skip_assignment
            result = JoinGroupResult(
                errors.NONE,
                group.generation_id,
                group.protocol_type,
                group.protocol_name,
                (group.leader_id if skip else old_leader) or "",
                is_leader and skip,
                new_id,
                group.current_member_metadata() if is_leader else [],
            )
            self._complete_join(member, result)
        elif group.is_(GroupState.COMPLETING_REBALANCE):
            # The leader may have seen the old member id: assign again.
            self._prepare_rebalance(group, f"static member {instance_id} re-joined")
        # PreparingRebalance: the answer comes with the rebalance.
