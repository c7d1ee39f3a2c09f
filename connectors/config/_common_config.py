"""The configs every connector accepts (Kafka's ``ConnectorConfig.configDef()``).

Names, types, defaults, validators, groups, order, width, display names and documentation
text are Kafka Connect 4.1's, so that a validate answer reads the same; the golden test
compares them with Kafka's own definitions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._configdef import ConfigDef
from ._types import NO_DEFAULT, ConfigType, Importance, Width
from ._validators import (
    CompositeValidator,
    LambdaValidator,
    Range,
    ValidString,
)

__all__ = ["check_regex", "common_connector_config", "unique_aliases"]


def _check_name(name: str, value: Any) -> str | None:
    if value is None:
        return None  # a missing name is reported as a missing required config
    if not value:
        return "String may not be empty"
    controls = [ord(c) for c in value if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    if controls:
        listed = ", ".join(map(str, controls))
        return (
            "String may not contain control sequences but had the following ASCII chars: " + listed
        )
    return None


def check_regex(name: str, value: Any) -> str | None:
    if value:
        try:
            re.compile(value)
        except re.error as exc:
            return f"Invalid regex: {exc}"
    return None


_NAME_VALIDATOR = LambdaValidator(_check_name, "non-empty string without ISO control characters")


def unique_aliases(what: str) -> CompositeValidator:
    def check(name: str, value: Any) -> str | None:
        if value is None:
            return "Value must be non-null"
        if len(set(value)) != len(value):
            return "Duplicate alias provided."
        return None

    return CompositeValidator.of(
        LambdaValidator(check, "non-null string"),
        LambdaValidator(lambda _n, _v: None, "unique " + what),
    )


class _ShownWhenSet:
    """A plugin version config is only visible once its plugin class is set (Kafka's
    converter version recommender)."""

    def __init__(self, class_config: str) -> None:
        self.class_config = class_config

    def valid_values(self, name: str, parsed: Mapping[str, Any]) -> list[Any]:
        return []

    def visible(self, name: str, parsed: Mapping[str, Any]) -> bool:
        return parsed.get(self.class_config) is not None


def common_connector_config() -> ConfigDef:
    """The configs of every connector (Kafka's ``ConnectorConfig.configDef()``)."""
    common = ConfigDef()
    common.define(
        "name",
        ConfigType.STRING,
        NO_DEFAULT,
        _NAME_VALIDATOR,
        Importance.HIGH,
        ("Globally unique name to use for this connector."),
        group="Common",
        order=1,
        width=Width.MEDIUM,
        display_name="Connector name",
    )
    common.define(
        "connector.class",
        ConfigType.STRING,
        NO_DEFAULT,
        None,
        Importance.HIGH,
        (
            "Name or alias of the class for this connector. Must be a subclass of "
            "org.apache.kafka.connect.connector.Connector. If the connector is "
            "org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify "
            'this full name,  or use "FileStreamSink" or "FileStreamSinkConnector" to make '
            "the configuration a bit shorter"
        ),
        group="Common",
        order=2,
        width=Width.LONG,
        display_name="Connector class",
    )
    common.define(
        "connector.plugin.version",
        ConfigType.STRING,
        None,
        None,
        Importance.MEDIUM,
        ("Version of the connector."),
        group="Common",
        order=3,
        width=Width.MEDIUM,
        display_name="Connector version",
    )
    common.define(
        "tasks.max",
        ConfigType.INT,
        1,
        Range.at_least(1),
        Importance.HIGH,
        ("Maximum number of tasks to use for this connector."),
        group="Common",
        order=4,
        width=Width.SHORT,
        display_name="Tasks max",
    )
    common.define(
        "tasks.max.enforce",
        ConfigType.BOOLEAN,
        True,
        None,
        Importance.LOW,
        (
            "(Deprecated) Whether to enforce that the tasks.max property is respected by the "
            "connector. By default, connectors that generate too many tasks will fail, and "
            "existing sets of tasks that exceed the tasks.max property will also be failed. "
            "If this property is set to false, then connectors will be allowed to generate "
            "more than the maximum number of tasks, and existing sets of tasks that exceed "
            "the tasks.max property will be allowed to run. This property is deprecated and "
            "will be removed in an upcoming major release."
        ),
        group="Common",
        order=5,
        width=Width.SHORT,
        display_name="Enforce tasks max",
    )
    common.define(
        "key.converter",
        ConfigType.CLASS,
        None,
        None,
        Importance.LOW,
        (
            "Converter class used to convert between Kafka Connect format and the serialized "
            "form that is written to Kafka. This controls the format of the keys in messages "
            "written to or read from Kafka, and since this is independent of connectors it "
            "allows any connector to work with any serialization format. Examples of common "
            "formats include JSON and Avro."
        ),
        group="Common",
        order=6,
        width=Width.SHORT,
        display_name="Key converter class",
    )
    common.define(
        "key.converter.plugin.version",
        ConfigType.STRING,
        None,
        None,
        Importance.LOW,
        ("Version of the key converter."),
        group="Common",
        order=7,
        width=Width.SHORT,
        display_name="Key converter version",
        recommender=_ShownWhenSet("key.converter"),
    )
    common.define(
        "value.converter",
        ConfigType.CLASS,
        None,
        None,
        Importance.LOW,
        (
            "Converter class used to convert between Kafka Connect format and the serialized "
            "form that is written to Kafka. This controls the format of the values in "
            "messages written to or read from Kafka, and since this is independent of "
            "connectors it allows any connector to work with any serialization format. "
            "Examples of common formats include JSON and Avro."
        ),
        group="Common",
        order=8,
        width=Width.SHORT,
        display_name="Value converter class",
    )
    common.define(
        "value.converter.plugin.version",
        ConfigType.STRING,
        None,
        None,
        Importance.LOW,
        ("Version of the value converter."),
        group="Common",
        order=9,
        width=Width.SHORT,
        display_name="Value converter version",
        recommender=_ShownWhenSet("value.converter"),
    )
    common.define(
        "header.converter",
        ConfigType.CLASS,
        None,
        None,
        Importance.LOW,
        (
            "HeaderConverter class used to convert between Kafka Connect format and the "
            "serialized form that is written to Kafka. This controls the format of the "
            "header values in messages written to or read from Kafka, and since this is "
            "independent of connectors it allows any connector to work with any "
            "serialization format. Examples of common formats include JSON and Avro. By "
            "default, the SimpleHeaderConverter is used to serialize header values to "
            "strings and deserialize them by inferring the schemas."
        ),
        group="Common",
        order=10,
        width=Width.SHORT,
        display_name="Header converter class",
    )
    common.define(
        "header.converter.plugin.version",
        ConfigType.STRING,
        None,
        None,
        Importance.LOW,
        ("Version of the header converter."),
        group="Common",
        order=11,
        width=Width.SHORT,
        display_name="Header converter version",
        recommender=_ShownWhenSet("header.converter"),
    )
    common.define(
        "transforms",
        ConfigType.LIST,
        "",
        unique_aliases("transformation aliases"),
        Importance.LOW,
        ("Aliases for the transformations to be applied to records."),
        group="Transforms",
        order=12,
        width=Width.LONG,
        display_name="Transforms",
    )
    common.define(
        "predicates",
        ConfigType.LIST,
        "",
        unique_aliases("predicate aliases"),
        Importance.LOW,
        ("Aliases for the predicates used by transformations."),
        group="Predicates",
        order=13,
        width=Width.LONG,
        display_name="Predicates",
    )
    common.define(
        "config.action.reload",
        ConfigType.STRING,
        "restart",
        ValidString.in_("none", "restart"),
        Importance.LOW,
        (
            "The action that Connect should take on the connector when changes in external "
            "configuration providers result in a change in the connector's configuration "
            "properties. A value of 'none' indicates that Connect will do nothing. A value "
            "of 'restart' indicates that Connect should restart/reload the connector with "
            "the updated configuration properties.The restart may actually be scheduled in "
            "the future if the external configuration provider indicates that a "
            "configuration value will expire in the future."
        ),
        group="Common",
        order=14,
        width=Width.MEDIUM,
        display_name="Reload Action",
    )
    common.define(
        "errors.retry.timeout",
        ConfigType.LONG,
        0,
        None,
        Importance.MEDIUM,
        (
            "The maximum duration in milliseconds that a failed operation will be "
            "reattempted. The default is 0, which means no retries will be attempted. Use -1 "
            "for infinite retries."
        ),
        group="Error Handling",
        order=1,
        width=Width.MEDIUM,
        display_name="Retry Timeout for Errors",
    )
    common.define(
        "errors.retry.delay.max.ms",
        ConfigType.LONG,
        60000,
        None,
        Importance.MEDIUM,
        (
            "The maximum duration in milliseconds between consecutive retry attempts. Jitter "
            "will be added to the delay once this limit is reached to prevent thundering "
            "herd issues."
        ),
        group="Error Handling",
        order=2,
        width=Width.MEDIUM,
        display_name="Maximum Delay Between Retries for Errors",
    )
    common.define(
        "errors.tolerance",
        ConfigType.STRING,
        "none",
        ValidString.in_("none", "all"),
        Importance.MEDIUM,
        (
            "Behavior for tolerating errors during connector operation. 'none' is the "
            "default value and signals that any error will result in an immediate connector "
            "task failure; 'all' changes the behavior to skip over problematic records."
        ),
        group="Error Handling",
        order=3,
        width=Width.SHORT,
        display_name="Error Tolerance",
    )
    common.define(
        "errors.log.enable",
        ConfigType.BOOLEAN,
        False,
        None,
        Importance.MEDIUM,
        (
            "If true, write each error and the details of the failed operation and "
            "problematic record to the Connect application log. This is 'false' by default, "
            "so that only errors that are not tolerated are reported."
        ),
        group="Error Handling",
        order=4,
        width=Width.SHORT,
        display_name="Log Errors",
    )
    common.define(
        "errors.log.include.messages",
        ConfigType.BOOLEAN,
        False,
        None,
        Importance.MEDIUM,
        (
            "Whether to include in the log the Connect record that resulted in a failure. "
            "For sink records, the topic, partition, offset, and timestamp will be logged. "
            "For source records, the key and value (and their schemas), all headers, and the "
            "timestamp, Kafka topic, Kafka partition, source partition, and source offset "
            "will be logged. This is 'false' by default, which will prevent record keys, "
            "values, and headers from being written to log files."
        ),
        group="Error Handling",
        order=5,
        width=Width.SHORT,
        display_name="Log Error Details",
    )
    return common
