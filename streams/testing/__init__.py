"""Testing aid: run a topology without a broker, deterministically and fast.

:class:`TopologyTestDriver` is Kafka Streams' driver in Python: create typed
input and output topics, pipe records, read what the topology wrote, move the
wall clock to fire punctuators, and look into the stores::

    from tidal.streams.testing import TopologyTestDriver

    with TopologyTestDriver(builder) as driver:
        words = driver.create_input_topic("words", value_serde="str")
        counts = driver.create_output_topic("counts", key_serde="str", value_serde="long")
        words.pipe_input(None, "hello")
        assert counts.read_key_value() == ("hello", 1)
"""

from tidal.streams.testing._driver import TopologyTestDriver
from tidal.streams.testing._topics import (
    NoSuchElementError,
    TestInputTopic,
    TestOutputTopic,
    TestRecord,
)

__all__ = [
    "NoSuchElementError",
    "TestInputTopic",
    "TestOutputTopic",
    "TestRecord",
    "TopologyTestDriver",
]
