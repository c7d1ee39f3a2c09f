"""OffsetCommit, OffsetFetch and OffsetDelete through their handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tidal.log.broker._broker import Broker
from tidal.log.broker.group import errors
from tidal.log.protocol.messages import (
    JoinGroupRequest,
    OffsetCommitRequest,
    OffsetDeleteRequest,
    OffsetFetchRequest,
    SyncGroupRequest,
)
from tidal.log.protocol.messages.join_group import JoinGroupRequestProtocol
from tidal.log.protocol.messages.offset_commit import (
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from tidal.log.protocol.messages.offset_delete import (
    OffsetDeleteRequestPartition,
    OffsetDeleteRequestTopic,
)
from tidal.log.protocol.messages.offset_fetch import (
    OffsetFetchRequestGroup,
    OffsetFetchRequestTopic,
    OffsetFetchRequestTopics,
)

Call = Any
GROUP = "app"


@pytest.fixture
def topics(broker: Broker) -> None:
    broker.topics.create_topic("orders", 3)
    broker.topics.create_topic("users", 1)


def commit(
    version: int,
    offsets: dict[tuple[str, int], int],
    group: str = GROUP,
    generation: int = -1,
    member_id: str = "",
) -> OffsetCommitRequest:
    by_topic: dict[str, list[OffsetCommitRequestPartition]] = {}
    for (topic, partition), offset in offsets.items():
        entry = OffsetCommitRequestPartition(
            partition_index=partition, committed_offset=offset, committed_metadata=f"m{offset}"
        )
        if version >= 6:
            entry.committed_leader_epoch = 0
        by_topic.setdefault(topic, []).append(entry)
    return OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member_id,
        topics=[OffsetCommitRequestTopic(name=t, partitions=p) for t, p in by_topic.items()],
    )


def fetch(
    version: int, wanted: dict[str, list[int]] | None, group: str = GROUP
) -> OffsetFetchRequest:
    if version >= 8:
        topics = (
            None
            if wanted is None
            else [OffsetFetchRequestTopics(name=t, partition_indexes=p) for t, p in wanted.items()]
        )
        return OffsetFetchRequest(groups=[OffsetFetchRequestGroup(group_id=group, topics=topics)])
    return OffsetFetchRequest(
        group_id=group,
        topics=(
            None
            if wanted is None
            else [OffsetFetchRequestTopic(name=t, partition_indexes=p) for t, p in wanted.items()]
        ),
    )


def fetched(version: int, response: Any) -> dict[tuple[str, int], tuple[int, str | None, int]]:
    if version >= 8:
        [group] = response.groups
        assert group.error_code == 0
        topics = group.topics
    else:
        topics = response.topics
    return {
        (t.name, p.partition_index): (p.committed_offset, p.metadata, p.error_code)
        for t in topics
        for p in t.partitions
    }


@pytest.mark.parametrize("version", range(2, 10))
async def test_simple_commit_then_fetch(call: Call, topics: None, version: int) -> None:
    response = await call(
        commit(version, {("orders", 0): 5, ("orders", 2): 7, ("nope", 0): 1}), version
    )
    assert [
        (t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in response.topics
    ] == [
        ("orders", [(0, 0), (2, 0)]),
        ("nope", [(0, errors.UNKNOWN_TOPIC_OR_PARTITION)]),
    ]
    fetch_version = min(version, 9)
    response = await call(fetch(fetch_version, {"orders": [0, 1, 2]}), fetch_version)
    assert fetched(fetch_version, response) == {
        ("orders", 0): (5, "m5", 0),
        ("orders", 1): (-1, "", 0),
        ("orders", 2): (7, "m7", 0),
    }


@pytest.mark.parametrize("version", [2, 5, 7, 8, 9])
async def test_fetch_all_offsets(call: Call, topics: None, version: int) -> None:
    await call(commit(8, {("orders", 1): 3, ("users", 0): 4}), 8)
    response = await call(fetch(version, None), version)
    assert fetched(version, response) == {("orders", 1): (3, "m3", 0), ("users", 0): (4, "m4", 0)}
    if version < 8:
        assert response.error_code == 0


async def test_fetch_v1_and_leader_epochs(call: Call, topics: None) -> None:
    await call(commit(6, {("orders", 0): 9}), 6)
    response = await call(fetch(1, {"orders": [0]}), 1)
    assert fetched(1, response) == {("orders", 0): (9, "m9", 0)}
    response = await call(fetch(5, {"orders": [0]}), 5)
    assert response.topics[0].partitions[0].committed_leader_epoch == 0
    response = await call(fetch(4, {"orders": [0]}), 4)
    assert response.topics[0].partitions[0].committed_leader_epoch == -1  # absent before v5


async def test_fetch_several_groups_at_once(call: Call, topics: None) -> None:
    await call(commit(8, {("orders", 0): 1}, group="a"), 8)
    await call(commit(8, {("orders", 0): 2}, group="b"), 8)
    response = await call(
        OffsetFetchRequest(
            groups=[
                OffsetFetchRequestGroup(
                    group_id="a",
                    topics=[OffsetFetchRequestTopics(name="orders", partition_indexes=[0])],
                ),
                OffsetFetchRequestGroup(group_id="b", topics=None),
                OffsetFetchRequestGroup(group_id="", topics=None),
            ],
            require_stable=True,
        ),
        8,
    )
    a, b, empty = response.groups
    assert [(p.committed_offset) for p in a.topics[0].partitions] == [1]
    assert [(p.committed_offset) for p in b.topics[0].partitions] == [2]
    # As in Kafka, the empty group id is valid for offsets (old simple consumers).
    assert (empty.group_id, empty.error_code, empty.topics) == ("", 0, [])


@pytest.mark.parametrize("version", [1, 3, 7])
async def test_group_errors_before_v8(call: Call, broker: Broker, version: int) -> None:
    broker.groups.loading = True
    try:
        response = await call(fetch(version, {"orders": [0, 1]}), version)
    finally:
        broker.groups.loading = False
    codes = [p.error_code for p in response.topics[0].partitions]
    assert codes == [errors.COORDINATOR_LOAD_IN_PROGRESS] * 2
    assert response.error_code == (errors.COORDINATOR_LOAD_IN_PROGRESS if version >= 2 else 0)


async def test_member_commits_check_generation(
    call: Call, topics: None, subscription: Callable[..., bytes]
) -> None:
    join = JoinGroupRequest(
        group_id=GROUP,
        session_timeout_ms=10_000,
        rebalance_timeout_ms=5000,
        member_id="",
        protocol_type="consumer",
        protocols=[JoinGroupRequestProtocol(name="range", metadata=subscription("orders"))],
    )
    joined = await call(join, 3)
    member = joined.member_id
    await call(
        SyncGroupRequest(group_id=GROUP, generation_id=joined.generation_id, member_id=member), 3
    )
    response = await call(commit(7, {("orders", 0): 1}, generation=1, member_id=member), 7)
    assert response.topics[0].partitions[0].error_code == 0
    response = await call(commit(7, {("orders", 0): 1}, generation=5, member_id=member), 7)
    assert response.topics[0].partitions[0].error_code == errors.ILLEGAL_GENERATION
    response = await call(commit(7, {("orders", 0): 1}, generation=1, member_id="other"), 7)
    assert response.topics[0].partitions[0].error_code == errors.UNKNOWN_MEMBER_ID
    response = await call(commit(7, {("orders", 0): 1}), 7)  # simple commit into a live group
    assert response.topics[0].partitions[0].error_code == errors.UNKNOWN_MEMBER_ID

    # OffsetDelete: refused for the subscribed topic, allowed for others.
    await call(commit(2, {("users", 0): 3}, generation=1, member_id=member), 2)
    response = await call(
        OffsetDeleteRequest(
            group_id=GROUP,
            topics=[
                OffsetDeleteRequestTopic(
                    name=name, partitions=[OffsetDeleteRequestPartition(partition_index=0)]
                )
                for name in ("orders", "users")
            ],
        ),
        0,
    )
    assert response.error_code == 0
    assert [(t.name, t.partitions[0].error_code) for t in response.topics] == [
        ("orders", errors.GROUP_SUBSCRIBED_TO_TOPIC),
        ("users", 0),
    ]
    response = await call(fetch(8, None), 8)
    assert set(fetched(8, response)) == {("orders", 0)}


async def test_offset_delete_unknown_group(call: Call) -> None:
    response = await call(
        OffsetDeleteRequest(
            group_id="ghost",
            topics=[
                OffsetDeleteRequestTopic(
                    name="orders", partitions=[OffsetDeleteRequestPartition(partition_index=0)]
                )
            ],
        ),
        0,
    )
    assert (response.error_code, response.topics) == (errors.GROUP_ID_NOT_FOUND, [])


async def test_offsets_survive_a_restart(make_broker: Any, call: Call, tmp_path: Any) -> None:
    first = await make_broker(**{"log.dirs": str(tmp_path / "restart")})
    first.topics.create_topic("orders", 1)
    await call(commit(8, {("orders", 0): 42}), 8, on=first)
    await first.stop()
    second = await make_broker(**{"log.dirs": str(tmp_path / "restart")})
    response = await call(fetch(8, {"orders": [0]}), 8, on=second)
    assert fetched(8, response) == {("orders", 0): (42, "m42", 0)}
