"""The test driver's own behaviour: topics, clock, stores, failures, entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidal.streams import App, ProcessingError, TopologyError
from tidal.streams.dsl import TopologyBuilder
from tidal.streams.testing import NoSuchElementError, TestRecord, TopologyTestDriver


def upper(builder: TopologyBuilder) -> TopologyBuilder:
    builder.stream("in", key_serde="str", value_serde="str").map_values(
        lambda v: v and v.upper()
    ).to("out", value_serde="str")
    return builder


def test_input_topic_timestamps_default_to_clock_and_auto_advance() -> None:
    with TopologyTestDriver(upper(TopologyBuilder("app")), initial_wall_clock_ms=100) as driver:
        plain = driver.create_input_topic("in", "str", "str")
        plain.pipe_input("k", "a")
        stepping = driver.create_input_topic(
            "in", "str", "str", start_timestamp=0, auto_advance_ms=5
        )
        stepping.pipe_value_list(["b", "c"])
        stepping.advance_time(100)
        stepping.pipe_records([TestRecord("k", "d"), TestRecord("k", "e", timestamp=1)])
        out = driver.create_output_topic("out", "str", "str")
        records = out.read_records_to_list()
        assert [(r.value, r.timestamp) for r in records] == [
            ("A", 100),
            ("B", 0),
            ("C", 5),
            ("D", 110),
            ("E", 1),
        ]
        with pytest.raises(ValueError, match="backwards"):
            stepping.advance_time(-1)


def test_output_topic_reads() -> None:
    with TopologyTestDriver(upper(TopologyBuilder("app"))) as driver:
        source = driver.create_input_topic("in", "str", "str")
        out = driver.create_output_topic("out", "str", "str")
        assert out.is_empty()
        with pytest.raises(NoSuchElementError):
            out.read_value()
        source.pipe_key_value_list([("a", "x"), ("b", "y"), ("a", "z"), ("b", None)])
        assert out.get_queue_size() == 4
        assert out.read_value() == "X"
        assert out.read_key_value() == ("b", "Y")
        assert out.read_key_values_to_map() == {"a": "Z"}  # the tombstone removed b
        assert out.is_empty()
        assert driver.produced_topic_names() == {"out"}


def test_unknown_input_topic_is_refused() -> None:
    builder = upper(TopologyBuilder("app"))
    builder.stream("x").group_by(lambda k, v: v).count("n")
    with TopologyTestDriver(builder) as driver:
        with pytest.raises(TopologyError, match="does not read topic 'nope'"):
            driver.create_input_topic("nope")
        with pytest.raises(TopologyError, match="does not read"):
            driver.create_input_topic("app-n-repartition")


def test_output_read_back_as_input_is_processed() -> None:
    builder = TopologyBuilder("app")
    builder.stream("a", value_serde="long").map_values(lambda v: v + 1).to("b", value_serde="long")
    builder.stream("b", value_serde="long").map_values(lambda v: v * 10).to("c", value_serde="long")
    with TopologyTestDriver(builder) as driver:
        driver.create_input_topic("a", value_serde="long").pipe_input(None, 1)
        assert driver.create_output_topic("b", value_serde="long").read_value() == 2
        assert driver.create_output_topic("c", value_serde="long").read_value() == 20


def test_stores_commit_after_each_record_and_roll_back_on_failure() -> None:
    builder = TopologyBuilder("app")
    counted = builder.stream("in", key_serde="str", value_serde="long").group_by_key().count("n")
    counted.to_stream().map_values(lambda n: 1 // (3 - n)).to("out")
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "long")
        source.pipe_input("k", 0)
        source.pipe_input("k", 0)
        store = driver.get_key_value_store("n")
        assert store.partition_store.pending() == []
        assert store.get("k") == 2
        with pytest.raises(ProcessingError) as info:
            source.pipe_input("k", 0)
        assert info.value.offset == 2
        assert store.get("k") == 2
        with pytest.raises(KeyError, match="no store named 'm'"):
            driver.get_key_value_store("m")


def test_driver_accepts_an_app_and_a_compiled_topology(tmp_path: Path) -> None:
    app = App("app", state_dir=tmp_path)
    app.stream("in", key_serde="str", value_serde="str").filter(lambda k, v: v != "drop").to("out")
    for target in (app, app.builder.compile()):
        with TopologyTestDriver(target) as driver:
            source = driver.create_input_topic("in", "str", "str")
            source.pipe_value_list(["keep", "drop"])
            assert driver.create_output_topic("out", "str", "str").read_values_to_list() == ["keep"]

    class Holder:
        topology_builder = upper(TopologyBuilder("held"))

    with TopologyTestDriver(Holder()) as driver:
        driver.create_input_topic("in", "str", "str").pipe_input("k", "v")
        assert driver.create_output_topic("out", "str", "str").read_value() == "V"
    with pytest.raises(TypeError, match="TopologyBuilder"):
        TopologyTestDriver(object())


def test_closed_driver_refuses_work() -> None:
    driver = TopologyTestDriver(upper(TopologyBuilder("app")))
    source = driver.create_input_topic("in", "str", "str")
    driver.close()
    with pytest.raises(TopologyError, match="closed"):
        source.pipe_input("k", "v")
    with pytest.raises(TopologyError, match="closed"):
        driver.advance_wall_clock_time(1)
    with pytest.raises(ValueError, match="backwards"):
        TopologyTestDriver(upper(TopologyBuilder("app"))).advance_wall_clock_time(-1)
