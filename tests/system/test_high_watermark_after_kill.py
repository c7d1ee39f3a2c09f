"""After ``kill -9`` the broker serves every record its log recovered.

A single node is each partition's only in-sync replica, so the recovered log
end is the high watermark (as a Kafka leader alone in its ISR sets it), not
the older high watermark of the last checkpoint.
"""

from __future__ import annotations

import socket
from pathlib import Path

from tests.system.conftest import BrokerProcess
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_acknowledged_records_are_readable_after_kill_9(
    tmp_path: Path, broker_process: type[BrokerProcess]
) -> None:
    broker = broker_process(tmp_path / "data", _free_port())
    broker.start()
    bootstrap = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic("t", num_partitions=2)])
    async with Producer(bootstrap_servers=bootstrap, linger_ms=0) as producer:
        for i in range(10):
            await producer.send_and_wait("t", b"%d" % i, partition=i % 2)
    broker.kill()
    broker.start()
    tps = [TopicPartition("t", 0), TopicPartition("t", 1)]
    for isolation in ("read_uncommitted", "read_committed"):
        async with Consumer(
            bootstrap_servers=bootstrap, auto_offset_reset="earliest", isolation_level=isolation
        ) as consumer:
            assert await consumer.end_offsets(tps) == {tps[0]: 5, tps[1]: 5}
            consumer.assign(tps)
            values: list[bytes | None] = []
            for _ in range(50):
                batch = await consumer.getmany(timeout_ms=100)
                values += [r.value for records in batch.values() for r in records]
                if len(values) == 10:
                    break
            assert sorted(values, key=lambda v: int(v or b"0")) == [b"%d" % i for i in range(10)]
