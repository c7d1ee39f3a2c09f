"""Declarations of the Kafka API messages, one module per API, and the registry.

Each module (``produce.py``, ``fetch.py``, ...) declares the request and
response of one API with the schema language of ``tidal.log.protocol``,
field by field in wire order, following Kafka's message JSON. Nested structs
live in the module of their API and are imported from there; this package
exports the top-level messages and :data:`API_SPECS`.

To add an API:

1. write ``messages/<api>.py`` with ``<Api>Request`` and ``<Api>Response``
   (``api_key=``, ``valid_versions=``, ``flexible_versions=`` on both),
2. add one :class:`ApiSpec` line to ``API_SPECS`` below with the version
   range the broker advertises (and the lowest it serves, if higher),
3. the round-trip property tests pick it up from the registry; add a golden
   capture to ``tests/log/protocol/vectors`` if a real client sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tidal.log.protocol._schema import Request, Response
from tidal.log.protocol.messages.api_versions import (
    ApiVersion,
    ApiVersionsRequest,
    ApiVersionsResponse,
)
from tidal.log.protocol.messages.fetch import FetchRequest, FetchResponse
from tidal.log.protocol.messages.find_coordinator import (
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)
from tidal.log.protocol.messages.list_offsets import ListOffsetsRequest, ListOffsetsResponse
from tidal.log.protocol.messages.metadata import MetadataRequest, MetadataResponse
from tidal.log.protocol.messages.produce import ProduceRequest, ProduceResponse

__all__ = [
    "API_SPECS",
    "ApiSpec",
    "ApiVersionsRequest",
    "ApiVersionsResponse",
    "FetchRequest",
    "FetchResponse",
    "FindCoordinatorRequest",
    "FindCoordinatorResponse",
    "ListOffsetsRequest",
    "ListOffsetsResponse",
    "MetadataRequest",
    "MetadataResponse",
    "ProduceRequest",
    "ProduceResponse",
    "api_version_entries",
]


@dataclass(frozen=True)
class ApiSpec:
    """One API: its messages and the versions a Tidal broker advertises.

    ``min_version``..``max_version`` is what ApiVersions advertises;
    ``accepted_min`` is the lowest version actually served (Produce
    advertises 0 for old librdkafka but serves 3+, as Kafka 4 does).
    """

    request: type[Request]
    response: type[Response]
    min_version: int
    max_version: int
    accepted_min: int | None = None

    def __post_init__(self) -> None:
        for cls in (self.request, self.response):
            low, high = cls.valid_versions
            if not low <= self.min_version <= self.max_version <= high:
                raise ValueError(f"{cls.__name__} does not declare {self.min_version}-{high}")
        if self.request.flexible_from != self.response.flexible_from:
            raise ValueError(f"{self.name}: request and response disagree on flexible versions")

    @property
    def api_key(self) -> int:
        return self.request.api_key

    @property
    def name(self) -> str:
        return self.request.__name__.removesuffix("Request")

    @property
    def flexible_from(self) -> int | None:
        return self.request.flexible_from

    def serves(self, version: int) -> bool:
        """Whether a broker handles ``version`` (not merely advertises it)."""
        low = self.min_version if self.accepted_min is None else self.accepted_min
        return low <= version <= self.max_version


#: Every API this package declares, by api key, with the broker's ranges
#: (``shared/reference/kafka-protocol.md`` section 7).
API_SPECS: dict[int, ApiSpec] = {
    spec.api_key: spec
    for spec in (
        ApiSpec(ProduceRequest, ProduceResponse, 0, 11, accepted_min=3),
        ApiSpec(FetchRequest, FetchResponse, 4, 12),
        ApiSpec(ListOffsetsRequest, ListOffsetsResponse, 1, 7),
        ApiSpec(MetadataRequest, MetadataResponse, 0, 12),
        ApiSpec(FindCoordinatorRequest, FindCoordinatorResponse, 0, 4),
        ApiSpec(ApiVersionsRequest, ApiVersionsResponse, 0, 4),
    )
}


def api_version_entries(specs: dict[int, ApiSpec] | None = None) -> list[ApiVersion]:
    """The ``api_keys`` of a broker's ApiVersions answer, derived from ``specs``."""
    chosen = API_SPECS if specs is None else specs
    return [
        ApiVersion(api_key=key, min_version=spec.min_version, max_version=spec.max_version)
        for key, spec in sorted(chosen.items())
    ]
