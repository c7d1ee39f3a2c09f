"""Exceptions of the connector API, named after Kafka Connect's."""

from __future__ import annotations

__all__ = ["ConnectError", "DataError", "RetriableError", "SchemaBuilderError"]


class ConnectError(Exception):
    """Base of every error of the connector framework (Kafka's ``ConnectException``)."""


class DataError(ConnectError):
    """A value does not fit its schema or cannot be converted (Kafka's ``DataException``)."""


class SchemaBuilderError(DataError):
    """A schema builder was used wrongly, e.g. a property set twice (``SchemaBuilderException``)."""


class RetriableError(ConnectError):
    """A failure the runtime may retry, e.g. a timeout in ``put`` (``RetriableException``)."""
