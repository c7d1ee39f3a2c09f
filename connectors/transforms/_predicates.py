"""The built-in predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone.

Kafka's ``org.apache.kafka.connect.transforms.predicates.*``. A transform applies to a
record when its predicate matches (or, with ``negate=true``, when it does not)::

    transforms=dropTombstones
    transforms.dropTombstones.type=org.apache.kafka.connect.transforms.Filter
    transforms.dropTombstones.predicate=isTombstone
    predicates=isTombstone
    predicates.isTombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import ConnectRecord
from tidal.connectors.config import (
    NO_DEFAULT,
    CompositeValidator,
    ConfigDef,
    ConfigType,
    Importance,
    NonEmptyString,
)

from ._base import Predicate
from ._util import REGEX_VALIDATOR

__all__ = ["HasHeaderKey", "RecordIsTombstone", "TopicNameMatches"]


class _Required(NonEmptyString):
    """Non-empty, and present (NonEmptyString alone lets a missing value through)."""

    def ensure_valid(self, name: str, value: Any) -> None:
        super().ensure_valid(name, "" if value is None else value)


def _topic_config() -> ConfigDef:
    return ConfigDef().define(
        "pattern",
        ConfigType.STRING,
        NO_DEFAULT,
        CompositeValidator.of(_Required(), REGEX_VALIDATOR),
        Importance.MEDIUM,
        "A Java regular expression for matching against the name of a record's topic.",
    )


class TopicNameMatches(Predicate[ConnectRecord]):
    """True when the whole topic name matches ``pattern``."""

    kafka_name = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"

    def config(self) -> ConfigDef:
        """TopicNameMatches' configs."""
        return _topic_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``pattern``."""
        self.pattern = re.compile(_topic_config().parse(configs)["pattern"])

    def test(self, record: ConnectRecord) -> bool:
        """Whether the record's topic matches."""
        return record.topic is not None and self.pattern.fullmatch(record.topic) is not None


def _header_config() -> ConfigDef:
    return ConfigDef().define(
        "name", ConfigType.STRING, NO_DEFAULT, _Required(), Importance.MEDIUM, "The header name."
    )


class HasHeaderKey(Predicate[ConnectRecord]):
    """True when the record has at least one header called ``name``."""

    kafka_name = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"

    def config(self) -> ConfigDef:
        """HasHeaderKey's configs."""
        return _header_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``name``."""
        self.name: str = _header_config().parse(configs)["name"]

    def test(self, record: ConnectRecord) -> bool:
        """Whether the header is present."""
        return record.headers.last_with_name(self.name) is not None


class RecordIsTombstone(Predicate[ConnectRecord]):
    """True when the record's value is null."""

    kafka_name = "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"

    def test(self, record: ConnectRecord) -> bool:
        """Whether the value is None."""
        return record.value is None
