"""What a worker instantiates for a connector: the connector, converters, transforms.

The worker's plugins are :mod:`tidal.connectors.plugins`' registry plus the built-in file
connectors under Kafka's names (``org.apache.kafka.connect.file.FileStreamSourceConnector``
and the aliases ``FileStreamSource``/``FileStreamSourceConnector``, same for the sink).

:func:`validate_connector_config` answers ``PUT /connector-plugins/{plugin}/config/validate``
(Kafka's herder validation from :mod:`tidal.connectors.validation`, plus the worker's
converter check); :func:`invalid_config_message` is Kafka's text for a refused create.

Converters follow Kafka's precedence: a connector's ``key.converter`` (with its
``key.converter.*`` settings) wins over the worker's; header converters likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidal.connectors.api import (
    Connector,
    ConnectorTransactionBoundaries,
    ExactlyOnceSupport,
    SinkConnector,
    SourceConnector,
)
from tidal.connectors.builtin import FileStreamSinkConnector, FileStreamSourceConnector
from tidal.connectors.config import ConfigError, ConfigInfos
from tidal.connectors.converters import Converter, HeaderConverter
from tidal.connectors.plugins import Plugins, PluginType
from tidal.connectors.transforms import TransformationChain
from tidal.connectors.validation import validate_connector_config as validate_config

from ._status import BadRequestError
from ._worker_config import WorkerConfig

__all__ = [
    "ConnectorConverters",
    "WorkerPlugins",
    "connector_type",
    "invalid_config_message",
    "validate_connector_config",
]

_BUILTIN_CONNECTORS = {
    "org.apache.kafka.connect.file.FileStreamSourceConnector": FileStreamSourceConnector,
    "org.apache.kafka.connect.file.FileStreamSinkConnector": FileStreamSinkConnector,
}


def connector_type(connector: Connector | type[Connector]) -> str:
    """``source`` or ``sink`` (Kafka's ``ConnectorType``), ``unknown`` otherwise."""
    cls = connector if isinstance(connector, type) else type(connector)
    if issubclass(cls, SourceConnector):
        return "source"
    if issubclass(cls, SinkConnector):
        return "sink"
    return "unknown"


@dataclass(slots=True)
class ConnectorConverters:
    """The key, value and header converters of one connector, configured."""

    key: Converter
    value: Converter
    header: HeaderConverter
    key_class: str
    value_class: str
    header_class: str

    def close(self) -> None:
        """Close all three."""
        self.key.close()
        self.value.close()
        self.header.close()


class WorkerPlugins:
    """Plugin lookup for one worker."""

    def __init__(self, plugins: Plugins | None = None) -> None:
        self.registry = plugins if plugins is not None else Plugins()
        for name, cls in _BUILTIN_CONNECTORS.items():
            try:
                self.registry.plugin(name, PluginType.SOURCE, PluginType.SINK)
            except LookupError:
                self.registry.add(cls, name=name)

    def connector_class(self, name: str) -> type[Connector]:
        """A connector class by class name or alias; LookupError with Kafka's message."""
        desc = self.registry.plugin(name, PluginType.SOURCE, PluginType.SINK)
        cls: type[Connector] = desc.cls
        return cls

    def connector_class_name(self, name: str) -> str:
        """The name a connector is listed under (Kafka's full class name for built-ins)."""
        return self.registry.plugin(name, PluginType.SOURCE, PluginType.SINK).name

    def new_connector(self, name: str) -> Connector:
        """A fresh connector instance."""
        return self.connector_class(name)()

    def converters(self, worker: WorkerConfig, props: Mapping[str, str]) -> ConnectorConverters:
        """The connector's converters, configured; ConfigError naming the bad property."""
        built: dict[str, Any] = {}
        names: dict[str, str] = {}
        for role in ("key", "value", "header"):
            own = props.get(f"{role}.converter", "").strip()
            if own:
                prefix = f"{role}.converter."
                name = own
                settings = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
                where = f"{role}.converter"
            else:
                name, settings = worker.converter_settings(role)
                where = f"{role}.converter (worker)"
            kind = PluginType.HEADER_CONVERTER if role == "header" else PluginType.CONVERTER
            try:
                desc = self.registry.plugin(name, kind)
            except LookupError as exc:
                raise ConfigError(where.split(" ")[0], name, str(exc)) from None
            instance = desc.cls()
            try:
                if role == "header":
                    instance.configure(settings)
                else:
                    instance.configure(settings, role == "key")
            except ConfigError as exc:
                raise exc.with_prefix(f"{role}.converter.") from None
            built[role] = instance
            names[role] = desc.name
        return ConnectorConverters(
            built["key"], built["value"], built["header"],
            names["key"], names["value"], names["header"],
        )  # fmt: skip

    def transforms(self, props: Mapping[str, str]) -> TransformationChain[Any]:
        """The connector's transformation chain."""
        return TransformationChain.from_props(
            props,
            resolve_transform=lambda n: self.registry.plugin(n, PluginType.TRANSFORMATION).cls,
            resolve_predicate=lambda n: self.registry.plugin(n, PluginType.PREDICATE).cls,
        )


def validate_connector_config(
    plugins: WorkerPlugins, worker: WorkerConfig, props: Mapping[str, str]
) -> ConfigInfos:
    """Every problem with ``props``; BadRequestError when it names no connector class.

    The answer is :func:`tidal.connectors.validation.validate_connector_config`'s (Kafka's
    herder validation), plus the worker's own check that the converters exist and accept
    their settings; ``name`` is the connector's full class name, as in Kafka.
    """
    try:
        infos = validate_config(props, plugins.registry)
        listed = plugins.connector_class_name(props["connector.class"])
    except (ConfigError, LookupError) as exc:
        raise BadRequestError(str(exc)) from None
    infos["name"] = listed
    connector = plugins.new_connector(props["connector.class"])
    if isinstance(connector, SourceConnector):
        for name, message in _exactly_once_errors(connector, worker, props):
            _add_error(infos, name, message)
    try:
        plugins.converters(worker, props).close()
    except ConfigError as exc:
        name = (exc.config_name or "value.converter").split(".converter")[0] + ".converter"
        _add_error(infos, name, str(exc))
    return infos


def _exactly_once_errors(
    connector: SourceConnector, worker: WorkerConfig, props: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Kafka's preflight checks of ``exactly.once.support`` and ``transaction.boundary``."""
    support = props.get("exactly.once.support", "requested").strip().lower()
    boundary = props.get("transaction.boundary", "poll").strip().lower()
    errors: list[tuple[str, str]] = []
    if not worker.exactly_once_source:
        if support == "required":
            message = "This worker does not have exactly-once source support enabled."
            errors.append(("exactly.once.support", message))
        return errors
    if support == "required":
        answer = connector.exactly_once_support(props)
        if answer is None:
            errors.append(("exactly.once.support", (
                "The connector does not implement the API required for preflight validation of "
                "exactly-once source support. Please consult the documentation for the "
                "connector to determine whether it supports exactly-once semantics, and then "
                'consider reconfiguring the connector to use the value "requested" for this '
                "property (which will disable this preflight check and allow the connector to "
                "be created)."
            )))  # fmt: skip
        elif answer is not ExactlyOnceSupport.SUPPORTED:
            errors.append(("exactly.once.support", "The connector does not support exactly-once "
                           "semantics with the provided configuration."))  # fmt: skip
    supported = ConnectorTransactionBoundaries.SUPPORTED
    if boundary == "connector" and connector.can_define_transaction_boundaries(props) != supported:
        errors.append(("transaction.boundary", (
            "The connector does not support connector-defined transaction boundaries with the "
            "given configuration. Please reconfigure it to use a different transaction "
            "boundary definition."
        )))  # fmt: skip
    return errors


def _add_error(infos: ConfigInfos, name: str, message: str) -> None:
    for entry in infos["configs"]:
        value = entry["value"]
        if value is not None and value["name"] == name:
            value["errors"].append(message)
            break
    else:
        infos["configs"].insert(0, {"definition": None, "value": {
            "name": name, "value": None, "recommended_values": [], "errors": [message],
            "visible": True}})  # fmt: skip
    infos["error_count"] += 1


def invalid_config_message(infos: ConfigInfos) -> str:
    """Kafka's 400 message for a create or update with errors."""
    messages: list[str] = []
    for entry in infos["configs"]:
        value: Any = entry["value"]
        if value is not None:
            messages.extend(value["errors"])
    return (
        f"Connector configuration is invalid and contains the following "
        f"{infos['error_count']} error(s):\n"
        + "".join(m + "\n" for m in messages)
        + "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )
