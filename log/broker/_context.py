"""What a request handler is given besides the request itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidal.log.broker._broker import Broker

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request's header facts, its peer and the broker serving it."""

    broker: Broker
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    #: ``host:port`` of the client, for logs
    peer: str
    #: host the client connected from (DescribeGroups' ``client_host``)
    client_host: str
