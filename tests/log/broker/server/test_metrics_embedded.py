"""Prometheus metrics of a running broker, and the embedded broker's own contract."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import generate_latest

from tidal.log.broker import Broker, BrokerConfig, EmbeddedBroker
from tidal.log.broker._metrics import PrometheusMetrics
from tidal.log.protocol import Connection, ResponseReceived, Role
from tidal.log.protocol.messages import MetadataRequest, OffsetCommitRequest, ProduceRequest
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.offset_commit import (
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch


async def _call(bootstrap: str, *requests: tuple[object, int]) -> list[object]:
    host, port = bootstrap.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    conn = Connection(Role.CLIENT)
    answers: list[object] = []
    try:
        for request, version in requests:
            writer.write(conn.send_request(request, version))  # type: ignore[arg-type]
            while True:
                event = conn.next_event()
                if isinstance(event, ResponseReceived):
                    answers.append(event.response)
                    break
                conn.receive_data(await reader.read(65536))
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


async def test_prometheus_metrics_cover_requests_bytes_logs_and_lag(tmp_path: Path) -> None:
    metrics = PrometheusMetrics()
    async with EmbeddedBroker(tmp_path / "data", metrics=metrics) as broker:
        batch = encode_batch([SimpleRecord(b"v%d" % i) for i in range(5)])
        produce = ProduceRequest(
            acks=-1,
            timeout_ms=1000,
            topic_data=[
                TopicProduceData(
                    name="metered", partition_data=[PartitionProduceData(index=0, records=batch)]
                )
            ],
        )
        commit = OffsetCommitRequest(
            group_id="lagging",
            topics=[
                OffsetCommitRequestTopic(
                    name="metered",
                    partitions=[
                        OffsetCommitRequestPartition(partition_index=0, committed_offset=2)
                    ],
                )
            ],
        )
        await _call(
            broker.bootstrap_servers,
            (MetadataRequest(topics=[MetadataRequestTopic(name="metered")]), 12),
            (produce, 9),
            (commit, 8),
        )
        for _ in range(100):  # the broker sees the client's close a moment later
            text = generate_latest(metrics.registry).decode()
            if "tidal_connections 0.0" in text:
                break
            await asyncio.sleep(0.01)
    assert 'tidal_requests_total{api="Produce"} 1.0' in text
    assert 'tidal_requests_total{api="Metadata"} 1.0' in text
    assert 'tidal_request_seconds_count{api="OffsetCommit"} 1.0' in text
    assert 'tidal_network_bytes_total{direction="in"}' in text
    assert 'tidal_log_end_offset{partition="0",topic="metered"} 5.0' in text
    assert 'tidal_log_size_bytes{topic="metered"}' in text
    assert 'tidal_group_lag{group="lagging",partition="0",topic="metered"} 3.0' in text
    assert "tidal_connections 0.0" in text


async def test_embedded_broker_without_a_data_dir_cleans_up() -> None:
    broker = EmbeddedBroker(config={"num.partitions": 4})
    data_dir = broker.data_dir
    async with broker:
        assert isinstance(broker.broker, Broker)
        assert broker.broker.config.get("num.partitions") == 4
        assert data_dir.exists()
        assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
    assert not data_dir.exists()


def test_sync_embedded_broker_serves_from_its_thread(tmp_path: Path) -> None:
    with EmbeddedBroker.sync(tmp_path / "sync") as running:
        answers = asyncio.run(_call(running.bootstrap_servers, (MetadataRequest(topics=None), 12)))
        assert answers[0].brokers[0].port == int(running.bootstrap_servers.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        assert running.embedded.broker.config.get("log.dirs") == str(tmp_path / "sync")
    assert (tmp_path / "sync" / ".kafka_cleanshutdown").exists()
    assert BrokerConfig is not None
