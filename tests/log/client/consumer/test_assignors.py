"""The range and roundrobin assignors: Kafka's worked examples, kafka-python
as an oracle, and the properties every assignment must have."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.client.consumer import (
    ASSIGNORS,
    MemberSubscription,
    RangeAssignor,
    RoundRobinAssignor,
    Subscription,
    TopicPartition,
)


def member(member_id: str, *topics: str, instance: str | None = None) -> MemberSubscription:
    return MemberSubscription(member_id, Subscription(list(topics)), instance)


def tps(spec: str) -> list[TopicPartition]:
    """``"t0:0,1 t1:2"`` → partitions."""
    out = []
    for part in spec.split():
        topic, nums = part.split(":")
        out += [TopicPartition(topic, int(n)) for n in nums.split(",")]
    return out


def test_range_javadoc_example() -> None:
    got = RangeAssignor().assign(
        {"t0": 3, "t1": 3}, [member("C1", "t0", "t1"), member("C0", "t0", "t1")]
    )
    assert got == {"C0": tps("t0:0,1 t1:0,1"), "C1": tps("t0:2 t1:2")}


def test_range_gives_extra_partitions_to_the_first_members() -> None:
    got = RangeAssignor().assign({"t": 7}, [member("a", "t"), member("b", "t"), member("c", "t")])
    assert got == {"a": tps("t:0,1,2"), "b": tps("t:3,4"), "c": tps("t:5,6")}


def test_range_orders_static_members_first_by_instance_id() -> None:
    members = [member("a", "t"), member("z", "t", instance="i2"), member("y", "t", instance="i1")]
    got = RangeAssignor().assign({"t": 3}, members)
    assert got == {"y": tps("t:0"), "z": tps("t:1"), "a": tps("t:2")}


def test_roundrobin_javadoc_examples() -> None:
    got = RoundRobinAssignor().assign(
        {"t0": 3, "t1": 3}, [member("C0", "t0", "t1"), member("C1", "t0", "t1")]
    )
    assert got == {"C0": tps("t0:0,2 t1:1"), "C1": tps("t0:1 t1:0,2")}
    got = RoundRobinAssignor().assign(
        {"t0": 1, "t1": 2, "t2": 3},
        [member("C0", "t0"), member("C1", "t0", "t1"), member("C2", "t0", "t1", "t2")],
    )
    assert got == {"C0": tps("t0:0"), "C1": tps("t1:0"), "C2": tps("t1:1 t2:0,1,2")}


def test_topics_without_metadata_and_members_without_topics() -> None:
    got = RangeAssignor().assign({"t": 2}, [member("a", "t", "missing"), member("b")])
    assert got == {"a": tps("t:0,1"), "b": []}
    assert RoundRobinAssignor().assign({}, []) == {}


def test_builtin_names() -> None:
    assert set(ASSIGNORS) == {"range", "roundrobin", "cooperative-sticky"}


# ---- properties -------------------------------------------------------------------

ALL_TOPICS = ["t0", "t1", "t2"]
clusters = st.dictionaries(st.sampled_from(ALL_TOPICS), st.integers(0, 12), min_size=1)
groups = st.lists(
    st.tuples(
        st.text("abcdef", min_size=1, max_size=4),
        st.sets(st.sampled_from(ALL_TOPICS), min_size=1),
    ),
    min_size=1,
    max_size=7,
    unique_by=lambda m: m[0],
)


def assigned_once(
    cluster: dict[str, int], members: list[MemberSubscription], got: dict[str, list[TopicPartition]]
) -> None:
    subscribed = {t for m in members for t in m.subscription.topics}
    expected = {
        TopicPartition(t, p) for t, n in cluster.items() if t in subscribed for p in range(n)
    }
    counts = Counter(tp for parts in got.values() for tp in parts)
    assert set(counts) == expected
    assert all(c == 1 for c in counts.values())
    assert set(got) == {m.member_id for m in members}
    for m in members:  # only subscribed topics
        assert all(tp.topic in m.subscription.topics for tp in got[m.member_id])


@given(clusters, groups)
def test_range_assigns_each_partition_once_and_balances_each_topic(cluster, spec) -> None:
    members = [member(mid, *sorted(topics)) for mid, topics in spec]
    got = RangeAssignor().assign(cluster, members)
    assigned_once(cluster, members, got)
    for topic in cluster:
        sizes = [
            sum(tp.topic == topic for tp in got[m.member_id])
            for m in members
            if topic in m.subscription.topics
        ]
        if sizes:
            assert max(sizes) - min(sizes) <= 1


@given(clusters, groups)
def test_roundrobin_assigns_each_partition_once(cluster, spec) -> None:
    members = [member(mid, *sorted(topics)) for mid, topics in spec]
    assigned_once(cluster, members, RoundRobinAssignor().assign(cluster, members))


@given(
    clusters,
    st.lists(st.text("abcdef", min_size=1, max_size=4), min_size=1, max_size=7, unique=True),
)
def test_roundrobin_balances_equal_subscriptions(cluster, ids) -> None:
    members = [member(mid, *sorted(cluster)) for mid in ids]
    sizes = [len(p) for p in RoundRobinAssignor().assign(cluster, members).values()]
    assert max(sizes) - min(sizes) <= 1


# kafka-python's assignors implement the same Java algorithms; for dynamic
# members (kafka-python mis-orders mixed static/dynamic lists) they must agree.
kp_range = pytest.importorskip(
    "kafka.coordinator.assignors.range",
    reason="kafka-python is not installed: pip install kafka-python",
)
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor  # noqa: E402


def kafka_python(
    assignor: object, cluster: dict[str, int], spec: list[tuple[str, set[str]]]
) -> dict[str, list[TopicPartition]]:
    fake_cluster = SimpleNamespace(
        partitions_for_topic=lambda t: set(range(cluster[t])) if t in cluster else None
    )
    kp_members = [
        SimpleNamespace(
            member_id=mid, group_instance_id=None, metadata=SimpleNamespace(topics=sorted(topics))
        )
        for mid, topics in spec
    ]
    result = assignor.assign(fake_cluster, kp_members)  # type: ignore[attr-defined]
    return {
        mid: [TopicPartition(t, p) for t, parts in a.assigned_partitions for p in parts]
        for mid, a in result.items()
    }


@given(clusters, groups)
def test_range_agrees_with_kafka_python(cluster, spec) -> None:
    members = [member(mid, *sorted(topics)) for mid, topics in spec]
    ours = RangeAssignor().assign(cluster, members)
    theirs = kafka_python(kp_range.RangePartitionAssignor, cluster, spec)
    assert {m: sorted(p) for m, p in ours.items()} == theirs


# kafka-python's roundrobin fails on unequal subscriptions (it looks a member
# up by the wrong key), so the comparison uses equal ones.
@given(
    clusters,
    st.lists(st.text("abcdef", min_size=1, max_size=4), min_size=1, max_size=7, unique=True),
)
def test_roundrobin_agrees_with_kafka_python(cluster, ids) -> None:
    spec = [(mid, set(cluster)) for mid in ids]
    members = [member(mid, *sorted(cluster)) for mid in ids]
    ours = RoundRobinAssignor().assign(cluster, members)
    theirs = kafka_python(RoundRobinPartitionAssignor, cluster, spec)
    assert {m: sorted(p) for m, p in ours.items()} == theirs
