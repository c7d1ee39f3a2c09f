"""DeleteTopics (key 20), versions 0-6, flexible from 4.

Kafka 4 serves 1-6; v0 is declared for older brokers. Sent to the
controller. v0-5 name topics in ``topic_names``; v6 lists ``topics`` by name
or id (a null name with an id). v5 adds per-topic error messages.
"""

from __future__ import annotations

import uuid

from tidal.log.protocol._schema import F, Request, Response, Struct, array
from tidal.log.protocol._types import INT16, INT32, STRING, UUID, ZERO_UUID

__all__ = [
    "DeletableTopicResult",
    "DeleteTopicState",
    "DeleteTopicsRequest",
    "DeleteTopicsResponse",
]


class DeleteTopicState(Struct):
    name: str | None = F(STRING, versions="6+", nullable_versions="6+", default=None)
    topic_id: uuid.UUID = F(UUID, versions="6+", default=ZERO_UUID)


class DeleteTopicsRequest(Request, api_key=20, valid_versions=(0, 6), flexible_versions=4):
    topics: list[DeleteTopicState] = F(array(DeleteTopicState), versions="6+", default_factory=list)
    topic_names: list[str] = F(array(STRING), versions="0-5", ignorable=True, default_factory=list)
    timeout_ms: int = F(INT32)


class DeletableTopicResult(Struct):
    name: str | None = F(STRING, nullable_versions="6+")
    topic_id: uuid.UUID = F(UUID, versions="6+", ignorable=True, default=ZERO_UUID)
    error_code: int = F(INT16, default=0)
    error_message: str | None = F(
        STRING, versions="5+", nullable_versions="5+", ignorable=True, default=None
    )


class DeleteTopicsResponse(Response, api_key=20, valid_versions=(0, 6), flexible_versions=4):
    throttle_time_ms: int = F(INT32, versions="1+", ignorable=True, default=0)
    responses: list[DeletableTopicResult] = F(array(DeletableTopicResult))
