"""The Kafka Connect REST API of a worker, served with FastAPI and uvicorn.

:class:`ConnectWorker` is a worker with its REST API; :func:`create_app` builds the
FastAPI application over any :class:`~tidal.connectors.runtime.Herder`.
"""

from ._app import create_app
from ._worker import ConnectWorker, bind_listener

__all__ = ["ConnectWorker", "bind_listener", "create_app"]
