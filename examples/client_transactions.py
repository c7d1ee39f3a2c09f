"""Exactly-once consume-transform-produce with Tidal's own client.

Run it with ``python examples/client_transactions.py [DATA_DIR]``. It starts
a broker in-process, writes ten orders, then doubles each amount into
``doubled`` with a transactional producer: the output records and the
consumed offsets commit together, one transaction per five orders. The
second transaction fails half-way and is aborted, the consumer goes back to
the committed offset and does the work again. Finally a second producer
with the same ``transactional_id`` starts, and the first one, now a zombie,
is fenced. A ``read_committed`` reader sees every doubled order exactly
once; a ``read_uncommitted`` reader also sees the aborted attempt.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time

from tidal.log.broker import EmbeddedBroker
from tidal.log.client import TopicPartition
from tidal.log.client.consumer import Consumer
from tidal.log.client.producer import Producer, ProducerFencedError

ORDERS = TopicPartition("orders", 0)
FAST = {"fetch_max_wait_ms": 100}


async def read(servers: str, isolation: str) -> list[str]:
    """Every value of ``doubled`` a consumer with ``isolation`` reads."""
    values: list[str] = []
    async with Consumer(bootstrap_servers=servers, isolation_level=isolation, **FAST) as c:
        c.assign([TopicPartition("doubled", 0)])
        c.seek_to_beginning()
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 1.0:
            for records in (await c.getmany(timeout_ms=200)).values():
                values += [r.value.decode() for r in records]
                quiet_since = time.monotonic()
    return values


async def process(consumer: Consumer, producer: Producer, fail_after: int | None) -> None:
    """One transaction: up to five orders doubled, and their offsets."""
    batch = await consumer.getmany(timeout_ms=5000, max_records=5)
    records = batch.get(ORDERS, [])
    producer.begin_transaction()
    try:
        for i, record in enumerate(records):
            if fail_after is not None and i == fail_after:
                await producer.flush()  # what was sent is in the log: the abort hides it
                raise RuntimeError("the transform failed half-way")
            order, amount = record.value.decode().split("=")
            await producer.send("doubled", f"{order}={int(amount) * 2}", partition=0)
        offsets = {ORDERS: records[-1].offset + 1}
        await producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
        await producer.commit_transaction()
        print(f"committed orders {records[0].offset}-{records[-1].offset}")
    except RuntimeError as e:
        await producer.abort_transaction()
        committed = (await consumer.committed([ORDERS]))[ORDERS]
        start = committed.offset if committed is not None else 0
        consumer.seek(ORDERS, start)  # do the work again from the committed offset
        print(f"aborted ({e}); back to offset {start}")


async def main(data_dir: str) -> None:
    config = {"num.partitions": 1}
    async with EmbeddedBroker(data_dir=data_dir, config=config) as broker:
        servers = broker.bootstrap_servers
        async with Producer(bootstrap_servers=servers) as plain:
            for i in range(10):
                await plain.send("orders", f"order-{i}={i * 10}")
        async with (
            Consumer(
                bootstrap_servers=servers,
                group_id="doubler",
                enable_auto_commit=False,
                isolation_level="read_committed",
                **FAST,
            ) as consumer,
            Producer(bootstrap_servers=servers, transactional_id="doubler-0") as producer,
        ):
            consumer.assign([ORDERS])
            consumer.seek(ORDERS, 0)
            await producer.init_transactions()
            await process(consumer, producer, fail_after=None)
            await process(consumer, producer, fail_after=3)
            await process(consumer, producer, fail_after=None)

            # A second instance with the same transactional_id takes over.
            async with Producer(bootstrap_servers=servers, transactional_id="doubler-0") as new:
                await new.init_transactions()
                producer.begin_transaction()
                await producer.send("doubled", "from a zombie", partition=0)
                try:
                    await producer.commit_transaction()
                except ProducerFencedError:
                    print("the old producer was fenced")
            committed = (await consumer.committed([ORDERS]))[ORDERS]
            print(f"committed offset: {committed.offset if committed else None}")

        committed_values = await read(servers, "read_committed")
        print(f"read_committed: {len(committed_values)} records: {', '.join(committed_values)}")
        everything = await read(servers, "read_uncommitted")
        print(f"read_uncommitted: {len(everything)} records")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(main(folder))
