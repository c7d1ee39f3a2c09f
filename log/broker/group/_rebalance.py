"""The rebalance machinery: preparing, completing, and the timers around it.

Kafka's ``GroupCoordinator`` keeps delayed operations in purgatories; here
each is one scheduler timer on the group or member:

- join timer: the initial rebalance delay of an Empty group (extended while
  new members keep arriving, up to the rebalance timeout), or the rebalance
  timeout after which members that did not re-join are removed;
- sync timer: members that got a JoinGroup answer but send no SyncGroup
  within the rebalance timeout are removed and the group rebalances again;
- heartbeat timer per member (session timeout; for a member that joined during
  the rebalance, the new-member join timeout), and per KIP-394 pending member.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._core import CoordinatorCore
from tidal.log.broker.group._group import ClassicGroup, GroupState, MemberMetadata
from tidal.log.broker.group._messages import JoinGroupResult, SyncGroupResult

__all__ = ["RebalanceOps"]

_log = logging.getLogger("tidal.log.broker.group")

_PREPARING = GroupState.PREPARING_REBALANCE
_COMPLETING = GroupState.COMPLETING_REBALANCE


class RebalanceOps(CoordinatorCore):
    """Rebalance state changes shared by JoinGroup, SyncGroup, LeaveGroup and expiry."""

    # ---- answering waiting requests ----------------------------------------------------

    @staticmethod
    def _complete_join(member: MemberMetadata, result: JoinGroupResult) -> None:
        future, member.join_future = member.join_future, None
        if future is not None and not future.done():
            future.set_result(result)

    @staticmethod
    def _complete_sync(member: MemberMetadata, result: SyncGroupResult) -> None:
        future, member.sync_future = member.sync_future, None
        if future is not None and not future.done():
            future.set_result(result)

    def _reset_and_propagate_assignment_error(self, group: ClassicGroup, error: int) -> None:
        for member in group.members.values():
            member.assignment = b""
            self._complete_sync(member, SyncGroupResult(error))

    def _set_and_propagate_assignment(
        self, group: ClassicGroup, assignment: dict[str, bytes]
    ) -> None:
        for member in group.members.values():
            member.assignment = assignment.get(member.member_id, b"")
            result = SyncGroupResult(
                errors.NONE, group.protocol_type, group.protocol_name, member.assignment
            )
            self._complete_sync(member, result)

    # ---- heartbeats and pending members ----------------------------------------------------

    def _schedule_heartbeat(
        self, group: ClassicGroup, member: MemberMetadata, timeout_ms: int | None = None
    ) -> None:
        """(Re)start the member's session timer: a heartbeat arrived."""
        if member.heartbeat_timer is not None:
            member.heartbeat_timer.cancel()
        delay = member.session_timeout_ms if timeout_ms is None else timeout_ms
        member.heartbeat_timer = self.scheduler.call_later(
            delay, lambda: self._on_heartbeat_expired(group, member)
        )

    def _on_heartbeat_expired(self, group: ClassicGroup, member: MemberMetadata) -> None:
        member.heartbeat_timer = None
        if group.is_(GroupState.DEAD) or group.members.get(member.member_id) is not member:
            return
        # A member waiting in a rebalance counts as alive; its session timer
        # restarts when the rebalance completes. New members are the exception.
        waiting = member.join_future is not None or member.sync_future is not None
        if waiting and not member.is_new:
            return
        _log.info("group %s: member %s session expired", group.group_id, member.member_id)
        self._remove_member_and_update_group(
            group, member, f"removing member {member.member_id} on heartbeat expiration"
        )

    def _add_pending_member(self, group: ClassicGroup, member_id: str, timeout_ms: int) -> None:
        group.pending_members.add(member_id)
        group.pending_timers[member_id] = self.scheduler.call_later(
            timeout_ms, lambda: self._remove_pending_member(group, member_id)
        )

    def _remove_pending_member(self, group: ClassicGroup, member_id: str) -> None:
        timer = group.pending_timers.pop(member_id, None)
        if timer is not None:
            timer.cancel()
        if member_id in group.pending_members:
            group.remove(member_id)
            self._try_complete_join(group)

    # ---- membership changes ---------------------------------------------------------------

    def _remove_member_and_update_group(
        self, group: ClassicGroup, member: MemberMetadata, reason: str
    ) -> None:
        self._drop_member(group, member)
        if group.state in (GroupState.STABLE, _COMPLETING):
            self._maybe_prepare_rebalance(group, reason)
        elif group.is_(_PREPARING):
            self._try_complete_join(group)

    def _drop_member(self, group: ClassicGroup, member: MemberMetadata) -> None:
        """Remove a member without any state change of the group."""
        # Waiting requests of the removed member are answered, so a client
        # that is still alive simply joins again.
        self._complete_join(member, JoinGroupResult(errors.UNKNOWN_MEMBER_ID))
        self._complete_sync(member, SyncGroupResult(errors.UNKNOWN_MEMBER_ID))
        if member.heartbeat_timer is not None:
            member.heartbeat_timer.cancel()
            member.heartbeat_timer = None
        group.remove(member.member_id)

    def _maybe_prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        if group.can_rebalance:
            self._prepare_rebalance(group, reason)

    def _prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        """Start a rebalance: everyone must re-join within the rebalance timeout."""
        if group.is_(_COMPLETING):
            self._reset_and_propagate_assignment_error(group, errors.REBALANCE_IN_PROGRESS)
        self._cancel_sync_timer(group)
        group.pending_sync.clear()
        was_empty = group.is_(GroupState.EMPTY)
        group.transition(_PREPARING, self.now())
        _log.info(
            "group %s: preparing to rebalance in generation %d (%s)",
            group.group_id,
            group.generation_id,
            reason,
        )
        if was_empty:
            delay = self.config.initial_rebalance_delay_ms
            remaining = max(group.rebalance_timeout_ms - delay, 0)
            group.initial_delay = True
            if delay == 0:
                self._on_initial_delay_expired(group, delay, 0)
            else:
                self._set_join_timer(
                    group, delay, lambda: self._on_initial_delay_expired(group, delay, remaining)
                )
        else:
            group.initial_delay = False
            self._set_join_timer(
                group, group.rebalance_timeout_ms, lambda: self._on_join_expired(group)
            )
            self._try_complete_join(group)

    def _set_join_timer(
        self, group: ClassicGroup, delay_ms: int, callback: Callable[[], None]
    ) -> None:
        if group.join_timer is not None:
            group.join_timer.cancel()
        group.join_timer = self.scheduler.call_later(delay_ms, callback)

    def _cancel_sync_timer(self, group: ClassicGroup) -> None:
        if group.sync_timer is not None:
            group.sync_timer.cancel()
            group.sync_timer = None

    def _on_initial_delay_expired(self, group: ClassicGroup, delay: int, remaining: int) -> None:
        group.join_timer = None
        if not group.is_(_PREPARING):
            return
        if group.new_member_added and remaining != 0:
            # Members are still arriving: wait once more, never past the rebalance timeout.
            group.new_member_added = False
            next_delay = min(self.config.initial_rebalance_delay_ms, remaining)
            next_remaining = max(remaining - delay, 0)
            self._set_join_timer(
                group,
                next_delay,
                lambda: self._on_initial_delay_expired(group, next_delay, next_remaining),
            )
            return
        group.initial_delay = False
        self._complete_rebalance_join(group)

    def _on_join_expired(self, group: ClassicGroup) -> None:
        group.join_timer = None
        self._complete_rebalance_join(group)

    def _try_complete_join(self, group: ClassicGroup) -> None:
        """Complete the join phase early once every known member re-joined."""
        if group.is_(_PREPARING) and not group.initial_delay and group.has_all_members_joined():
            self._complete_rebalance_join(group)

    def _complete_rebalance_join(self, group: ClassicGroup) -> None:
        """End the join phase: drop laggards, start the next generation, answer joins."""
        if group.join_timer is not None:
            group.join_timer.cancel()
            group.join_timer = None
        if not group.is_(_PREPARING):
            return
        for member in list(group.members.values()):
            # Static members keep their place; their session timeout decides.
            if member.join_future is None and not member.is_static:
                _log.info(
                    "group %s: removing member %s, which did not re-join in time",
                    group.group_id,
                    member.member_id,
                )
                self._drop_member(group, member)
        if not group.maybe_elect_new_joined_leader() and group.members:
            # Nobody re-joined: wait again until session timeouts empty the group.
            self._set_join_timer(
                group, group.rebalance_timeout_ms, lambda: self._on_join_expired(group)
            )
            return
        group.init_next_generation(self.now())
        if group.is_(GroupState.EMPTY):
            _log.info("group %s: empty in generation %d", group.group_id, group.generation_id)
            self.store_group(group, {})
            return
        _log.info(
            "group %s: generation %d with %d members, protocol %s",
            group.group_id,
            group.generation_id,
            len(group.members),
            group.protocol_name,
        )
        member_list = group.current_member_metadata()
        for member in group.members.values():
            is_leader = member.member_id == group.leader_id
            result = JoinGroupResult(
                errors.NONE,
                group.generation_id,
                group.protocol_type,
                group.protocol_name,
                group.leader_id or "",
                False,
                member.member_id,
                list(member_list) if is_leader else [],
            )
            self._complete_join(member, result)
            self._schedule_heartbeat(group, member)
            member.is_new = False
        group.pending_sync = set(group.members)
        generation = group.generation_id
        group.sync_timer = self.scheduler.call_later(
            group.rebalance_timeout_ms, lambda: self._on_sync_expired(group, generation)
        )

    def _on_sync_expired(self, group: ClassicGroup, generation: int) -> None:
        group.sync_timer = None
        if generation != group.generation_id or not group.pending_sync:
            return
        if group.state not in (_COMPLETING, GroupState.STABLE):
            return
        laggards = sorted(group.pending_sync)
        _log.info("group %s: removing members that sent no SyncGroup: %s", group.group_id, laggards)
        for member_id in laggards:
            member = group.members.get(member_id)
            if member is not None:
                self._drop_member(group, member)
        self._prepare_rebalance(group, f"no SyncGroup from {laggards}")
