"""Tidal: stream processing for Python on its own Kafka-compatible log.

The package is assembled from the repository's top-level folders:
``tidal.log`` (records, storage, protocol, broker, client), ``tidal.streams``
and ``tidal.connectors``.
"""

from tidal._version import __version__

__all__ = ["__version__"]
