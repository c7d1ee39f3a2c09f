"""The streams assignor without a broker: whole tasks, balance, stickiness,
local state preference, and cooperative hand-over in two rounds."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given
from hypothesis import strategies as st

from tidal.log.client.consumer import MemberSubscription, Subscription, TopicPartition
from tidal.streams import TaskId
from tidal.streams.runtime import StreamsAssignor
from tidal.streams.runtime._assignor import decode_user_data, encode_user_data

# Sub-topology 0 joins "clicks" with "users" (co-partitioned); 1 reads a repartition topic.
TOPICS = {0: frozenset({"clicks", "users"}), 1: frozenset({"app-x-repartition"})}
COUNTS = {"clicks": 3, "users": 3, "app-x-repartition": 3}


def member(
    member_id: str,
    owned: Iterable[TopicPartition] = (),
    generation: int = -1,
    tasks: Iterable[TaskId] = (),
    local: Iterable[TaskId] = (),
) -> MemberSubscription:
    sub = Subscription(
        sorted(COUNTS),
        encode_user_data(list(tasks), list(local)),
        list(owned),
        generation,
    )
    return MemberSubscription(member_id, sub)


def tasks_of(assignor: StreamsAssignor, parts: list[TopicPartition]) -> set[TaskId]:
    return {assignor.task_of(tp) for tp in parts}


def test_co_partitioned_topics_of_a_task_go_together() -> None:
    assignor = StreamsAssignor(TOPICS)
    result = assignor.assign(COUNTS, [member("a"), member("b")])
    for parts in result.values():
        for task in tasks_of(assignor, parts):
            assert set(assignor.tasks(COUNTS)[task]) <= set(parts)
    assert sum(len(p) for p in result.values()) == 9
    assert sorted(len(tasks_of(assignor, p)) for p in result.values()) == [3, 3]


def test_owned_tasks_stay_and_moved_ones_wait_for_revocation() -> None:
    assignor = StreamsAssignor(TOPICS)
    everything = [tp for tps in assignor.tasks(COUNTS).values() for tp in tps]
    # "a" owns all six tasks in generation 4; "b" joins.
    first = assignor.assign(COUNTS, [member("a", everything, 4), member("b")])
    kept = tasks_of(assignor, first["a"])
    assert len(kept) == 3
    assert first["b"] == []  # withheld until "a" gives them up
    # Second round: "a" owns only what it kept.
    second = assignor.assign(COUNTS, [member("a", first["a"], 5), member("b", [], 5)])
    assert tasks_of(assignor, second["a"]) == kept
    assert tasks_of(assignor, second["b"]) == set(assignor.tasks(COUNTS)) - kept


def test_previous_tasks_and_local_state_guide_new_placement() -> None:
    assignor = StreamsAssignor(TOPICS)
    mine = [TaskId(0, 2), TaskId(1, 2)]
    result = assignor.assign(
        COUNTS,
        [member("a"), member("b", tasks=mine), member("c", local=[TaskId(0, 0)])],
    )
    assert set(mine) <= tasks_of(assignor, result["b"])
    # Without its state on "c", task 0_0 would go to "a" (first by id).
    assert TaskId(0, 0) in tasks_of(assignor, result["c"])


def test_user_data_round_trip_and_foreign_data() -> None:
    data = encode_user_data([TaskId(1, 0), TaskId(0, 3)], [TaskId(2, 1)])
    assert decode_user_data(data) == ({TaskId(1, 0), TaskId(0, 3)}, {TaskId(2, 1)})
    assert decode_user_data(b"") == (set(), set())
    assert decode_user_data(b"\x00\x01garbage") == (set(), set())
    assert decode_user_data(b'{"v": 99}') == (set(), set())


@given(
    members=st.integers(min_value=1, max_value=7),
    partitions=st.integers(min_value=1, max_value=12),
    owners=st.lists(st.integers(min_value=0, max_value=6), max_size=24),
)
def test_every_task_once_and_balanced(members: int, partitions: int, owners: list[int]) -> None:
    counts = {"clicks": partitions, "users": partitions, "app-x-repartition": partitions}
    assignor = StreamsAssignor(TOPICS)
    all_tasks = sorted(assignor.tasks(counts))
    previous: dict[int, list[TaskId]] = {}
    for task, owner in zip(all_tasks, owners, strict=False):
        previous.setdefault(owner % members, []).append(task)
    subs = [member(f"m{i}", tasks=previous.get(i, [])) for i in range(members)]
    result = assignor.assign(counts, subs)
    got = [assignor.task_of(tp) for parts in result.values() for tp in parts]
    assert sorted(set(got)) == all_tasks
    per_member = [len(tasks_of(assignor, parts)) for parts in result.values()]
    assert max(per_member) - min(per_member) <= 1
    # Stickiness: a member keeps as many of its previous tasks as its quota allows.
    quota_low = len(all_tasks) // members
    for i in range(members):
        kept = tasks_of(assignor, result[f"m{i}"]) & set(previous.get(i, []))
        assert len(kept) >= min(len(previous.get(i, [])), quota_low)
