"""Transforms that change where a record goes: TimestampRouter, RegexRouter, and Filter.

``TimestampRouter`` renames the topic with ``topic.format`` (``${topic}`` and
``${timestamp}`` placeholders) and ``timestamp.format`` (a ``java.text.SimpleDateFormat``
pattern, applied in UTC). ``RegexRouter`` renames topics matching ``regex`` with
``replacement`` (Java's ``$1`` group syntax). ``Filter`` drops every record it is applied
to; pair it with a predicate.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import ConnectRecord, DataError
from tidal.connectors.config import NO_DEFAULT, ConfigDef, ConfigError, ConfigType, Importance

from ._base import Transformation
from ._dates import java_date_format
from ._util import REGEX_VALIDATOR

__all__ = ["Filter", "RegexRouter", "TimestampRouter", "java_replacement"]


def _router_config() -> ConfigDef:
    return (
        ConfigDef()
        .define("topic.format", ConfigType.STRING, "${topic}-${timestamp}", None, Importance.HIGH,
                "Format string which can contain <code>${topic}</code> and "
                "<code>${timestamp}</code> as placeholders for the topic and timestamp, "
                "respectively.")
        .define("timestamp.format", ConfigType.STRING, "yyyyMMdd", None, Importance.HIGH,
                "Format string for the timestamp that is compatible with "
                "<code>java.text.SimpleDateFormat</code>.")
    )  # fmt: skip


class TimestampRouter(Transformation[ConnectRecord]):
    """Route each record to a topic named after its topic and timestamp."""

    kafka_name = "org.apache.kafka.connect.transforms.TimestampRouter"

    def config(self) -> ConfigDef:
        """TimestampRouter's configs."""
        return _router_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``topic.format`` and ``timestamp.format``."""
        parsed = _router_config().parse(configs)
        self.topic_format: str = parsed["topic.format"]
        self.timestamp_format: str = parsed["timestamp.format"]
        java_date_format(self.timestamp_format, datetime.datetime(2000, 1, 1))  # fail early

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with its new topic."""
        if record.timestamp is None:
            raise DataError(f"Timestamp missing on record: {record}")
        moment = datetime.datetime.fromtimestamp(record.timestamp / 1000, datetime.UTC)
        stamp = java_date_format(self.timestamp_format, moment)
        topic = self.topic_format.replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return record.new_record(topic=topic)


def java_replacement(replacement: str) -> str:
    """A Java ``Matcher`` replacement (``$1``, ``${name}``, ``\\$``) in Python's syntax."""
    out = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            out.append(replacement[i + 1].replace("\\", "\\\\"))
            i += 2
        elif char == "$" and i + 1 < len(replacement) and replacement[i + 1] == "{":
            end = replacement.index("}", i)
            out.append(f"\\g<{replacement[i + 2 : end]}>")
            i = end + 1
        elif char == "$":
            j = i + 1
            while j < len(replacement) and replacement[j].isdigit():
                j += 1
            if j == i + 1:
                raise ConfigError("replacement", replacement, "Illegal group reference")
            out.append(f"\\g<{replacement[i + 1 : j]}>")
            i = j
        else:
            out.append("\\\\" if char == "\\" else char)
            i += 1
    return "".join(out)


def _regex_config() -> ConfigDef:
    return (
        ConfigDef()
        .define("regex", ConfigType.STRING, NO_DEFAULT, REGEX_VALIDATOR, Importance.HIGH,
                "Regular expression to use for matching.")
        .define("replacement", ConfigType.STRING, NO_DEFAULT, None, Importance.HIGH,
                "Replacement string.")
    )  # fmt: skip


class RegexRouter(Transformation[ConnectRecord]):
    """Rename topics that match ``regex`` (the whole topic name must match)."""

    kafka_name = "org.apache.kafka.connect.transforms.RegexRouter"

    def config(self) -> ConfigDef:
        """RegexRouter's configs."""
        return _regex_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``regex`` and ``replacement``."""
        parsed = _regex_config().parse(configs)
        self.regex = re.compile(parsed["regex"])
        self.replacement = java_replacement(parsed["replacement"])

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record, renamed when its topic matches."""
        match = self.regex.fullmatch(record.topic)
        if match is None:
            return record
        return record.new_record(topic=match.expand(self.replacement))


class Filter(Transformation[ConnectRecord]):
    """Drop every record (Kafka's ``Filter``); use it with ``predicate``/``negate``."""

    kafka_name = "org.apache.kafka.connect.transforms.Filter"

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """None: the record is dropped."""
        return None
