"""With ``max_in_flight_requests_per_connection=1`` the next request goes out as soon as
the previous one is acknowledged, before the callers its completion wakes run: a caller
that then does a batch's worth of work (a Connect source task converting records) must
not sit between one response and the next request."""

from __future__ import annotations

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import TopicPartition
from tidal.log.client.producer import Producer


async def test_a_caller_woken_by_a_delivery_finds_the_next_batch_already_sent(
    broker: EmbeddedBroker,
) -> None:
    bootstrap = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic("pipelined", 1, 1)])
    tp = TopicPartition("pipelined", 0)
    async with Producer(
        bootstrap_servers=bootstrap,
        max_in_flight_requests_per_connection=1,
        batch_size=1_000,
        linger_ms=0,
    ) as producer:
        futures = [
            await producer.send("pipelined", b"%04d" % i + b"x" * 96, partition=0)
            for i in range(200)
        ]
        batches = list(dict.fromkeys(f.batch for f in futures))
        assert len(batches) > 10
        in_flight_when_woken = []
        for batch in batches[:-1]:
            await batch.done
            in_flight_when_woken.append(producer._sender._tp_in_flight[tp])
        await producer.flush()
        offsets = [(await f).offset for f in futures]
    assert offsets == list(range(200))
    # Each time a delivery wakes the caller, the batch after it is already on its way.
    assert in_flight_when_woken == [1] * len(in_flight_when_woken)
