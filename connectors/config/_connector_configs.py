"""The configs every connector accepts, with Kafka Connect's names, defaults and docs.

:func:`source_connector_config` and :func:`sink_connector_config` are the definitions Kafka
Connect 4.1 puts in front of each connector's own (``ConnectorConfig``,
``SourceConnectorConfig``, ``SinkConnectorConfig``), text included, so that a validate answer
reads the same. :func:`validate_sink_topics` adds the cross-field checks on ``topics``,
``topics.regex`` and the dead letter queue topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._configdef import ConfigDef, ConfigValue
from ._types import NO_DEFAULT, ConfigError, ConfigType, Importance, Width
from ._validators import (
    CaseInsensitiveValidString,
    CompositeValidator,
    LambdaValidator,
    NonEmptyString,
    Range,
    ValidString,
)

__all__ = [
    "common_connector_config",
    "sink_connector_config",
    "source_connector_config",
    "validate_sink_topics",
]


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


def _check_regex(name: str, value: Any) -> str | None:
    if value:
        try:
            re.compile(value)
        except re.error as exc:
            return f"Invalid regex: {exc}"
    return None


def _check_not_negative(name: str, value: Any) -> str | None:
    if value is not None and value < 0:
        return "Value must be at least 0"
    return None


_NAME_VALIDATOR = LambdaValidator(_check_name, "non-empty string without ISO control characters")
_REGEX_VALIDATOR = LambdaValidator(_check_regex, "valid regex")
_NULL_OR_AT_LEAST_ZERO = LambdaValidator(_check_not_negative, "[0,...]")


def _unique(what: str) -> CompositeValidator:
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
    )
    common.define(
        "transforms",
        ConfigType.LIST,
        "",
        _unique("transformation aliases"),
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
        _unique("predicate aliases"),
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


def sink_connector_config() -> ConfigDef:
    """The configs of every sink connector (Kafka's ``SinkConnectorConfig.configDef()``)."""
    sink = common_connector_config()
    sink.define(
        "topics",
        ConfigType.LIST,
        "",
        None,
        Importance.HIGH,
        ("List of topics to consume, separated by commas"),
        group="Common",
        order=4,
        width=Width.LONG,
        display_name="Topics",
    )
    sink.define(
        "topics.regex",
        ConfigType.STRING,
        "",
        _REGEX_VALIDATOR,
        Importance.HIGH,
        (
            "Regular expression giving topics to consume. Under the hood, the regex is "
            "compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or "
            "topics.regex should be specified."
        ),
        group="Common",
        order=4,
        width=Width.LONG,
        display_name="Topics regex",
    )
    sink.define(
        "errors.deadletterqueue.topic.name",
        ConfigType.STRING,
        "",
        None,
        Importance.MEDIUM,
        (
            "The name of the topic to be used as the dead letter queue (DLQ) for messages "
            "that result in an error when processed by this sink connector, or its "
            "transformations or converters. The topic name is blank by default, which means "
            "that no messages are to be recorded in the DLQ."
        ),
        group="Error Handling",
        order=6,
        width=Width.MEDIUM,
        display_name="Dead Letter Queue Topic Name",
    )
    sink.define(
        "errors.deadletterqueue.topic.replication.factor",
        ConfigType.SHORT,
        3,
        None,
        Importance.MEDIUM,
        (
            "Replication factor used to create the dead letter queue topic when it doesn't "
            "already exist."
        ),
        group="Error Handling",
        order=7,
        width=Width.MEDIUM,
        display_name="Dead Letter Queue Topic Replication Factor",
    )
    sink.define(
        "errors.deadletterqueue.context.headers.enable",
        ConfigType.BOOLEAN,
        False,
        None,
        Importance.MEDIUM,
        (
            "If true, add headers containing error context to the messages written to the "
            "dead letter queue. To avoid clashing with headers from the original record, all "
            "error context header keys, all error context header keys will start with "
            "<code>__connect.errors.</code>"
        ),
        group="Error Handling",
        order=8,
        width=Width.MEDIUM,
        display_name="Enable Error Context Headers",
    )
    return sink


def source_connector_config() -> ConfigDef:
    """The configs of every source connector (``SourceConnectorConfig.configDef()``)."""
    source = common_connector_config()
    source.define(
        "topic.creation.groups",
        ConfigType.LIST,
        "",
        _unique("topic creation groups"),
        Importance.LOW,
        ("Groups of configurations for topics created by source connectors"),
        group="Topic Creation",
        order=1,
        width=Width.LONG,
        display_name="Topic Creation Groups",
    )
    source.define(
        "exactly.once.support",
        ConfigType.STRING,
        "requested",
        CaseInsensitiveValidString.in_("REQUIRED", "REQUESTED"),
        Importance.MEDIUM,
        (
            'Permitted values are requested, required. If set to "required", forces a '
            "preflight check for the connector to ensure that it can provide exactly-once "
            "semantics with the given configuration. Some connectors may be capable of "
            "providing exactly-once semantics but not signal to Connect that they support "
            "this; in that case, documentation for the connector should be consulted "
            "carefully before creating it, and the value for this property should be set to "
            '"requested". Additionally, if the value is set to "required" but the worker '
            "that performs preflight validation does not have exactly-once support enabled "
            "for source connectors, requests to create or validate the connector will fail."
        ),
        group="Exactly Once Support",
        order=2,
        width=Width.SHORT,
        display_name="Exactly once support",
    )
    source.define(
        "transaction.boundary",
        ConfigType.STRING,
        "poll",
        CaseInsensitiveValidString.in_("INTERVAL", "POLL", "CONNECTOR"),
        Importance.MEDIUM,
        (
            "Permitted values are: poll, interval, connector. If set to 'poll', a new "
            "producer transaction will be started and committed for every batch of records "
            "that each task from this connector provides to Connect. If set to 'connector', "
            "relies on connector-defined transaction boundaries; note that not all "
            "connectors are capable of defining their own transaction boundaries, and in "
            "that case, attempts to instantiate a connector with this value will fail. "
            "Finally, if set to 'interval', commits transactions only after a user-defined "
            "time interval has passed."
        ),
        group="Exactly Once Support",
        order=3,
        width=Width.SHORT,
        display_name="Transaction Boundary",
    )
    source.define(
        "transaction.boundary.interval.ms",
        ConfigType.LONG,
        None,
        _NULL_OR_AT_LEAST_ZERO,
        Importance.LOW,
        (
            "If 'transaction.boundary' is set to 'interval', determines the interval for "
            "producer transaction commits by connector tasks. If unset, defaults to the "
            "value of the worker-level 'offset.flush.interval.ms' property. It has no effect "
            "if a different transaction.boundary is specified."
        ),
        group="Exactly Once Support",
        order=4,
        width=Width.SHORT,
        display_name="Transaction boundary interval",
    )
    source.define(
        "offsets.storage.topic",
        ConfigType.STRING,
        None,
        NonEmptyString(),
        Importance.LOW,
        (
            "The name of a separate offsets topic to use for this connector. If empty or not "
            "specified, the worker’s global offsets topic name will be used. If specified, "  # noqa: RUF001
            "the offsets topic will be created if it does not already exist on the Kafka "
            "cluster targeted by this connector (which may be different from the one used "
            "for the worker's global offsets topic if the bootstrap.servers property of the "
            "connector's producer has been overridden from the worker's). Only applicable in "
            "distributed mode; in standalone mode, setting this property will have no effect."
        ),
        group="offsets.topic",
        order=1,
        width=Width.LONG,
        display_name="Offsets topic",
    )
    return source


def validate_sink_topics(props: Mapping[str, str], values: Mapping[str, ConfigValue]) -> None:
    """Add Kafka's errors for ``topics``/``topics.regex``/DLQ topic clashes to ``values``.

    Exactly one of ``topics`` and ``topics.regex`` must be set, and neither may cover the
    dead letter queue topic (Kafka's ``SinkConnectorConfig.validate``).
    """
    topics = (props.get("topics") or "").strip()
    regex = (props.get("topics.regex") or "").strip()
    dlq = (props.get("errors.deadletterqueue.topic.name") or "").strip()

    def add(name: str, value: str, message: str) -> None:
        target = values.get(name)
        if target is not None:
            target.add_error(str(ConfigError(name, value, message)))

    if topics and regex:
        message = "topics and topics.regex are mutually exclusive options, but both are set."
        add("topics", topics, message)
        add("topics.regex", regex, message)
    if not topics and not regex:
        message = "Must configure one of topics or topics.regex"
        add("topics", topics, message)
        add("topics.regex", regex, message)
    if dlq and topics:
        listed = [t for t in re.split(r"\s*,\s*", topics) if t]
        if dlq in listed:
            add(
                "topics",
                topics,
                f"The DLQ topic '{dlq}' may not be included in the list of topics "
                f"('topics=[{', '.join(listed)}]') consumed by the connector",
            )
    if dlq and regex and _check_regex("topics.regex", regex) is None and re.fullmatch(regex, dlq):
        add(
            "topics.regex",
            regex,
            f"The DLQ topic '{dlq}' may not be included in the regex matching the topics "
            f"('topics.regex={regex}') consumed by the connector",
        )
