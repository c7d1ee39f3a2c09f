"""The consumer side of the classic group protocol: join, sync, heartbeat, leave.

One background task per consumer keeps the membership (Kafka's
``ConsumerCoordinator``)::

    loop:
      rejoin needed? -> prepare (EAGER: revoke all; commit first under auto commit)
                     -> JoinGroup (MEMBER_ID_REQUIRED: again with the given id)
                     -> leader runs the chosen assignor over every subscription
                     -> SyncGroup -> apply the assignment (COOPERATIVE: revoke only
                        what moved, and re-join at once if anything was revoked)
      otherwise      -> Heartbeat every heartbeat_interval_ms; auto commit every
                        auto_commit_interval_ms; pattern and partition-count checks

Heartbeat answers drive it: REBALANCE_IN_PROGRESS means re-join keeping the
partitions until then; UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION mean the
partitions are *lost* (``on_partitions_lost``) and the member joins afresh.

The application must poll (``Consumer.getmany``, ``getone``, iteration) at
least every ``max_poll_interval_ms``. If it does not, the member leaves the
group as Java's does (LeaveGroup; its partitions are lost and go to the
others) and joins again on the next poll (``polled()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import TopicPartition
from tidal.log.client.consumer._assignors import (
    PartitionAssignor,
    RebalanceProtocol,
)
from tidal.log.client.consumer._config import ConsumerConfig
from tidal.log.client.consumer._leader import join_protocols, leader_assignments
from tidal.log.client.consumer._protocol import (
    PROTOCOL_TYPE,
    Assignment,
    decode_assignment,
)
from tidal.log.client.consumer._subscription import SubscriptionState
from tidal.log.protocol.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    IllegalGenerationError,
    KafkaError,
    MemberIdRequiredError,
    NotCoordinatorError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    error_for_code,
)
from tidal.log.protocol.messages import (
    HeartbeatRequest,
    JoinGroupRequest,
    LeaveGroupRequest,
    SyncGroupRequest,
)
from tidal.log.protocol.messages.leave_group import MemberIdentity
from tidal.log.protocol.messages.sync_group import SyncGroupRequestAssignment

__all__ = ["GroupCoordinator"]

log = logging.getLogger(__name__)
_COORDINATOR_CODES = frozenset(
    {
        NotCoordinatorError.code,
        CoordinatorNotAvailableError.code,
        CoordinatorLoadInProgressError.code,
    }
)
_LOST_CODES = frozenset({UnknownMemberIdError.code, IllegalGenerationError.code})


class _RejoinError(Exception):
    """The current join attempt must start over."""


class GroupCoordinator:
    """Membership of one consumer in ``config.group_id``."""

    def __init__(
        self,
        kernel: Kernel,
        config: ConsumerConfig,
        subscriptions: SubscriptionState,
        commit: Callable[[], Any],
        on_assignment_change: Callable[[], None],
    ) -> None:
        assert config.group_id is not None
        self.group_id = config.group_id
        self._kernel = kernel
        self._config = config
        self._subs = subscriptions
        self._commit = commit
        self._changed = on_assignment_change
        self.assignors: list[PartitionAssignor] = config.assignors()
        self.listener: Any = None
        self.generation_id = -1
        self.member_id = ""
        self.protocol: str | None = None
        self.rejoin_needed = True
        self._wake = asyncio.Event()
        self._error: BaseException | None = None
        self._metadata_snapshot: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.stable = asyncio.Event()
        self.rebalances = 0
        self._last_poll = time.monotonic()
        #: True from a poll timeout until the next poll: the member stays out.
        self.poll_expired = False

    @property
    def rebalance_protocol(self) -> RebalanceProtocol:
        assignor = self._assignor(self.protocol) if self.protocol else self.assignors[0]
        return assignor.rebalance_protocol

    def _assignor(self, name: str) -> PartitionAssignor:
        for a in self.assignors:
            if a.name == name:
                return a
        raise KafkaError(f"the group chose assignor '{name}', which this consumer lacks")

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def request_rejoin(self) -> None:
        self.rejoin_needed = True
        self.stable.clear()
        self._wake.set()

    def polled(self) -> None:
        """The application polled: restart the poll timer, and rejoin after a
        poll timeout."""
        self._last_poll = time.monotonic()
        if self.poll_expired:
            self.poll_expired = False
            self.request_rejoin()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def leave(self) -> None:
        """Revoke, then LeaveGroup (static members stay, as Kafka's do)."""
        owned = self._subs.assigned_partitions()
        if owned and self._subs.is_group_managed:
            await self._call("on_partitions_revoked", owned)
        if self._config.group_instance_id is None:
            await self._send_leave()
        self._reset_member()

    async def _send_leave(self) -> None:
        if self.member_id:
            member = self.member_id

            def build(version: int) -> LeaveGroupRequest:
                if version >= 3:
                    return LeaveGroupRequest(
                        group_id=self.group_id, members=[MemberIdentity(member_id=member)]
                    )
                return LeaveGroupRequest(group_id=self.group_id, member_id=member)

            try:
                await self._kernel.send_to_coordinator(
                    self.group_id,
                    LeaveGroupRequest,
                    build,
                    timeout_ms=self._config.request_timeout_ms,
                )
            except KafkaError as e:
                log.info("LeaveGroup for '%s' failed: %s", self.group_id, e)

    def _reset_member(self) -> None:
        self.generation_id = -1
        self.member_id = ""
        self.stable.clear()

    # -- the loop -------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        next_heartbeat = next_commit = time.monotonic()
        while True:
            try:
                if self._subs.is_group_managed and not self.poll_expired:
                    if self._poll_timer_expired():
                        await self._leave_for_poll_timeout()
                        continue
                    await self._check_metadata()
                    if self.rejoin_needed:
                        await self._join_and_sync()
                        attempt = 0
                        next_heartbeat = (
                            time.monotonic() + self._config.heartbeat_interval_ms / 1000
                        )
                        continue
                    if time.monotonic() >= next_heartbeat:
                        await self._heartbeat()
                        next_heartbeat = (
                            time.monotonic() + self._config.heartbeat_interval_ms / 1000
                        )
                if self._config.enable_auto_commit and time.monotonic() >= next_commit:
                    next_commit = time.monotonic() + self._config.auto_commit_interval_ms / 1000
                    await self._auto_commit()
                attempt = 0
            except (KafkaConnectionError, KafkaTimeoutError, _RejoinError) as e:
                log.debug("group '%s': %s", self.group_id, e)
                attempt += 1
                await asyncio.sleep(self._kernel.backoff_ms(min(attempt, 5)) / 1000)
                continue
            except KafkaError as e:
                if e.retriable:
                    attempt += 1
                    await asyncio.sleep(self._kernel.backoff_ms(min(attempt, 5)) / 1000)
                    continue
                self._error = e
                await asyncio.sleep(self._kernel.backoff_ms(5) / 1000)
                continue
            self._wake.clear()
            now = time.monotonic()
            # Without auto commit there is no commit deadline: a stale
            # next_commit would make every wait zero and spin the loop.
            commit_due = next_commit if self._config.enable_auto_commit else math.inf
            if self._subs.is_group_managed and not self.poll_expired:
                wait = min(next_heartbeat, commit_due) - now
                if self.stable.is_set():
                    wait = min(wait, self._poll_deadline() - now)
            elif self._config.enable_auto_commit:
                wait = next_commit - now
            else:
                wait = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, 0.0))

    def _poll_deadline(self) -> float:
        return self._last_poll + self._config.max_poll_interval_ms / 1000

    def _poll_timer_expired(self) -> bool:
        # Only a member in the group can overrun: while joining, the
        # rebalance timeout (the same setting) bounds the wait instead.
        return self.stable.is_set() and time.monotonic() >= self._poll_deadline()

    async def _leave_for_poll_timeout(self) -> None:
        log.warning(
            "group '%s': no poll within max_poll_interval_ms (%d ms); leaving the group. "
            "Poll more often, or raise max_poll_interval_ms or lower max_poll_records.",
            self.group_id,
            self._config.max_poll_interval_ms,
        )
        self.poll_expired = True
        if self._config.group_instance_id is None:
            # A static member stays, as in Java: its partitions wait for it until
            # the session times out.
            await self._send_leave()
        await self.partitions_lost()
        self.rejoin_needed = True

    async def _auto_commit(self) -> None:
        try:
            await self._commit()
        except KafkaError as e:
            log.info("auto commit for group '%s' failed: %s", self.group_id, e)

    async def _check_metadata(self) -> None:
        subs = self._subs
        if subs.pattern is not None:
            age = self._config.metadata_max_age_ms / 1000
            if time.monotonic() - getattr(self, "_pattern_at", 0.0) >= age or not subs.topics:
                self._pattern_at = time.monotonic()
                metadata = await self._kernel.fetch_metadata(None)
                if subs.match_pattern(metadata.topics):
                    self.request_rejoin()
        if self._kernel.cluster.add_topics(subs.topics):
            await self._kernel.refresh_metadata()
        if self.stable.is_set() and self._partition_counts() != self._metadata_snapshot:
            self.request_rejoin()

    def _partition_counts(self) -> dict[str, int]:
        metadata = self._kernel.cluster.metadata
        counts = {}
        for topic in self._subs.topics:
            parts = metadata.partitions_for(topic)
            if parts:
                counts[topic] = len(parts)
        return counts

    # -- joining --------------------------------------------------------------------

    async def _join_and_sync(self) -> None:
        eager = self.rebalance_protocol is RebalanceProtocol.EAGER
        if self._config.enable_auto_commit:
            await self._auto_commit()
        owned = self._subs.assigned_partitions()
        if eager and owned:
            await self._call("on_partitions_revoked", owned)
            self._subs.assign_from_subscribed([])
            self._changed()
            owned = set()
        self.stable.clear()
        await self._kernel.refresh_metadata()
        self._metadata_snapshot = self._partition_counts()
        response = await self._join(owned)
        assignment = await self._sync(response)
        self.rejoin_needed = False
        self.rebalances += 1
        await self._apply(assignment, owned)

    async def _coordinator_node(self) -> int:
        return await self._kernel.coordinator(self.group_id)

    def _coordinator_error(self, code: int) -> None:
        if code in _COORDINATOR_CODES:
            self._kernel.invalidate_coordinator(self.group_id)
            raise _RejoinError(error_for_code(code).__name__)

    async def _join(self, owned: set[TopicPartition]) -> Any:
        config = self._config
        protocols = join_protocols(self.assignors, self._subs.topics, owned, self.generation_id)
        while True:
            member_id = self.member_id
            request = JoinGroupRequest(
                group_id=self.group_id,
                session_timeout_ms=config.session_timeout_ms,
                rebalance_timeout_ms=config.max_poll_interval_ms,
                member_id=member_id,
                group_instance_id=config.group_instance_id,
                protocol_type=PROTOCOL_TYPE,
                protocols=protocols,
            )
            node = await self._coordinator_node()
            response = await self._kernel.send(
                node,
                JoinGroupRequest,
                request,
                timeout_ms=config.max_poll_interval_ms + 5_000,
            )
            code = response.error_code
            if code == MemberIdRequiredError.code:
                self.member_id = response.member_id
                continue
            if code == UnknownMemberIdError.code:
                self._reset_member()
                continue
            if code in (RebalanceInProgressError.code, IllegalGenerationError.code):
                continue
            self._coordinator_error(code)
            if code:
                raise error_for_code(code)(f"JoinGroup of group '{self.group_id}'")
            self.member_id = response.member_id
            self.generation_id = response.generation_id
            self.protocol = response.protocol_name
            return response

    async def _sync(self, join: Any) -> Assignment:
        assignments: list[SyncGroupRequestAssignment] = []
        if join.leader == self.member_id:
            assert self.protocol is not None
            assignments = await leader_assignments(
                self._kernel, self._assignor(self.protocol), join.members
            )
            log.info("group '%s' generation %s assigned", self.group_id, self.generation_id)
        assert self.protocol is not None
        request = SyncGroupRequest(
            group_id=self.group_id,
            generation_id=self.generation_id,
            member_id=self.member_id,
            group_instance_id=self._config.group_instance_id,
            protocol_type=PROTOCOL_TYPE,
            protocol_name=self.protocol,
            assignments=assignments,
        )
        node = await self._coordinator_node()
        response = await self._kernel.send(
            node, SyncGroupRequest, request, timeout_ms=self._config.max_poll_interval_ms + 5_000
        )
        code = response.error_code
        if code in _LOST_CODES:
            self._reset_member()
        self._coordinator_error(code)
        if code in (RebalanceInProgressError.code, *_LOST_CODES):
            raise _RejoinError(error_for_code(code).__name__)
        if code:
            raise error_for_code(code)(f"SyncGroup of group '{self.group_id}'")
        assignment = decode_assignment(response.assignment)
        self._assignor(self.protocol).on_assignment(assignment, self.generation_id)
        return assignment

    async def _apply(self, assignment: Assignment, owned: set[TopicPartition]) -> None:
        kept = [tp for tp in assignment.partitions if tp.topic in self._subs.topics]
        revoked = owned - set(kept)
        if revoked:
            # Before the subscription drops them, as Kafka's consumer does:
            # the listener may still read positions and commit for them.
            await self._call("on_partitions_revoked", revoked)
        self._subs.assign_from_subscribed(kept)
        new = self._subs.assigned_partitions()
        self._changed()
        await self._call("on_partitions_assigned", new - owned)
        if revoked:
            self.request_rejoin()  # cooperative: the freed partitions go out next round
        else:
            self.stable.set()

    # -- heartbeats -----------------------------------------------------------------

    async def _heartbeat(self) -> None:
        request = HeartbeatRequest(
            group_id=self.group_id,
            generation_id=self.generation_id,
            member_id=self.member_id,
            group_instance_id=self._config.group_instance_id,
        )
        node = await self._coordinator_node()
        response = await self._kernel.send(node, HeartbeatRequest, request)
        code = response.error_code
        if code == RebalanceInProgressError.code:
            self.request_rejoin()
        elif code in _LOST_CODES:
            await self.partitions_lost()
        elif code:
            self._coordinator_error(code)
            raise error_for_code(code)(f"Heartbeat of group '{self.group_id}'")

    async def partitions_lost(self) -> None:
        """The member was fenced: its partitions may already be elsewhere."""
        lost = self._subs.assigned_partitions()
        self._reset_member()
        if lost:
            method = "on_partitions_lost"
            if not hasattr(self.listener, method):
                method = "on_partitions_revoked"
            await self._call(method, lost)
            self._subs.assign_from_subscribed([])
            self._changed()
        self.request_rejoin()

    async def _call(self, method: str, partitions: Iterable[TopicPartition]) -> None:
        callback = getattr(self.listener, method, None)
        if callback is None:
            return
        try:
            result = callback(set(partitions))
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("rebalance listener %s failed", method)
