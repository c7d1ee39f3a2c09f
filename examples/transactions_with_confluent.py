"""Kafka transactions against Tidal's broker, with confluent-kafka (librdkafka).

Run it with ``python examples/transactions_with_confluent.py`` after
``pip install confluent-kafka``. It starts a broker in-process, commits one
transaction and aborts another with a transactional producer, then reads the
topic twice: ``read_committed`` sees only the committed records,
``read_uncommitted`` sees both (control records are never shown).
"""

from __future__ import annotations

import sys
import tempfile
import time

try:
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
except ImportError:
    sys.exit("this example needs a Kafka client: pip install confluent-kafka")

from tidal.log.broker import EmbeddedBroker

TOPIC = "orders"
PARTITIONS = 2


def read(servers: str, isolation: str) -> list[str]:
    """Every value of ``TOPIC`` a consumer with ``isolation`` sees."""
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"reader-{isolation}",
            "isolation.level": isolation,
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    values, at_end = [], set()
    deadline = time.monotonic() + 30
    while len(at_end) < PARTITIONS and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
            continue
        values.append(message.value().decode())
    consumer.close()
    return sorted(values)


def main() -> None:
    data_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="tidal-txn-")
    with EmbeddedBroker.sync(data_dir=data_dir, config={"num.partitions": PARTITIONS}) as broker:
        servers = broker.bootstrap_servers
        print(f"Tidal broker on {servers}, data in {data_dir}")

        producer = Producer({"bootstrap.servers": servers, "transactional.id": "order-writer"})
        producer.init_transactions(30)

        producer.begin_transaction()
        for n in range(3):
            producer.produce(TOPIC, key=f"order-{n}", value=f"order {n} placed")
        producer.commit_transaction(30)
        print("committed a transaction of 3 orders")

        producer.begin_transaction()
        for n in range(3, 5):
            producer.produce(TOPIC, key=f"order-{n}", value=f"order {n} placed")
        producer.flush(30)
        producer.abort_transaction(30)
        print("aborted a transaction of 2 orders")

        for isolation in ("read_committed", "read_uncommitted"):
            values = read(servers, isolation)
            print(f"{isolation}: {len(values)} records: {', '.join(values)}")


if __name__ == "__main__":
    main()
