"""Tidal's broker: a Kafka-compatible server over the storage engine.

Run it in-process (tests, applications that name no bootstrap servers)::

    from tidal.log.broker import EmbeddedBroker

    async with EmbeddedBroker(data_dir="/tmp/tidal") as broker:
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers})

or from the command line: ``tidal broker start --data-dir DIR``.
"""

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._embedded import EmbeddedBroker, EmbeddedBrokerThread

__all__ = ["Broker", "BrokerConfig", "EmbeddedBroker", "EmbeddedBrokerThread"]
