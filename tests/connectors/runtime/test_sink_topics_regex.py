"""A sink subscribed with topics.regex reads every matching topic, new ones included."""

from __future__ import annotations

from pathlib import Path

from tests.connectors.runtime._helpers import BROKER_CONFIG, lines, wait_for, worker_props
from tidal.connectors.runtime import Herder, WorkerConfig
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.producer import Producer


async def test_topics_regex(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        props = worker_props(bootstrap, tmp_path, **{"consumer.metadata.max.age.ms": "300"})
        herder = Herder(WorkerConfig(props), worker_id="test:0")
        await herder.start()
        try:
            async with Producer(bootstrap_servers=bootstrap) as producer:
                for topic, value in (("orders-eu", b"eu"), ("orders-us", b"us"), ("other", b"x")):
                    await producer.send_and_wait(topic, value)
                await herder.create_connector("sink", {
                    "connector.class": "FileStreamSink", "file": str(out),
                    "topics.regex": "orders-.*",
                })  # fmt: skip
                await wait_for(lambda: sorted(lines(out)) == ["eu", "us"], what="both topics")
                await producer.send_and_wait("orders-asia", b"asia")
                await wait_for(
                    lambda: sorted(lines(out)) == ["asia", "eu", "us"], what="the new topic"
                )
            assert herder.active_topics("sink")["sink"]["topics"] == [
                "orders-asia", "orders-eu", "orders-us",
            ]  # fmt: skip
        finally:
            await herder.stop()
