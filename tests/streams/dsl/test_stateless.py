"""Stateless stream operators, run through the test driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tidal.streams import TopologyError
from tidal.streams.dsl import Stream, TopologyBuilder
from tidal.streams.testing import TestRecord, TopologyTestDriver


def run(
    build: Callable[[Stream], None],
    inputs: list[tuple[Any, Any]],
    outputs: tuple[str, ...] = ("out",),
) -> dict[str, list[tuple[Any, Any]]]:
    """Build ``in`` -> ``build`` with str keys/values, pipe ``inputs``, read ``outputs``."""
    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="str")
    build(builder.stream("in"))
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "str")
        sinks = {name: driver.create_output_topic(name, "str", "str") for name in outputs}
        source.pipe_key_value_list(inputs)
        return {name: sink.read_key_values_to_list() for name, sink in sinks.items()}


PAIRS = [("a", "one"), ("b", "two"), ("c", "three")]


def test_map_changes_key_and_value() -> None:
    out = run(lambda s: s.map(lambda k, v: (v, k)).to("out"), PAIRS)
    assert out["out"] == [("one", "a"), ("two", "b"), ("three", "c")]


def test_map_values_keeps_key() -> None:
    out = run(lambda s: s.map_values(str.upper).to("out"), PAIRS)
    assert out["out"] == [("a", "ONE"), ("b", "TWO"), ("c", "THREE")]


def test_filter_and_filter_not_partition_the_input() -> None:
    def build(s: Stream) -> None:
        s.filter(lambda k, v: len(v) == 3).to("out")
        s.filter_not(lambda k, v: len(v) == 3).to("rest")

    out = run(build, PAIRS, ("out", "rest"))
    assert out["out"] == [("a", "one"), ("b", "two")]
    assert out["rest"] == [("c", "three")]


def test_flat_map_emits_zero_or_more_records() -> None:
    out = run(lambda s: s.flat_map(lambda k, v: [(k + c, c) for c in v[:2]]).to("out"), PAIRS)
    assert out["out"] == [
        ("ao", "o"),
        ("an", "n"),
        ("bt", "t"),
        ("bw", "w"),
        ("ct", "t"),
        ("ch", "h"),
    ]
    assert run(lambda s: s.flat_map(lambda k, v: []).to("out"), PAIRS)["out"] == []


def test_flat_map_values_keeps_key() -> None:
    out = run(lambda s: s.flat_map_values(lambda v: v.split("e")).to("out"), [("k", "xeyez")])
    assert out["out"] == [("k", "x"), ("k", "y"), ("k", "z")]


def test_peek_and_foreach_see_every_record() -> None:
    peeked: list[tuple[str, str]] = []
    seen: list[tuple[str, str]] = []

    def build(s: Stream) -> None:
        s.peek(lambda k, v: peeked.append((k, v))).to("out")
        s.foreach(lambda k, v: seen.append((k, v)))

    out = run(build, PAIRS)
    assert peeked == seen == PAIRS
    assert out["out"] == PAIRS


def test_select_key() -> None:
    out = run(lambda s: s.select_key(lambda k, v: v[0]).to("out"), PAIRS)
    assert out["out"] == [("o", "one"), ("t", "two"), ("t", "three")]


def test_split_routes_to_first_matching_branch_and_default() -> None:
    def build(s: Stream) -> None:
        branches = (
            s.split("len-")
            .branch(lambda k, v: len(v) == 3, "three")
            .branch(lambda k, v: v.startswith("t"))
            .default_branch()
        )
        assert set(branches) == {"len-three", "len-2", "len-0"}
        branches["len-three"].to("out")
        branches["len-2"].to("t")
        branches["len-0"].to("rest")

    out = run(build, [*PAIRS, ("d", "four")], ("out", "t", "rest"))
    assert out["out"] == [("a", "one"), ("b", "two")]
    assert out["t"] == [("c", "three")]
    assert out["rest"] == [("d", "four")]


def test_split_without_default_drops_unmatched() -> None:
    def build(s: Stream) -> None:
        branches = s.split().branch(lambda k, v: v == "two").no_default_branch()
        assert list(branches) == ["1"]
        branches["1"].to("out")

    assert run(build, PAIRS)["out"] == [("b", "two")]


def test_split_rejects_duplicate_names() -> None:
    stream = TopologyBuilder("app").stream("in")
    with pytest.raises(TopologyError, match="used twice"):
        stream.split().branch(lambda k, v: True, "x").branch(lambda k, v: True, "x")


def test_merge_interleaves_in_arrival_order() -> None:
    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="str")
    left = builder.stream("left")
    right = builder.stream("right").map_values(str.upper)
    left.merge(right).to("out")
    with TopologyTestDriver(builder) as driver:
        lt = driver.create_input_topic("left", "str", "str")
        rt = driver.create_input_topic("right", "str", "str")
        out = driver.create_output_topic("out", "str", "str")
        lt.pipe_input("1", "a")
        rt.pipe_input("2", "b")
        lt.pipe_input("3", "c")
        assert out.read_key_values_to_list() == [("1", "a"), ("2", "B"), ("3", "c")]


def test_stream_over_several_topics() -> None:
    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="str")
    builder.stream(["x", "y"]).to("out")
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("x", "str", "str").pipe_input("k", "from-x")
        driver.create_input_topic("y", "str", "str").pipe_input("k", "from-y")
        out = driver.create_output_topic("out", "str", "str")
        assert out.read_values_to_list() == ["from-x", "from-y"]


def test_to_with_topic_extractor_gets_record_context() -> None:
    contexts: list[tuple[str, int, int]] = []

    def route(key: str, value: str, ctx: Any) -> str:
        contexts.append((ctx.topic, ctx.partition, ctx.offset))
        return f"out-{key}"

    out = run(lambda s: s.to(route), [("a", "1"), ("b", "2"), ("a", "3")], ("out-a", "out-b"))
    assert out == {"out-a": [("a", "1"), ("a", "3")], "out-b": [("b", "2")]}
    assert contexts == [("in", 0, 0), ("in", 0, 1), ("in", 0, 2)]


def test_timestamp_and_headers_flow_through() -> None:
    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="str")
    builder.stream("in").map_values(str.upper).flat_map_values(lambda v: [v, v]).to("out")
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "str")
        out = driver.create_output_topic("out", "str", "str")
        source.pipe_input("k", "v", timestamp=1234, headers=[("h", b"1")])
        expected = TestRecord("k", "V", 1234, (("h", b"1"),))
        assert out.read_records_to_list() == [expected, expected]


def test_branching_copies_mutable_values() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream("in", value_serde="json")

    def mutate(value: dict[str, int]) -> dict[str, int]:
        value["n"] += 100
        return value

    stream.map_values(mutate).to("a", value_serde="json")
    stream.to("b", value_serde="json")
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("in", value_serde="json").pipe_input(None, {"n": 1})
        assert driver.create_output_topic("a", value_serde="json").read_value() == {"n": 101}
        assert driver.create_output_topic("b", value_serde="json").read_value() == {"n": 1}


def test_nothing_runs_until_compiled() -> None:
    calls: list[str] = []
    builder = TopologyBuilder("app")
    stream = builder.stream("in")
    mapped = stream.map_values(lambda v: calls.append("map"))
    assert mapped is not stream
    assert mapped.node is not stream.node
    assert calls == []
    builder.compile()
    assert calls == []


def test_serdes_are_inherited_by_to_when_the_value_is_unchanged() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream("in", key_serde="str", value_serde="long")
    stream.filter(lambda k, v: v > 1).to("same")
    stream.map_values(lambda v: v * 2).to("default")
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("in", "str", "long").pipe_input("k", 5)
        assert driver.create_output_topic("same", "str", "long").read_value() == 5
        assert driver.create_output_topic("default", "str", "msgpack").read_value() == 10
