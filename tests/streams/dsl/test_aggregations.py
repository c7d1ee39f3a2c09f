"""Grouping, aggregation and tables, run through the test driver."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tidal.streams.dsl import TopologyBuilder
from tidal.streams.testing import TopologyTestDriver


def word_count(builder: TopologyBuilder) -> None:
    (
        builder.stream("lines", value_serde="str")
        .flat_map_values(str.split)
        .group_by(lambda key, word: word, key_serde="str")
        .count(store_name="counts")
        .to_stream()
        .to("word-counts", key_serde="str", value_serde="long")
    )


def test_word_count() -> None:
    builder = TopologyBuilder("wc")
    word_count(builder)
    with TopologyTestDriver(builder) as driver:
        lines = driver.create_input_topic("lines", value_serde="str")
        out = driver.create_output_topic("word-counts", "str", "long")
        lines.pipe_value_list(["the cat", "the dog the end"])
        assert out.read_key_values_to_list() == [
            ("the", 1),
            ("cat", 1),
            ("the", 2),
            ("dog", 1),
            ("the", 3),
            ("end", 1),
        ]
        store = driver.get_key_value_store("counts")
        assert dict(store.items()) == {"the": 3, "cat": 1, "dog": 1, "end": 1}


def test_group_by_key_without_key_change_needs_no_repartition() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", key_serde="str", value_serde="long").group_by_key().reduce(
        lambda agg, v: agg + v, store_name="sums"
    ).to_stream().to("out", key_serde="str", value_serde="long")
    topology = builder.compile()
    assert len(topology.subtopologies) == 1
    assert topology.repartition_topics == frozenset()
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "long")
        out = driver.create_output_topic("out", "str", "long")
        source.pipe_key_value_list([("a", 1), ("b", 10), ("a", 2), ("a", 3)])
        assert out.read_key_values_to_list() == [("a", 1), ("b", 10), ("a", 3), ("a", 6)]


def test_group_by_key_after_map_goes_through_a_repartition_topic() -> None:
    builder = TopologyBuilder("app")
    (
        builder.stream("in", key_serde="str", value_serde="str")
        .map(lambda k, v: (v, k))
        .group_by_key()
        .count()
        .to_stream()
        .to("out")
    )
    topology = builder.compile()
    assert len(topology.subtopologies) == 2
    assert topology.repartition_topics == {
        "app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition"
    }
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("in", "str", "str").pipe_key_value_list(
            [("1", "x"), ("2", "y"), ("3", "x")]
        )
        assert driver.create_output_topic("out").read_key_values_to_list() == [
            ("x", 1),
            ("y", 1),
            ("x", 2),
        ]


def test_aggregate_with_initializer() -> None:
    builder = TopologyBuilder("app")
    (
        builder.stream("purchases", key_serde="str", value_serde="json")
        .group_by_key()
        .aggregate(
            lambda: {"n": 0, "total": 0},
            lambda user, purchase, agg: {"n": agg["n"] + 1, "total": agg["total"] + purchase},
            store_name="totals",
            value_serde="json",
        )
        .to_stream()
        .to("out", key_serde="str", value_serde="json")
    )
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("purchases", "str", "json")
        source.pipe_key_value_list([("ann", 5), ("bob", 1), ("ann", 7)])
        out = driver.create_output_topic("out", "str", "json")
        assert out.read_key_values_to_map() == {
            "ann": {"n": 2, "total": 12},
            "bob": {"n": 1, "total": 1},
        }
        assert driver.get_key_value_store("totals").get("ann") == {"n": 2, "total": 12}


def test_aggregations_skip_none_keys_and_values() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in", key_serde="str", value_serde="str").group_by_key().count(
        "c"
    ).to_stream().to("out")
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "str")
        source.pipe_key_value_list([(None, "x"), ("k", None), ("k", "v")])
        out = driver.create_output_topic("out", key_serde="str")
        assert out.read_key_values_to_list() == [("k", 1)]


def test_explicit_repartition_with_name_and_partitions() -> None:
    builder = TopologyBuilder("app")
    (
        builder.stream("in", key_serde="str", value_serde="str")
        .select_key(lambda k, v: v)
        .repartition("by-value", num_partitions=6)
        .map_values(str.upper)
        .to("out", key_serde="str", value_serde="str")
    )
    topology = builder.compile()
    internal = {t.name: t for t in topology.internal_topics(lambda t: 3)}
    assert internal["app-by-value-repartition"].partitions == 6
    assert internal["app-by-value-repartition"].config == {"cleanup.policy": "delete"}
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("in", "str", "str").pipe_input("k", "v")
        out = driver.create_output_topic("out", "str", "str")
        assert out.read_key_value() == ("v", "V")


def test_table_keeps_latest_value_and_emits_updates_with_tombstones() -> None:
    builder = TopologyBuilder("app")
    table = builder.table("users", key_serde="str", value_serde="str", store_name="users")
    table.to_stream().to("changes", key_serde="str", value_serde="str")
    with TopologyTestDriver(builder) as driver:
        users = driver.create_input_topic("users", "str", "str")
        users.pipe_key_value_list([("u1", "ann"), ("u2", "bob"), ("u1", "anne"), ("u2", None)])
        users.pipe_input("u3", None)  # deleting an absent key forwards nothing
        changes = driver.create_output_topic("changes", "str", "str")
        assert changes.read_key_values_to_list() == [
            ("u1", "ann"),
            ("u2", "bob"),
            ("u1", "anne"),
            ("u2", None),
        ]
        assert dict(driver.get_key_value_store("users").items()) == {"u1": "anne"}


def test_table_filter_emits_tombstone_when_a_key_stops_passing() -> None:
    builder = TopologyBuilder("app")
    (
        builder.table("scores", key_serde="str", value_serde="long")
        .filter(lambda k, v: v >= 10)
        .to_stream()
        .to("high", key_serde="str", value_serde="long")
    )
    with TopologyTestDriver(builder) as driver:
        scores = driver.create_input_topic("scores", "str", "long")
        scores.pipe_key_value_list([("a", 5), ("a", 12), ("b", 3), ("a", 15), ("a", 4), ("a", 1)])
        high = driver.create_output_topic("high", "str", "long")
        assert high.read_key_values_to_list() == [("a", 12), ("a", 15), ("a", None)]


def test_table_filter_not_and_map_values() -> None:
    builder = TopologyBuilder("app")
    (
        builder.table("t", key_serde="str", value_serde="long")
        .filter_not(lambda k, v: v < 0)
        .map_values(lambda v: v * 10)
        .to_stream()
        .to("out", key_serde="str", value_serde="long")
    )
    with TopologyTestDriver(builder) as driver:
        t = driver.create_input_topic("t", "str", "long")
        t.pipe_key_value_list([("a", 1), ("b", -1), ("a", -2)])
        out = driver.create_output_topic("out", "str", "long")
        assert out.read_key_values_to_list() == [("a", 10), ("a", None)]


def region_counts(builder: TopologyBuilder) -> None:
    (
        builder.table("user-regions", key_serde="str", value_serde="str")
        .group_by(lambda user, region: (region, user), key_serde="str", value_serde="str")
        .count(store_name="region-counts")
        .to_stream()
        .to("region-counts", key_serde="str", value_serde="long")
    )


def test_table_regroup_subtracts_from_old_group_and_adds_to_new() -> None:
    builder = TopologyBuilder("app")
    region_counts(builder)
    with TopologyTestDriver(builder) as driver:
        regions = driver.create_input_topic("user-regions", "str", "str")
        out = driver.create_output_topic("region-counts", "str", "long")
        regions.pipe_key_value_list([("alice", "eu"), ("bob", "eu"), ("carol", "us")])
        assert out.read_key_values_to_list() == [("eu", 1), ("eu", 2), ("us", 1)]
        regions.pipe_input("alice", "us")  # alice moves
        assert out.read_key_values_to_list() == [("eu", 1), ("us", 2)]
        regions.pipe_input("bob", None)  # bob leaves
        assert out.read_key_values_to_list() == [("eu", 0)]
        regions.pipe_input("carol", "us")  # same group: subtract and add in one record
        assert out.read_key_values_to_list() == [("us", 2)]
        store = driver.get_key_value_store("region-counts")
        assert dict(store.items()) == {"eu": 0, "us": 2}


def test_table_reduce_and_aggregate_with_subtractor() -> None:
    builder = TopologyBuilder("app")
    grouped = builder.table("salaries", key_serde="str", value_serde="json").group_by(
        lambda name, row: (row["dept"], row["pay"])
    )
    grouped.reduce(lambda a, v: a + v, lambda a, v: a - v, "total").to_stream().to("totals")
    grouped.aggregate(
        list, lambda k, v, agg: sorted([*agg, v]), lambda k, v, agg: [x for x in agg if x != v]
    ).to_stream().to("lists")
    with TopologyTestDriver(builder) as driver:
        salaries = driver.create_input_topic("salaries", "str", "json")
        salaries.pipe_input("ann", {"dept": "eng", "pay": 10})
        salaries.pipe_input("bob", {"dept": "eng", "pay": 7})
        salaries.pipe_input("ann", {"dept": "ops", "pay": 12})
        assert driver.create_output_topic("totals").read_key_values_to_map() == {
            "eng": 7,
            "ops": 12,
        }
        assert driver.create_output_topic("lists").read_key_values_to_map() == {
            "eng": [7],
            "ops": [12],
        }


def test_count_of_table_to_stream_over_repartition_is_deterministic_across_builds() -> None:
    first, second = TopologyBuilder("app"), TopologyBuilder("app")
    region_counts(first)
    region_counts(second)
    assert first.describe() == second.describe()
    assert first.compile().internal_topics(lambda t: 2) == second.compile().internal_topics(
        lambda t: 2
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 3)), max_size=60))
def test_count_equals_counter(records: list[tuple[str, int]]) -> None:
    builder = TopologyBuilder("prop")
    (
        builder.stream("in", key_serde="str", value_serde="long")
        .group_by(lambda k, v: f"{k}{v}", key_serde="str")
        .count(store_name="n")
        .to_stream()
        .to("out", key_serde="str", value_serde="long")
    )
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("in", "str", "long").pipe_key_value_list(records)
        expected = Counter(f"{k}{v}" for k, v in records)
        out: dict[Any, Any] = driver.create_output_topic(
            "out", "str", "long"
        ).read_key_values_to_map()
        assert out == dict(expected)
        assert dict(driver.get_key_value_store("n").items()) == dict(expected)


def test_stream_to_table_upserts_and_repartitions_after_a_key_change() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream("in", key_serde="str", value_serde="str")
    stream.to_table("latest").filter(lambda k, v: v != "hidden").to_stream().to("out")
    stream.select_key(lambda k, v: v).to_table("by-value")
    topology = builder.compile()
    assert topology.repartition_topics == {"app-by-value-repartition"}
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "str")
        source.pipe_key_value_list([("a", "x"), ("a", "hidden"), ("b", "y"), ("b", None)])
        out = driver.create_output_topic("out", "str", "str")
        assert out.read_key_values_to_list() == [("a", "x"), ("a", None), ("b", "y"), ("b", None)]
        assert dict(driver.get_key_value_store("latest").items()) == {"a": "hidden"}
        assert dict(driver.get_key_value_store("by-value").items()) == {
            "x": "x",
            "hidden": "hidden",
            "y": "y",
        }


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.sampled_from(["eu", "us", None])),
        max_size=40,
    )
)
def test_regrouped_count_equals_counter_of_current_rows(
    updates: list[tuple[str, str | None]],
) -> None:
    builder = TopologyBuilder("prop")
    region_counts(builder)
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("user-regions", "str", "str").pipe_key_value_list(updates)
        current: dict[str, str] = {}
        for user, region in updates:
            if region is None:
                current.pop(user, None)
            else:
                current[user] = region
        counts = dict(driver.get_key_value_store("region-counts").items())
        assert {r: n for r, n in counts.items() if n} == dict(Counter(current.values()))
        latest = driver.create_output_topic("region-counts", "str", "long").read_key_values_to_map()
        assert latest == counts
