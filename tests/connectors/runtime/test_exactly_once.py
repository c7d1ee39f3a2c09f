"""Exactly-once sources on a distributed worker: connector-defined transaction boundaries
commit and abort where the task says; read_committed consumers see only committed records."""

from __future__ import annotations

from pathlib import Path

from tests.connectors.runtime._helpers import BROKER_CONFIG, STRING, call, wait_for
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.consumer import Consumer, TopicPartition


async def _committed(bootstrap: str, topic: str) -> list[bytes]:
    async with Consumer(bootstrap_servers=bootstrap, isolation_level="read_committed") as consumer:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        values: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                values.extend(r.value for r in records if r.value is not None)
        return values


async def test_connector_defined_transaction_boundaries(tmp_path: Path) -> None:
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        props = {
            "bootstrap.servers": bootstrap, "listeners": "http://127.0.0.1:0", "group.id": "g",
            "exactly.once.source.support": "enabled", "key.converter": STRING,
            "value.converter": STRING, "offset.storage.partitions": "2",
        }  # fmt: skip
        async with ConnectWorker(props, distributed=True) as worker:
            config = {
                "connector.class": "tests.connectors.runtime._test_plugins.CountingSourceConnector",
                "topic": "counts", "count": "9", "transaction.boundary": "connector",
                "exactly.once.support": "required",
            }  # fmt: skip
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": "counter", "config": config})  # fmt: skip
            assert status == 201, body

            async def offsets_done() -> bool:
                _, body = await call("GET", worker.url + "/connectors/counter/offsets")
                return body["offsets"] == [{"partition": {"counter": "c"}, "offset": {"n": 8}}]

            await wait_for(offsets_done, 30, "the last transaction")
            values = await _committed(bootstrap, "counts")
            assert values == [b"0", b"1", b"2", b"5", b"6", b"7", b"8"]

            # FileStreamSource cannot define transaction boundaries: refused like Kafka does.
            file_config = {"connector.class": "FileStreamSource", "file": str(tmp_path / "f"),
                           "topic": "t", "transaction.boundary": "connector"}  # fmt: skip
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": "files", "config": file_config})  # fmt: skip
            assert status == 400
            assert "does not support connector-defined transaction boundaries" in body["message"]
