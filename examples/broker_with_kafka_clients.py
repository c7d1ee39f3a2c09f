"""Tidal's broker with a stock Kafka client (confluent-kafka / librdkafka).

Run it with ``python examples/broker_with_kafka_clients.py`` after
``pip install confluent-kafka``. It starts a broker in-process on a free
port, creates a topic with the AdminClient, produces keyed records with
headers, and reads them back with a consumer group that commits its offsets.
"""

from __future__ import annotations

import sys
import tempfile

try:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    sys.exit("this example needs a Kafka client: pip install confluent-kafka")

from tidal.log.broker import EmbeddedBroker

TOPIC = "payments"


def main() -> None:
    data_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="tidal-broker-")
    with EmbeddedBroker.sync(data_dir=data_dir) as broker:
        servers = broker.bootstrap_servers
        print(f"Tidal broker on {servers}, data in {data_dir}")

        admin = AdminClient({"bootstrap.servers": servers})
        admin.create_topics([NewTopic(TOPIC, num_partitions=3)])[TOPIC].result(10)
        print(f"created topic {TOPIC!r} with 3 partitions")

        producer = Producer({"bootstrap.servers": servers, "enable.idempotence": True})
        for n in range(9):
            producer.produce(
                TOPIC, key=f"account-{n % 3}", value=f"payment {n}",
                headers=[("currency", b"EUR")],
            )  # fmt: skip
        producer.flush(10)
        print("produced 9 payments (idempotent, keyed by account)")

        consumer = Consumer(
            {
                "bootstrap.servers": servers,
                "group.id": "ledger",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([TOPIC])
        seen = 0
        while seen < 9:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            seen += 1
            key = message.key().decode()
            print(f"  partition {message.partition()} offset {message.offset()}: "
                  f"{key} -> {message.value().decode()}")  # fmt: skip
            consumer.commit(message, asynchronous=False)
        consumer.close()
        print("consumed all 9 with group 'ledger' and committed its offsets")
        # librdkafka clients close on release; let them go before the broker stops.
        del producer, admin


if __name__ == "__main__":
    main()
