"""Errors raised by the client itself, next to the broker's error codes.

Broker answers raise the one-class-per-code exceptions of
:mod:`tidal.log.protocol.errors`; what only a client can observe (a timeout
while waiting, an unreachable address, a closed client, a record too large to
send) is raised with the classes below, which slot into the same hierarchy so
that ``except KafkaError`` and ``e.retriable`` keep working.
"""

from __future__ import annotations

from typing import ClassVar

from tidal.log.protocol.errors import KafkaError, MessageTooLargeError, NetworkError

__all__ = [
    "ClientClosedError",
    "KafkaConnectionError",
    "KafkaTimeoutError",
    "RecordTooLargeError",
]


class KafkaTimeoutError(KafkaError, TimeoutError):
    """A bounded wait ran out (request, metadata, buffer space, delivery)."""

    retriable: ClassVar[bool] = True


class KafkaConnectionError(NetworkError):
    """A broker could not be reached, or the connection to it was lost."""

    def __init__(self, message: str | None = None, *, address: str | None = None) -> None:
        super().__init__(message)
        #: ``host:port`` of the broker, when known.
        self.address = address


class RecordTooLargeError(MessageTooLargeError):
    """A record is larger than ``max_request_size`` or ``buffer_memory``; only
    that record fails."""


class ClientClosedError(KafkaError):
    """The client was closed before or while the call ran."""
