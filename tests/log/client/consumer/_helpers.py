"""Test helpers: a broker, topics and records written with the client core
(the consumer tests do not depend on our producer)."""

from __future__ import annotations

from tidal.log.client import ClientConfig, Kernel
from tidal.log.protocol.messages import CreateTopicsRequest, ProduceRequest
from tidal.log.protocol.messages.create_topics import CreatableTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, encode_batch

BROKER_CONFIG = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
}

#: Consumer settings that keep the suite fast.
FAST = {
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 100,
    "max_poll_interval_ms": 10000,
    "fetch_max_wait_ms": 100,
    "retry_backoff_ms": 20,
    "retry_backoff_max_ms": 200,
}


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    kernel = Kernel(ClientConfig.build(bootstrap_servers=bootstrap))
    await kernel.start()
    try:
        request = CreateTopicsRequest(
            topics=[CreatableTopic(name=name, num_partitions=partitions, replication_factor=1)]
        )
        response = await kernel.send_to_any(CreateTopicsRequest, request)
        assert all(t.error_code == 0 for t in response.topics), response
    finally:
        await kernel.close()


async def produce(
    bootstrap: str,
    topic: str,
    by_partition: dict[int, list[bytes]],
    *,
    timestamp: int = 1_700_000_000_000,
) -> None:
    """Write values (one batch per partition) and wait for acks=all."""
    kernel = Kernel(ClientConfig.build(bootstrap_servers=bootstrap))
    await kernel.start()
    try:
        data = [
            PartitionProduceData(
                index=p,
                records=encode_batch(
                    [SimpleRecord(v, key=v, timestamp=timestamp + i) for i, v in enumerate(values)]
                ),
            )
            for p, values in by_partition.items()
        ]
        request = ProduceRequest(
            acks=-1,
            timeout_ms=10_000,
            topic_data=[TopicProduceData(name=topic, partition_data=data)],
        )
        response = await kernel.send_to_any(ProduceRequest, request)
        for t in response.responses:
            for p in t.partition_responses:
                assert p.error_code == 0, p
    finally:
        await kernel.close()
