"""The streams partition assignor: whole tasks to members, sticky and balanced.

A task is one sub-topology over one partition number; it reads that
partition of every source topic of its sub-topology. The assignor deals in
tasks, never in loose partitions, so all topic-partitions of a task (the
co-partitioned inputs of a join, say) land on the same member.

* **balanced**: every member gets ``floor(tasks / members)`` or one more;
* **sticky**: a task stays with the member that ran it in the previous
  generation (its ``owned_partitions``) and otherwise prefers a member that
  lists it in its user data (tasks it ran before, or whose state it still has
  on disk, so that restoration is short);
* **cooperative** (KIP-429): a task that moves is first withheld from its new
  owner for one round, while the old owner revokes it; the consumer then
  rejoins at once and the freed task goes out in the second round.

Subscription user data (version 1)::

    {"v": 1, "tasks": ["0_1", ...], "local": ["1_0", ...]}

(JSON: small, readable in ``DescribeGroups`` output.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from tidal.log.client.consumer import (
    Assignment,
    MemberSubscription,
    PartitionAssignor,
    RebalanceProtocol,
    TopicPartition,
)
from tidal.streams._contract import TaskId

__all__ = ["StreamsAssignor", "decode_user_data", "encode_user_data"]

_USER_DATA_VERSION = 1


def encode_user_data(tasks: Sequence[TaskId], local: Sequence[TaskId]) -> bytes:
    """The subscription user data naming a member's previous and on-disk tasks."""
    body = {
        "v": _USER_DATA_VERSION,
        "tasks": [str(t) for t in sorted(tasks)],
        "local": [str(t) for t in sorted(local)],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_user_data(data: bytes | None) -> tuple[set[TaskId], set[TaskId]]:
    """``(previous tasks, tasks with local state)``; empty for foreign or bad data."""
    if not data:
        return set(), set()
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("v") != _USER_DATA_VERSION:
            return set(), set()
        return (
            {TaskId.parse(t) for t in body.get("tasks", [])},
            {TaskId.parse(t) for t in body.get("local", [])},
        )
    except (ValueError, TypeError, AttributeError):
        return set(), set()


class StreamsAssignor(PartitionAssignor):
    """Assigns tasks (sub-topology x partition) to the members of the group.

    ``topics_of`` maps each sub-topology id to its source topics;
    ``member_tasks`` answers, when a member joins, the tasks it runs now and
    the tasks whose state it has on disk.
    """

    name = "tidal-streams"
    rebalance_protocol = RebalanceProtocol.COOPERATIVE

    def __init__(
        self,
        topics_of: Mapping[int, frozenset[str]],
        member_tasks: Callable[[], tuple[Sequence[TaskId], Sequence[TaskId]]] = lambda: ((), ()),
    ) -> None:
        self._subtopology_of: dict[str, int] = {}
        for sub, topics in topics_of.items():
            for topic in topics:
                self._subtopology_of[topic] = sub
        self._member_tasks = member_tasks
        self.generation = -1

    def task_of(self, tp: TopicPartition) -> TaskId:
        """The task that reads ``tp``."""
        return TaskId(self._subtopology_of[tp.topic], tp.partition)

    def subscription_user_data(self, topics: set[str]) -> bytes | None:
        """This member's current tasks and the tasks it has state for."""
        current, local = self._member_tasks()
        return encode_user_data(current, local)

    def on_assignment(self, assignment: Assignment, generation_id: int) -> None:
        self.generation = generation_id

    def tasks(self, partitions_per_topic: Mapping[str, int]) -> dict[TaskId, list[TopicPartition]]:
        """Every task with the topic-partitions it reads."""
        out: dict[TaskId, list[TopicPartition]] = {}
        for topic, count in sorted(partitions_per_topic.items()):
            sub = self._subtopology_of.get(topic)
            if sub is None:
                continue
            for p in range(count):
                out.setdefault(TaskId(sub, p), []).append(TopicPartition(topic, p))
        return out

    def assign(
        self,
        partitions_per_topic: Mapping[str, int],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TopicPartition]]:
        """Whole tasks per member, balanced and sticky; moving tasks wait a round."""
        tasks = self.tasks(partitions_per_topic)
        if not members:
            return {}
        target = self._balanced(tasks, members)
        claimed = self._claims(members)
        result: dict[str, list[TopicPartition]] = {m.member_id: [] for m in members}
        for member_id, owned_tasks in target.items():
            for task in owned_tasks:
                holders = claimed.get(task, set()) - {member_id}
                if holders:
                    continue  # cooperative: its owner revokes it first
                result[member_id].extend(tasks[task])
        return result

    def _claims(self, members: Sequence[MemberSubscription]) -> dict[TaskId, set[str]]:
        """Tasks still held by a member of the newest generation."""
        newest = max((m.subscription.generation_id for m in members), default=-1)
        claimed: dict[TaskId, set[str]] = {}
        for m in members:
            if m.subscription.generation_id != newest or newest < 0:
                continue
            for tp in m.subscription.owned_partitions:
                if tp.topic in self._subtopology_of:
                    claimed.setdefault(self.task_of(tp), set()).add(m.member_id)
        return claimed

    def _balanced(
        self,
        tasks: Mapping[TaskId, list[TopicPartition]],
        members: Sequence[MemberSubscription],
    ) -> dict[str, list[TaskId]]:
        ids = sorted(m.member_id for m in members)
        base, extra = divmod(len(tasks), len(ids))
        # Members that keep the most get the larger quotas, so fewer tasks move.
        previous: dict[str, set[TaskId]] = {}
        local: dict[str, set[TaskId]] = {}
        for m in members:
            prev, disk = decode_user_data(m.subscription.user_data)
            owned = {
                self.task_of(tp)
                for tp in m.subscription.owned_partitions
                if tp.topic in self._subtopology_of
            }
            previous[m.member_id] = (owned or prev) & tasks.keys()
            local[m.member_id] = disk & tasks.keys()
        by_keep = sorted(ids, key=lambda i: (-len(previous[i]), i))
        quota = {mid: base + (1 if n < extra else 0) for n, mid in enumerate(by_keep)}
        result: dict[str, list[TaskId]] = {mid: [] for mid in ids}
        placed: set[TaskId] = set()
        # 1. sticky: each task stays with one previous owner while it has room.
        for mid in by_keep:
            for task in sorted(previous[mid]):
                if task not in placed and len(result[mid]) < quota[mid]:
                    result[mid].append(task)
                    placed.add(task)
        # 2. tasks whose state is on some member's disk go there if it has room.
        for task in sorted(tasks):
            if task in placed:
                continue
            for mid in ids:
                if task in local[mid] and len(result[mid]) < quota[mid]:
                    result[mid].append(task)
                    placed.add(task)
                    break
        # 3. the rest fill the emptiest members.
        for task in sorted(tasks):
            if task not in placed:
                mid = min(ids, key=lambda i: (len(result[i]) - quota[i], len(result[i]), i))
                result[mid].append(task)
                placed.add(task)
        return result
