"""``GroupCoordinator``: Kafka's classic group coordinator for a single node.

The operations live in the modules they are named after (``_join``,
``_membership``, ``_offsets``); this class adds group administration
(DescribeGroups, ListGroups, DeleteGroups) and the lifecycle: ``load`` replays
``__consumer_offsets``, ``start`` also runs the periodic offsets expiry, and
``close`` answers every waiting request and stops the timers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tidal.log.broker.group import _errors as errors
from tidal.log.broker.group._clock import TimerHandle
from tidal.log.broker.group._group import ClassicGroup, GroupState
from tidal.log.broker.group._join import JoinOps
from tidal.log.broker.group._membership import MembershipOps
from tidal.log.broker.group._messages import (
    DeleteGroupResult,
    DescribedGroup,
    DescribedGroupMember,
    JoinGroupResult,
    ListedGroup,
    ListGroupsResult,
    SyncGroupResult,
)
from tidal.log.broker.group._offsets import OffsetOps
from tidal.log.broker.group._txn_offsets import TxnOffsetOps

__all__ = ["GroupCoordinator"]

_log = logging.getLogger("tidal.log.broker.group")


class GroupCoordinator(JoinOps, MembershipOps, OffsetOps, TxnOffsetOps):
    """Consumer groups (classic protocol) and their committed offsets.

    Example::

        storage = LogOffsetsStorage(log_manager)
        coordinator = GroupCoordinator(storage, GroupCoordinatorConfig.from_properties(props))
        await coordinator.start()          # replays __consumer_offsets
        result = await coordinator.join_group(JoinGroupArgs(...))
        ...
        coordinator.close()

    Every operation is a coroutine on the event loop that owns the
    coordinator, answers with Kafka error codes and never raises for bad
    input. ``partition_exists(topic, partition)``, when given, lets
    OffsetCommit and OffsetDelete answer UNKNOWN_TOPIC_OR_PARTITION.
    """

    _expiry_timer: TimerHandle | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def load(self) -> None:
        """Replay ``__consumer_offsets`` (on a worker thread) and install the groups.

        Until it returns, requests get COORDINATOR_LOAD_IN_PROGRESS. Groups with
        members come back Stable, and their members' session timers start.
        """
        self.loading = True
        self._stop_timers()
        self.groups.clear()
        loaded = await self._replay()
        for entry in loaded.values():
            group = self._install(entry)
            for member in group.members.values():
                self._schedule_heartbeat(group, member)
        self.loading = False
        _log.info(
            "loaded %d groups and %d offsets from __consumer_offsets",
            len(self.groups),
            sum(len(g.offsets) for g in self.groups.values()),
        )

    async def start(self) -> None:
        """``load()``, then check for expired offsets every
        ``offsets.retention.check.interval.ms``."""
        await self.load()
        self._schedule_expiry()

    def _schedule_expiry(self) -> None:
        self._expiry_timer = self.scheduler.call_later(
            self.config.offsets_retention_check_interval_ms, self._run_expiry
        )

    def _run_expiry(self) -> None:
        if self.closed:
            return
        self.expire_offsets()
        self._schedule_expiry()

    def close(self) -> None:
        """Stop all timers and answer waiting JoinGroup/SyncGroup with NOT_COORDINATOR."""
        self.closed = True
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            self._expiry_timer = None
        for group in self.groups.values():
            for member in group.members.values():
                self._complete_join(member, JoinGroupResult(errors.NOT_COORDINATOR))
                self._complete_sync(member, SyncGroupResult(errors.NOT_COORDINATOR))
        self._stop_timers()

    def _stop_timers(self) -> None:
        for group in self.groups.values():
            timers = [group.join_timer, group.sync_timer, *group.pending_timers.values()]
            timers += [m.heartbeat_timer for m in group.members.values()]
            for timer in timers:
                if timer is not None:
                    timer.cancel()
            group.join_timer = group.sync_timer = None
            group.pending_timers.clear()
            for member in group.members.values():
                member.heartbeat_timer = None

    def group(self, group_id: str) -> ClassicGroup | None:
        """The live state of one group (read it, do not change it), or ``None``."""
        return self.groups.get(group_id)

    # ---- administration --------------------------------------------------------------------

    async def describe_groups(self, group_ids: Iterable[str]) -> list[DescribedGroup]:
        """DescribeGroups: an unknown group is described as ``Dead``.

        Member metadata and assignments are only shown while the group is Stable,
        and ``protocol_data`` (the protocol name) likewise.
        """
        return [self._describe(group_id) for group_id in group_ids]

    def _describe(self, group_id: str) -> DescribedGroup:
        error = self._status(group_id, allow_empty=True)
        if error != errors.NONE:
            return DescribedGroup(error, group_id, "", "", "")
        group = self.groups.get(group_id)
        if group is None:
            return DescribedGroup(errors.NONE, group_id, GroupState.DEAD.value, "", "")
        stable = group.is_(GroupState.STABLE) and group.protocol_name is not None
        protocol = group.protocol_name if stable and group.protocol_name is not None else ""
        members = [
            DescribedGroupMember(
                m.member_id,
                m.group_instance_id,
                m.client_id,
                m.client_host,
                m.metadata(protocol) if stable else b"",
                m.assignment if stable else b"",
            )
            for m in group.members.values()
        ]
        return DescribedGroup(
            errors.NONE, group_id, group.state.value, group.protocol_type or "", protocol, members
        )

    async def list_groups(
        self, states_filter: Iterable[str] = (), types_filter: Iterable[str] = ()
    ) -> ListGroupsResult:
        """ListGroups, optionally only groups in ``states_filter`` (v4+) or of
        ``types_filter`` (v5+; every group here is "classic"); case-insensitive."""
        if self.closed:
            return ListGroupsResult(errors.NOT_COORDINATOR)
        if self.loading:
            return ListGroupsResult(errors.COORDINATOR_LOAD_IN_PROGRESS)
        states = {s.lower() for s in states_filter}
        types = {t.lower() for t in types_filter}
        if types and "classic" not in types:
            return ListGroupsResult(errors.NONE)
        return ListGroupsResult(
            errors.NONE,
            [
                ListedGroup(g.group_id, g.protocol_type or "", g.state.value)
                for g in self.groups.values()
                if not states or g.state.value.lower() in states
            ],
        )

    async def delete_groups(self, group_ids: Iterable[str]) -> list[DeleteGroupResult]:
        """DeleteGroups: only Empty groups; their offsets and metadata get tombstones."""
        return [DeleteGroupResult(g, self._delete_group(g)) for g in group_ids]

    def _delete_group(self, group_id: str) -> int:
        error = self._status(group_id, allow_empty=True)
        if error != errors.NONE:
            return error
        group = self.groups.get(group_id)
        if group is None or group.is_(GroupState.DEAD):
            return errors.GROUP_ID_NOT_FOUND
        if not group.is_(GroupState.EMPTY):
            return errors.NON_EMPTY_GROUP
        group.transition(GroupState.DEAD, self.now())
        self.cleanup_group(group, list(group.offsets))
        _log.info("group %s deleted", group_id)
        return errors.NONE
