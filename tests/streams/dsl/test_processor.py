"""The Processor API: stores, forwarding, stream-time and wall-clock punctuators."""

from __future__ import annotations

from typing import Any

import pytest

from tidal.streams import ProcessingError, TopologyError
from tidal.streams.dsl import (
    STREAM_TIME,
    WALL_CLOCK_TIME,
    Processor,
    ProcessorContext,
    StoreDefinition,
    TopologyBuilder,
)
from tidal.streams.serdes import resolve_serde
from tidal.streams.testing import TestRecord, TopologyTestDriver


class Deduplicate(Processor):
    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.seen = context.store("seen")

    def process(self, key: Any, value: Any) -> None:
        if self.seen.get(key) is None:
            self.seen.put(key, value)
            self.context.forward(key, value)


def test_processor_with_store_forwards_downstream() -> None:
    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="str")
    builder.add_store("seen", key_serde="str", value_serde="str")
    builder.stream("in").process(Deduplicate, stores=["seen"]).map_values(str.upper).to("out")
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "str")
        source.pipe_key_value_list([("a", "x"), ("b", "y"), ("a", "z")])
        out = driver.create_output_topic("out", "str", "str")
        assert out.read_key_values_to_list() == [("a", "X"), ("b", "Y")]
        assert dict(driver.get_key_value_store("seen").items()) == {"a": "x", "b": "y"}


def test_store_definitions_and_unregistered_names() -> None:
    builder = TopologyBuilder("app")
    stream = builder.stream("in")
    definition = StoreDefinition(
        "typed", resolve_serde("str"), resolve_serde("long"), kind="memory", logging=False
    )
    stream.process(Deduplicate, stores=[definition, "plain"])
    (sub,) = builder.compile().subtopologies
    specs = {s.name: s for s in sub.stores}
    assert specs["typed"].changelog_topic is None
    assert specs["typed"].kind == "memory"
    assert specs["plain"].changelog_topic == "app-plain-changelog"


class Emitter(Processor):
    """Buffers values and flushes their sum on each punctuation."""

    def __init__(self, kind: str, interval: int) -> None:
        self.kind = kind
        self.interval = interval
        self.buffer: list[int] = []
        self.fired: list[tuple[int, int]] = []

    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.cancellable = context.schedule(self.interval, self.kind, self.punctuate)

    def punctuate(self, timestamp: int) -> None:
        self.fired.append((timestamp, self.context.stream_time))
        if self.buffer:
            self.context.forward("sum", sum(self.buffer))
            self.buffer.clear()

    def process(self, key: Any, value: Any) -> None:
        self.buffer.append(value)


def build(kind: str, interval: int) -> tuple[TopologyBuilder, list[Emitter]]:
    made: list[Emitter] = []

    def factory() -> Emitter:
        made.append(Emitter(kind, interval))
        return made[-1]

    builder = TopologyBuilder("app", default_key_serde="str", default_value_serde="long")
    builder.stream("in").process(factory).to("out")
    return builder, made


def test_stream_time_punctuation_fires_as_record_time_passes() -> None:
    builder, made = build(STREAM_TIME, 100)
    with TopologyTestDriver(builder) as driver:
        source = driver.create_input_topic("in", "str", "long")
        out = driver.create_output_topic("out", "str", "long")
        source.pipe_input("k", 1, timestamp=1000)  # first record: fires, then every 100 ms
        source.pipe_input("k", 2, timestamp=1050)
        source.pipe_input("k", 3, timestamp=1020)  # out of order: stream time stays
        assert out.read_records_to_list() == [TestRecord("sum", 1, 1000)]
        source.pipe_input("k", 4, timestamp=1100)
        assert out.read_records_to_list() == [TestRecord("sum", 9, 1100)]
        source.pipe_input("k", 5, timestamp=1450)  # missed intervals are skipped
        driver.advance_wall_clock_time(10_000)  # wall clock does not drive stream time
        assert out.read_records_to_list() == [TestRecord("sum", 5, 1450)]
        (emitter,) = made
        assert emitter.fired == [(1000, 1000), (1100, 1100), (1450, 1450)]
        emitter.cancellable.cancel()
        source.pipe_input("k", 6, timestamp=2000)
        assert out.is_empty()


def test_wall_clock_punctuation_fires_from_the_driver_clock() -> None:
    builder, made = build(WALL_CLOCK_TIME, 1000)
    with TopologyTestDriver(builder, initial_wall_clock_ms=5000) as driver:
        source = driver.create_input_topic("in", "str", "long")
        out = driver.create_output_topic("out", "str", "long")
        source.pipe_input("k", 1, timestamp=1)
        source.pipe_input("k", 2, timestamp=999_999)
        assert out.is_empty()
        driver.advance_wall_clock_time(999)
        assert out.is_empty()
        driver.advance_wall_clock_time(1)
        assert out.read_records_to_list() == [TestRecord("sum", 3, 6000)]
        driver.advance_wall_clock_time(2500)  # 8500: one call, the missed one skipped
        assert made[0].fired == [(6000, 999_999), (8500, 999_999)]


def test_punctuator_errors_become_processing_errors() -> None:
    class Failing(Processor):
        def init(self, context: ProcessorContext) -> None:
            context.schedule(10, WALL_CLOCK_TIME, self.fail)

        def fail(self, timestamp: int) -> None:
            raise RuntimeError("boom")

        def process(self, key: Any, value: Any) -> None:
            pass

    builder = TopologyBuilder("app")
    builder.stream("in").process(Failing)
    with TopologyTestDriver(builder) as driver:
        with pytest.raises(ProcessingError) as info:
            driver.advance_wall_clock_time(10)
        assert isinstance(info.value.cause, RuntimeError)
        assert info.value.offset == -1


def test_schedule_rejects_bad_arguments() -> None:
    class Bad(Processor):
        def __init__(self, interval: int, kind: str) -> None:
            self.args = (interval, kind)

        def init(self, context: ProcessorContext) -> None:
            context.schedule(*self.args, lambda ts: None)

    for args in [(0, STREAM_TIME), (10, "sometimes")]:
        builder = TopologyBuilder("app")
        builder.stream("in").process(lambda args=args: Bad(*args))
        with pytest.raises(TopologyError):
            TopologyTestDriver(builder)


def test_processor_close_is_called_once() -> None:
    closed: list[str] = []

    class Closing(Processor):
        def process(self, key: Any, value: Any) -> None:
            pass

        def close(self) -> None:
            closed.append("closed")

    builder = TopologyBuilder("app")
    builder.stream("in").process(Closing)
    driver = TopologyTestDriver(builder)
    driver.close()
    driver.close()
    assert closed == ["closed"]
