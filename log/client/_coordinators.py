"""Group and transaction coordinators: FindCoordinator with a cache.

A coordinator stays cached until :meth:`CoordinatorCache.invalidate` (callers
do so on NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE, or when the
connection fails). :meth:`CoordinatorCache.send` wraps the usual loop: look
up, send, and on a coordinator error or a lost connection invalidate, back
off and try again within the deadline.

Coordinator requests travel on a connection of their own to the coordinator's
broker, pooled by the kernel under :func:`coordinator_connection_id` (Kafka's
Java client does the same with ``Integer.MAX_VALUE - node id``): a commit, a
heartbeat or an EndTxn then never queues behind a long-poll Fetch to the same
broker, which a broker answers in order on one connection.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tidal.log.client._connection import RequestBuilder
from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._types import Node
from tidal.log.protocol import Request
from tidal.log.protocol.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    KafkaError,
    NotCoordinatorError,
    error_for_code,
)
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    DeleteGroupsRequest,
    DescribeGroupsRequest,
    DescribeTransactionsRequest,
    EndTxnRequest,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    HeartbeatRequest,
    JoinGroupRequest,
    LeaveGroupRequest,
    OffsetCommitRequest,
    OffsetDeleteRequest,
    OffsetFetchRequest,
    SyncGroupRequest,
    TxnOffsetCommitRequest,
)

if TYPE_CHECKING:
    from tidal.log.client._kernel import Kernel

__all__ = [
    "COORDINATOR_APIS",
    "COORDINATOR_ERRORS",
    "COORDINATOR_NODE_OFFSET",
    "CoordinatorCache",
    "CoordinatorType",
    "broker_id",
    "coordinator_connection_id",
    "is_coordinator_connection",
]

#: Codes after which the coordinator must be looked up again.
COORDINATOR_ERRORS = frozenset({NotCoordinatorError.code, CoordinatorNotAvailableError.code})
_RETRY_CODES = COORDINATOR_ERRORS | {CoordinatorLoadInProgressError.code}

#: Coordinator connections are pooled under ``COORDINATOR_NODE_OFFSET - node
#: id``, as in Kafka's Java client: far from broker ids and bootstrap ids.
COORDINATOR_NODE_OFFSET = 2**31 - 1

#: Requests only a group or transaction coordinator answers; the kernel sends
#: them on the coordinator connection to their node.
COORDINATOR_APIS: frozenset[type[Request]] = frozenset(
    {
        JoinGroupRequest,
        SyncGroupRequest,
        HeartbeatRequest,
        LeaveGroupRequest,
        OffsetCommitRequest,
        OffsetFetchRequest,
        OffsetDeleteRequest,
        DescribeGroupsRequest,
        DeleteGroupsRequest,
        TxnOffsetCommitRequest,
        AddOffsetsToTxnRequest,
        AddPartitionsToTxnRequest,
        EndTxnRequest,
        DescribeTransactionsRequest,
    }
)


def coordinator_connection_id(node_id: int) -> int:
    """The pool id of the coordinator connection to broker ``node_id``."""
    return COORDINATOR_NODE_OFFSET - node_id


def is_coordinator_connection(connection_id: int) -> bool:
    """Whether a pool id names a coordinator connection."""
    return connection_id > COORDINATOR_NODE_OFFSET // 2


def broker_id(connection_id: int) -> int:
    """The broker a pool id connects to."""
    if is_coordinator_connection(connection_id):
        return COORDINATOR_NODE_OFFSET - connection_id
    return connection_id


class CoordinatorType(enum.IntEnum):
    """FindCoordinator ``key_type``."""

    GROUP = 0
    TRANSACTION = 1


class CoordinatorCache:
    """Coordinator node ids by (key type, key)."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._nodes: dict[tuple[CoordinatorType, str], int] = {}

    def invalidate(self, key: str, key_type: CoordinatorType = CoordinatorType.GROUP) -> None:
        self._nodes.pop((key_type, key), None)

    async def find(self, key: str, key_type: CoordinatorType = CoordinatorType.GROUP) -> int:
        """The coordinator's node id, asking the cluster (with retries within
        ``default_api_timeout_ms``) when not cached."""
        cached = self._nodes.get((key_type, key))
        if cached is not None:
            return cached
        kernel = self._kernel
        node = await kernel.retry(
            lambda: self._lookup(key, key_type), timeout_ms=kernel.config.default_api_timeout_ms
        )
        kernel.add_node(node)
        self._nodes[(key_type, key)] = node.node_id
        return node.node_id

    async def _lookup(self, key: str, key_type: CoordinatorType) -> Node:
        def build(version: int) -> FindCoordinatorRequest:
            if version >= 4:
                return FindCoordinatorRequest(key_type=key_type, coordinator_keys=[key])
            return FindCoordinatorRequest(key=key, key_type=key_type)

        resp: FindCoordinatorResponse = await self._kernel.send_to_any(
            FindCoordinatorRequest, build
        )
        if resp.coordinators:
            c = resp.coordinators[0]
            code, message, node = c.error_code, c.error_message, Node(c.node_id, c.host, c.port)
        else:
            code, message = resp.error_code, resp.error_message
            node = Node(resp.node_id, resp.host, resp.port)
        if code:
            raise error_for_code(code)(message or f"no coordinator for '{key}'")
        return node

    async def send(
        self,
        key: str,
        key_type: CoordinatorType,
        api: type[Request],
        builder: RequestBuilder | None = None,
        *,
        error_code: Callable[[Any], int] | None = None,
        timeout_ms: int | None = None,
    ) -> Any:
        """Send to the coordinator of ``key``, retrying through coordinator
        moves within ``timeout_ms`` (default ``default_api_timeout_ms``).

        ``error_code(response)`` picks the code that signals a coordinator
        problem (default: the response's top-level ``error_code``); any other
        code is left for the caller to interpret.
        """
        kernel = self._kernel
        pick = error_code or (lambda r: getattr(r, "error_code", 0))
        timeout = timeout_ms if timeout_ms is not None else kernel.config.default_api_timeout_ms
        deadline = time.monotonic() + timeout / 1000
        attempt = 0
        while True:
            try:
                node = await self.find(key, key_type)
                response = await kernel.send(node, api, builder, coordinator=True)
                code = pick(response)
                if code not in _RETRY_CODES:
                    return response
                error: KafkaError = error_for_code(code)()
            except (KafkaConnectionError, KafkaTimeoutError, CoordinatorNotAvailableError) as e:
                error = e
            if not isinstance(error, CoordinatorLoadInProgressError):
                self.invalidate(key, key_type)
            wait = kernel.backoff_ms(attempt) / 1000
            if time.monotonic() + wait > deadline:
                raise KafkaTimeoutError(
                    f"coordinator of '{key}' not reachable within {timeout} ms: {error}"
                ) from error
            attempt += 1
            await asyncio.sleep(wait)
