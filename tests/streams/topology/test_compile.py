"""Compiling: sub-topologies, describe(), internal topics, co-partitioning."""

from __future__ import annotations

import pytest

from tidal.streams import TopologyError
from tidal.streams._contract import CompiledTopologyProtocol
from tidal.streams.dsl import TopologyBuilder


def word_count() -> TopologyBuilder:
    builder = TopologyBuilder("wc")
    (
        builder.stream("words", value_serde="str")
        .flat_map_values(str.split)
        .group_by(lambda key, word: word, key_serde="str")
        .count(store_name="counts")
        .to_stream()
        .to("word-counts", key_serde="str", value_serde="long")
    )
    return builder


WORD_COUNT_DESCRIPTION = """\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [words])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: wc-counts-repartition)
      <-- KSTREAM-KEY-SELECT-0000000002

   Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000004 (topics: [wc-counts-repartition])
      --> KSTREAM-AGGREGATE-0000000005
    Processor: KSTREAM-AGGREGATE-0000000005 (stores: [counts])
      --> KTABLE-TOSTREAM-0000000006
      <-- KSTREAM-SOURCE-0000000004
    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KSTREAM-AGGREGATE-0000000005
    Sink: KSTREAM-SINK-0000000007 (topic: word-counts)
      <-- KTABLE-TOSTREAM-0000000006

"""


def test_describe_word_count() -> None:
    assert word_count().describe() == WORD_COUNT_DESCRIPTION


def test_describe_lists_branches_merges_and_dynamic_sinks() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream(["a", "b"])
    branches = stream.split().branch(lambda k, v: v > 0, "pos").default_branch("rest")
    branches["pos"].merge(builder.stream("c")).to(lambda k, v, ctx: "x")
    branches["rest"].foreach(print)
    text = builder.describe()
    assert "Source: KSTREAM-SOURCE-0000000000 (topics: [a, b])" in text
    assert "      --> KSTREAM-BRANCHCHILD-0000000002, KSTREAM-BRANCHCHILD-0000000003\n" in text
    assert "      <-- KSTREAM-BRANCHCHILD-0000000002, KSTREAM-SOURCE-0000000004\n" in text
    assert "(extractor: test_describe_lists_branches_merges_and_dynamic_sinks.<locals>." in text
    assert "    Processor: KSTREAM-FOREACH-0000000007 (stores: [])\n      --> none\n" in text
    assert text.count("Sub-topology:") == 1


def test_compiled_topology_satisfies_the_contract() -> None:
    topology: CompiledTopologyProtocol = word_count().compile()
    assert topology.application_id == "wc"
    first, second = topology.subtopologies
    assert (first.id, second.id) == (0, 1)
    assert first.source_topics == {"words"}
    assert second.source_topics == {"wc-counts-repartition"}
    assert first.stores == ()
    (store,) = second.stores
    assert (store.name, store.changelog_topic, store.kind) == (
        "counts",
        "wc-counts-changelog",
        "rocksdb",
    )


def test_internal_topics_take_their_partition_counts_from_upstream() -> None:
    topics = word_count().compile().internal_topics(lambda topic: {"words": 4}[topic])
    assert [(t.name, t.partitions, t.config) for t in topics] == [
        ("wc-counts-repartition", 4, {"cleanup.policy": "delete"}),
        ("wc-counts-changelog", 4, {"cleanup.policy": "compact"}),
    ]


def test_generated_names_are_stable_and_named_after_the_store() -> None:
    def build() -> list[str]:
        builder = TopologyBuilder("app")
        builder.stream("in").group_by(lambda k, v: v).count().to_stream().to("out")
        return [t.name for t in builder.compile().internal_topics(lambda t: 1)]

    names = build()
    assert names == build()
    assert names == [
        "app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition",
        "app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog",
    ]


def test_group_by_name_names_the_repartition_topic() -> None:
    builder = TopologyBuilder("app")
    builder.stream("in").group_by(lambda k, v: v, name="by-v").count("n")
    assert builder.compile().repartition_topics == {"app-by-v-repartition"}


def test_table_store_and_changelog() -> None:
    builder = TopologyBuilder("app")
    builder.table("users")
    topics = builder.compile().internal_topics(lambda t: 5)
    assert [(t.name, t.partitions) for t in topics] == [
        ("app-users-STATE-STORE-0000000001-changelog", 5)
    ]


def test_co_partitioning_error_names_topics_and_counts() -> None:
    builder = TopologyBuilder("app")
    builder.stream("left").merge(builder.stream("right")).to("out")
    topology = builder.compile()
    counts = {"left": 3, "right": 4}
    with pytest.raises(TopologyError, match=r"left \(3 partitions\), right \(4 partitions\)"):
        topology.internal_topics(counts.__getitem__)
    counts["right"] = 3
    assert topology.internal_topics(counts.__getitem__) == []


def test_repartition_topic_partitions_follow_co_partitioned_siblings() -> None:
    builder = TopologyBuilder("app")
    rekeyed = builder.stream("big").select_key(lambda k, v: v).repartition("rk")
    rekeyed.merge(builder.stream("small")).to("out")
    counts = builder.compile().partition_counts({"big": 8, "small": 2}.__getitem__)
    assert counts["app-rk-repartition"] == 2


def test_repartition_feeding_its_own_subtopology_needs_num_partitions() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream("in")
    stream.merge(stream.repartition("loop")).to("out")
    with pytest.raises(TopologyError, match="num_partitions"):
        builder.compile().internal_topics(lambda t: 1)
    fixed = TopologyBuilder("app")
    stream = fixed.stream("in")
    stream.merge(stream.repartition("loop", num_partitions=1)).to("out")
    assert fixed.compile().partition_counts(lambda t: 1)["app-loop-repartition"] == 1


def test_static_errors() -> None:
    builder = TopologyBuilder("app")
    with pytest.raises(TopologyError, match="no sources"):
        builder.compile()
    builder.stream("in")
    builder.stream("in")
    with pytest.raises(TopologyError, match="read by both"):
        builder.compile()
    builder.add_store("x")
    with pytest.raises(TopologyError, match="store named 'x' already exists"):
        builder.add_store("x")
    with pytest.raises(TopologyError, match="kind"):
        builder.add_store("y", kind="disk")
    with pytest.raises(TopologyError):
        builder.stream([])
    with pytest.raises(TopologyError, match="num_partitions"):
        builder.stream("z").repartition(num_partitions=0)
    with pytest.raises(TopologyError, match="different builders"):
        builder.stream("w").merge(TopologyBuilder("other").stream("w"))
    with pytest.raises(TopologyError):
        TopologyBuilder("")


def test_store_serdes_for_typed_views() -> None:
    topology = word_count().compile()
    key_serde, value_serde = topology.store_serdes("counts")
    assert key_serde.deserialize(b"abc") == "abc"
    assert value_serde.deserialize(value_serde.serialize(7)) == 7
    with pytest.raises(TopologyError):
        topology.store_serdes("nope")


def test_describe_shows_table_and_processor_stores() -> None:
    builder = TopologyBuilder("app")
    builder.add_store("seen")
    builder.table("users", store_name="users").to_stream().process(object, stores=["seen"])
    text = builder.describe()
    assert "    Processor: KTABLE-SOURCE-0000000001 (stores: [users])\n" in text
    assert "    Processor: KSTREAM-PROCESSOR-0000000003 (stores: [seen])\n" in text
    (sub,) = builder.compile().subtopologies
    assert [s.name for s in sub.stores] == ["users", "seen"]
