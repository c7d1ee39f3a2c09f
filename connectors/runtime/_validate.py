"""Validating a connector configuration on a worker, the way Kafka's ``AbstractHerder`` does.

The answer is Kafka Connect's ``ConfigInfos`` (``PUT /connector-plugins/{plugin}/config/
validate``), from :mod:`tidal.connectors.validation`, with the worker's converter check
added. Creating a connector with errors fails with :func:`invalid_config_message`, Kafka's
text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidal.connectors.config import ConfigError, ConfigInfos
from tidal.connectors.validation import validate_connector_config as validate_config

from ._exceptions import BadRequestError
from ._plugins import WorkerPlugins
from ._worker_config import WorkerConfig

__all__ = ["invalid_config_message", "validate_connector_config"]


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
    try:
        plugins.converters(worker, props).close()
    except ConfigError as exc:
        name = (exc.config_name or "value.converter").split(".converter")[0] + ".converter"
        _add_error(infos, name, str(exc))
    return infos


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
