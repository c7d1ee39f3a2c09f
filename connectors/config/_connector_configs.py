"""The configs of every sink and every source connector, and the sink topic checks.

:func:`sink_connector_config` and :func:`source_connector_config` are Kafka Connect 4.1's
``SinkConnectorConfig``/``SourceConnectorConfig`` definitions: the common ones of
:func:`common_connector_config` plus the sink's topics and dead letter queue settings, or
the source's topic creation and exactly-once settings. :func:`validate_sink_topics` adds
the cross-field checks on ``topics``, ``topics.regex`` and the dead letter queue topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._common_config import check_regex, common_connector_config, unique_aliases
from ._configdef import ConfigDef, ConfigValue
from ._types import ConfigError, ConfigType, Importance, Width
from ._validators import CaseInsensitiveValidString, LambdaValidator, NonEmptyString

__all__ = [
    "common_connector_config",
    "sink_connector_config",
    "source_connector_config",
    "validate_sink_topics",
]

_REGEX_VALIDATOR = LambdaValidator(check_regex, "valid regex")


def _check_not_negative(name: str, value: Any) -> str | None:
    if value is not None and value < 0:
        return "Value must be at least 0"
    return None


_NULL_OR_AT_LEAST_ZERO = LambdaValidator(_check_not_negative, "[0,...]")


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
        unique_aliases("topic creation groups"),
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
    if dlq and regex and check_regex("topics.regex", regex) is None and re.fullmatch(regex, dlq):
        add(
            "topics.regex",
            regex,
            f"The DLQ topic '{dlq}' may not be included in the regex matching the topics "
            f"('topics.regex={regex}') consumed by the connector",
        )
