"""Connectors: the plugin a user configures, which splits its work into task configs.

A connector is light: it reads its configuration, maybe looks at the external system (how
many tables, files, partitions) and returns one config dict per task. The tasks move the
data. Methods may be ``def`` or ``async def`` (see :mod:`tidal.connectors.api._async`).

A minimal source connector::

    class CounterConnector(SourceConnector):
        def version(self) -> str:
            return "1.0"

        def start(self, props):
            self.props = dict(props)

        def task_class(self):
            return CounterTask

        def task_configs(self, max_tasks):
            return [dict(self.props)]

        def stop(self):
            pass

        def config(self):
            return ConfigDef().define("topic", ConfigType.STRING, importance=Importance.HIGH,
                                      documentation="Topic to write to.")
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ._async import MaybeAwaitable

if TYPE_CHECKING:
    from tidal.connectors.config import ConfigDef, ConfigValue

    from ._task import OffsetStorageReader, SinkTask, SourceTask, Task, TopicPartition

__all__ = [
    "Connector",
    "ConnectorContext",
    "ConnectorTransactionBoundaries",
    "ExactlyOnceSupport",
    "SinkConnector",
    "SinkConnectorContext",
    "SourceConnector",
    "SourceConnectorContext",
]


class ConnectorContext(Protocol):
    """What the runtime offers a running connector."""

    def request_task_reconfiguration(self) -> None:
        """Ask the runtime to call ``task_configs`` again (e.g. a new table appeared)."""

    def raise_error(self, error: BaseException) -> None:
        """Fail the connector from a background thread or task of its own."""


class SourceConnectorContext(ConnectorContext, Protocol):
    """The context of a source connector: adds read access to committed source offsets."""

    @property
    def offset_storage_reader(self) -> OffsetStorageReader:
        """Committed source offsets of this connector."""


class SinkConnectorContext(ConnectorContext, Protocol):
    """The context of a sink connector."""


class ExactlyOnceSupport(enum.Enum):
    """Whether a source connector can deliver exactly once with a given config (KIP-618)."""

    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class ConnectorTransactionBoundaries(enum.Enum):
    """Whether a source connector can define its own transaction boundaries (KIP-618)."""

    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class Connector(ABC):
    """Base of every connector (Kafka's ``Connector``).

    Lifecycle: ``initialize(context)`` → ``start(props)`` → ``task_configs(max_tasks)`` (again
    whenever reconfiguration is requested) → ``stop()``. ``config()`` and ``validate()`` may
    be called on an instance that was never started.
    """

    #: Set to False when the sync methods never block, so the runtime calls them inline.
    blocking: bool = True

    def __init__(self) -> None:
        self.context: Any = None

    def initialize(self, context: ConnectorContext) -> None:
        """Give the connector its context; called once, before ``start``."""
        self.context = context

    @abstractmethod
    def version(self) -> str:
        """The connector's version, shown by ``GET /connector-plugins``."""

    @abstractmethod
    def start(self, props: Mapping[str, str]) -> MaybeAwaitable[None]:
        """Start with the user's configuration (all values are strings)."""

    @abstractmethod
    def task_class(self) -> type[Task]:
        """The task class that does the work."""

    @abstractmethod
    def task_configs(self, max_tasks: int) -> MaybeAwaitable[list[dict[str, str]]]:
        """At most ``max_tasks`` task configurations; one task starts per entry."""

    @abstractmethod
    def stop(self) -> MaybeAwaitable[None]:
        """Release what ``start`` acquired."""

    @abstractmethod
    def config(self) -> ConfigDef:
        """The connector-specific configuration definition."""

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        """Check a configuration; the default validates it against :meth:`config`.

        Override to add cross-field checks: append messages to ``errors`` of the returned
        values instead of raising.
        """
        return self.config().validate_values(props)


class SourceConnector(Connector):
    """A connector that reads from an external system and writes to Kafka topics."""

    @abstractmethod
    def task_class(self) -> type[SourceTask]:
        """The source task class."""

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        """Whether this config supports exactly-once delivery; None means unknown."""
        return None

    def can_define_transaction_boundaries(
        self, props: Mapping[str, str]
    ) -> ConnectorTransactionBoundaries:
        """Whether tasks may define transaction boundaries (``transaction.boundary=connector``)."""
        return ConnectorTransactionBoundaries.UNSUPPORTED

    def alter_offsets(
        self,
        connector_config: Mapping[str, str],
        offsets: Mapping[Any, Mapping[str, Any] | None],
    ) -> MaybeAwaitable[bool]:
        """Check (and apply externally) an offsets change made through the REST API.

        ``offsets`` maps each source partition (a frozen dict) to its new offset or None
        (reset). Return True when the connector applied the change itself; raise to reject
        it. The default returns False: the runtime updates its stored offsets alone.
        """
        return False


class SinkConnector(Connector):
    """A connector that reads Kafka topics and writes to an external system."""

    #: The config key with the topics to consume (Kafka's ``SinkConnector.TOPICS_CONFIG``).
    TOPICS_CONFIG = "topics"

    @abstractmethod
    def task_class(self) -> type[SinkTask]:
        """The sink task class."""

    def alter_offsets(
        self,
        connector_config: Mapping[str, str],
        offsets: Mapping[TopicPartition, int | None],
    ) -> MaybeAwaitable[bool]:
        """Check (and apply externally) a consumer offsets change made through the REST API.

        Sinks that keep offsets in the destination override this to update them there.
        """
        return False
