"""The streams runtime: an application instance as a consumer-group member.

:class:`App` holds the settings and the topology (built with ``app.stream``
and friends, or compiled elsewhere), starts the embedded broker when no
cluster is named, and runs the tasks of its share of the group. The parts:

* ``_config``: :class:`AppConfig`, checked settings, and the builder side of App;
* ``_topics``: source-topic checks, internal-topic creation;
* ``_assignor``: :class:`StreamsAssignor`, whole tasks to members, sticky;
* ``_tasks``: tasks, their context and stores;
* ``_restore``: changelog restoration with progress;
* ``_processing``: records through tasks, outputs to the producer, bad input;
* ``_runtime``: the loop, the commit order, rebalance callbacks;
* ``_eos``: exactly-once, the transaction of each commit interval;
* ``_metrics``: Prometheus metrics;
* ``_app``: the :class:`App` facade.
"""

from tidal.streams.runtime._app import App
from tidal.streams.runtime._assignor import StreamsAssignor
from tidal.streams.runtime._config import (
    AT_LEAST_ONCE,
    DEFAULT_STATE_DIR,
    EXACTLY_ONCE_V2,
    AppConfig,
    ConfigurationError,
)
from tidal.streams.runtime._eos import InstanceFencedError
from tidal.streams.runtime._metrics import StreamsMetrics
from tidal.streams.runtime._processing import DLQ_HEADERS
from tidal.streams.runtime._tasks import RuntimeTaskContext, StoreOpener

__all__ = [
    "AT_LEAST_ONCE",
    "DEFAULT_STATE_DIR",
    "DLQ_HEADERS",
    "EXACTLY_ONCE_V2",
    "App",
    "AppConfig",
    "ConfigurationError",
    "InstanceFencedError",
    "RuntimeTaskContext",
    "StoreOpener",
    "StreamsAssignor",
    "StreamsMetrics",
]
