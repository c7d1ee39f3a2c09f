"""Errors of the worker's operations, each with the HTTP status the REST API answers with.

The messages are Kafka Connect's (``Connector x not found``, ``Connector x already
exists``), so clients that match on them keep working.
"""

from __future__ import annotations

__all__ = ["BadRequestError", "ConflictError", "HerderError", "NotFoundError"]


class HerderError(Exception):
    """A request the worker refuses; ``status`` is the HTTP status code."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(HerderError):
    """An unknown connector, task or plugin (404)."""

    status = 404


class ConflictError(HerderError):
    """A duplicate connector, or a request made during a rebalance (409)."""

    status = 409


class BadRequestError(HerderError):
    """An invalid configuration or request body (400)."""

    status = 400
