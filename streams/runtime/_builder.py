"""The DSL side of :class:`App`: the topology builder and what it delegates.

``app.builder`` is a :class:`tidal.streams.dsl.TopologyBuilder`, made on first
use (so an App that runs a compiled topology never imports the DSL);
``app.stream``, ``app.table`` and ``app.describe`` are the builder's. The
topology is compiled when the app starts, so the builder may grow until then.
"""

from __future__ import annotations

from typing import Any

from tidal.streams._contract import CompiledTopologyProtocol, StreamsError
from tidal.streams.runtime._config import ConfigurationError

__all__ = ["BuilderFacade"]


class BuilderFacade:
    """Holds the builder, or a topology compiled elsewhere, for an App."""

    def __init__(
        self,
        application_id: str,
        default_key_serde: Any,
        default_value_serde: Any,
        topology: CompiledTopologyProtocol | None,
    ) -> None:
        self._application_id = application_id
        self.default_key_serde = default_key_serde
        self.default_value_serde = default_value_serde
        self._given = topology
        self._builder: Any = None

    @property
    def builder(self) -> Any:
        """The :class:`~tidal.streams.dsl.TopologyBuilder` of this app."""
        if self._given is not None:
            raise StreamsError("this App runs a topology given to it; it has no builder")
        if self._builder is None:
            from tidal.streams.dsl import TopologyBuilder  # noqa: PLC0415

            kwargs: dict[str, Any] = {}
            if self.default_key_serde is not None:
                kwargs["default_key_serde"] = self.default_key_serde
            if self.default_value_serde is not None:
                kwargs["default_value_serde"] = self.default_value_serde
            self._builder = TopologyBuilder(self._application_id, **kwargs)
        return self._builder

    def rename(self, application_id: str) -> None:
        """Use another application id (before the app starts)."""
        if self._given is not None and self._given.application_id != application_id:
            raise ConfigurationError(
                f"setting 'application_id': this App runs a topology compiled for "
                f"'{self._given.application_id}'"
            )
        self._application_id = application_id
        if self._builder is not None:
            self._builder.application_id = application_id

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        """``app.builder.stream(...)``: a stream of one or more topics."""
        return self.builder.stream(*args, **kwargs)

    def table(self, *args: Any, **kwargs: Any) -> Any:
        """``app.builder.table(...)``: a table over a topic."""
        return self.builder.table(*args, **kwargs)

    def describe(self) -> str:
        """The topology as Kafka Streams' ``Topology.describe()`` prints it."""
        return self.topology().describe()

    def topology(self) -> CompiledTopologyProtocol:
        """The compiled topology: the builder's as it stands now, or the one given."""
        if self._given is not None:
            return self._given
        compiled: CompiledTopologyProtocol = self.builder.compile()
        return compiled

    def store_serdes(
        self, topology: CompiledTopologyProtocol, name: str, key_serde: Any, value_serde: Any
    ) -> tuple[Any, Any]:
        """Serdes to read store ``name`` with: given, else the store's, else defaults."""
        from tidal.streams.serdes import resolve_serde  # noqa: PLC0415

        spec_serdes = getattr(topology, "store_serdes", None)
        known: tuple[Any, Any] = (None, None)
        if callable(spec_serdes):
            known = spec_serdes(name)
        ks = key_serde if key_serde is not None else known[0]
        vs = value_serde if value_serde is not None else known[1]
        ks = ks if ks is not None else self.default_key_serde
        vs = vs if vs is not None else self.default_value_serde
        return resolve_serde(ks or "msgpack"), resolve_serde(vs or "msgpack")
