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
from tidal.log.protocol.messages.add_offsets_to_txn import (
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
)
from tidal.log.protocol.messages.add_partitions_to_txn import (
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
)
from tidal.log.protocol.messages.alter_configs import AlterConfigsRequest, AlterConfigsResponse
from tidal.log.protocol.messages.api_versions import (
    ApiVersion,
    ApiVersionsRequest,
    ApiVersionsResponse,
)
from tidal.log.protocol.messages.create_partitions import (
    CreatePartitionsRequest,
    CreatePartitionsResponse,
)
from tidal.log.protocol.messages.create_topics import CreateTopicsRequest, CreateTopicsResponse
from tidal.log.protocol.messages.delete_groups import DeleteGroupsRequest, DeleteGroupsResponse
from tidal.log.protocol.messages.delete_records import DeleteRecordsRequest, DeleteRecordsResponse
from tidal.log.protocol.messages.delete_topics import DeleteTopicsRequest, DeleteTopicsResponse
from tidal.log.protocol.messages.describe_cluster import (
    DescribeClusterRequest,
    DescribeClusterResponse,
)
from tidal.log.protocol.messages.describe_configs import (
    DescribeConfigsRequest,
    DescribeConfigsResponse,
)
from tidal.log.protocol.messages.describe_groups import (
    DescribeGroupsRequest,
    DescribeGroupsResponse,
)
from tidal.log.protocol.messages.describe_producers import (
    DescribeProducersRequest,
    DescribeProducersResponse,
)
from tidal.log.protocol.messages.describe_transactions import (
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
)
from tidal.log.protocol.messages.end_txn import EndTxnRequest, EndTxnResponse
from tidal.log.protocol.messages.fetch import FetchRequest, FetchResponse
from tidal.log.protocol.messages.find_coordinator import (
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)
from tidal.log.protocol.messages.heartbeat import HeartbeatRequest, HeartbeatResponse
from tidal.log.protocol.messages.incremental_alter_configs import (
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
)
from tidal.log.protocol.messages.init_producer_id import (
    InitProducerIdRequest,
    InitProducerIdResponse,
)
from tidal.log.protocol.messages.join_group import JoinGroupRequest, JoinGroupResponse
from tidal.log.protocol.messages.leave_group import LeaveGroupRequest, LeaveGroupResponse
from tidal.log.protocol.messages.list_groups import ListGroupsRequest, ListGroupsResponse
from tidal.log.protocol.messages.list_offsets import ListOffsetsRequest, ListOffsetsResponse
from tidal.log.protocol.messages.list_transactions import (
    ListTransactionsRequest,
    ListTransactionsResponse,
)
from tidal.log.protocol.messages.metadata import MetadataRequest, MetadataResponse
from tidal.log.protocol.messages.offset_commit import OffsetCommitRequest, OffsetCommitResponse
from tidal.log.protocol.messages.offset_delete import OffsetDeleteRequest, OffsetDeleteResponse
from tidal.log.protocol.messages.offset_fetch import OffsetFetchRequest, OffsetFetchResponse
from tidal.log.protocol.messages.offset_for_leader_epoch import (
    OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
)
from tidal.log.protocol.messages.produce import ProduceRequest, ProduceResponse
from tidal.log.protocol.messages.sasl_authenticate import (
    SaslAuthenticateRequest,
    SaslAuthenticateResponse,
)
from tidal.log.protocol.messages.sasl_handshake import SaslHandshakeRequest, SaslHandshakeResponse
from tidal.log.protocol.messages.sync_group import SyncGroupRequest, SyncGroupResponse
from tidal.log.protocol.messages.txn_offset_commit import (
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)
from tidal.log.protocol.messages.write_txn_markers import (
    WriteTxnMarkersRequest,
    WriteTxnMarkersResponse,
)

__all__ = [
    "API_SPECS",
    "SASL_SPECS",
    "AddOffsetsToTxnRequest",
    "AddOffsetsToTxnResponse",
    "AddPartitionsToTxnRequest",
    "AddPartitionsToTxnResponse",
    "AlterConfigsRequest",
    "AlterConfigsResponse",
    "ApiSpec",
    "ApiVersionsRequest",
    "ApiVersionsResponse",
    "CreatePartitionsRequest",
    "CreatePartitionsResponse",
    "CreateTopicsRequest",
    "CreateTopicsResponse",
    "DeleteGroupsRequest",
    "DeleteGroupsResponse",
    "DeleteRecordsRequest",
    "DeleteRecordsResponse",
    "DeleteTopicsRequest",
    "DeleteTopicsResponse",
    "DescribeClusterRequest",
    "DescribeClusterResponse",
    "DescribeConfigsRequest",
    "DescribeConfigsResponse",
    "DescribeGroupsRequest",
    "DescribeGroupsResponse",
    "DescribeProducersRequest",
    "DescribeProducersResponse",
    "DescribeTransactionsRequest",
    "DescribeTransactionsResponse",
    "EndTxnRequest",
    "EndTxnResponse",
    "FetchRequest",
    "FetchResponse",
    "FindCoordinatorRequest",
    "FindCoordinatorResponse",
    "HeartbeatRequest",
    "HeartbeatResponse",
    "IncrementalAlterConfigsRequest",
    "IncrementalAlterConfigsResponse",
    "InitProducerIdRequest",
    "InitProducerIdResponse",
    "JoinGroupRequest",
    "JoinGroupResponse",
    "LeaveGroupRequest",
    "LeaveGroupResponse",
    "ListGroupsRequest",
    "ListGroupsResponse",
    "ListOffsetsRequest",
    "ListOffsetsResponse",
    "ListTransactionsRequest",
    "ListTransactionsResponse",
    "MetadataRequest",
    "MetadataResponse",
    "OffsetCommitRequest",
    "OffsetCommitResponse",
    "OffsetDeleteRequest",
    "OffsetDeleteResponse",
    "OffsetFetchRequest",
    "OffsetFetchResponse",
    "OffsetForLeaderEpochRequest",
    "OffsetForLeaderEpochResponse",
    "ProduceRequest",
    "ProduceResponse",
    "SaslAuthenticateRequest",
    "SaslAuthenticateResponse",
    "SaslHandshakeRequest",
    "SaslHandshakeResponse",
    "SyncGroupRequest",
    "SyncGroupResponse",
    "TxnOffsetCommitRequest",
    "TxnOffsetCommitResponse",
    "WriteTxnMarkersRequest",
    "WriteTxnMarkersResponse",
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


#: Every API a Tidal broker advertises, by api key, with its ranges
#: (``shared/reference/kafka-protocol.md`` sections 2.3 and 7). The
#: declarations cover more versions (Kafka's own ranges) for the client.
API_SPECS: dict[int, ApiSpec] = {
    spec.api_key: spec
    for spec in (
        ApiSpec(ProduceRequest, ProduceResponse, 0, 11, accepted_min=3),
        ApiSpec(FetchRequest, FetchResponse, 4, 12),
        ApiSpec(ListOffsetsRequest, ListOffsetsResponse, 1, 7),
        ApiSpec(MetadataRequest, MetadataResponse, 0, 12),
        ApiSpec(FindCoordinatorRequest, FindCoordinatorResponse, 0, 4),
        ApiSpec(ApiVersionsRequest, ApiVersionsResponse, 0, 4),
        ApiSpec(OffsetCommitRequest, OffsetCommitResponse, 2, 9),
        ApiSpec(OffsetFetchRequest, OffsetFetchResponse, 1, 9),
        ApiSpec(JoinGroupRequest, JoinGroupResponse, 0, 9),
        ApiSpec(HeartbeatRequest, HeartbeatResponse, 0, 4),
        ApiSpec(LeaveGroupRequest, LeaveGroupResponse, 0, 5),
        ApiSpec(SyncGroupRequest, SyncGroupResponse, 0, 5),
        ApiSpec(DescribeGroupsRequest, DescribeGroupsResponse, 0, 5),
        ApiSpec(ListGroupsRequest, ListGroupsResponse, 0, 5),
        ApiSpec(CreateTopicsRequest, CreateTopicsResponse, 2, 7),
        ApiSpec(DeleteTopicsRequest, DeleteTopicsResponse, 1, 6),
        ApiSpec(DeleteRecordsRequest, DeleteRecordsResponse, 0, 2),
        ApiSpec(InitProducerIdRequest, InitProducerIdResponse, 0, 4),
        ApiSpec(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, 2, 4),
        ApiSpec(AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, 0, 3),
        ApiSpec(AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, 0, 3),
        ApiSpec(EndTxnRequest, EndTxnResponse, 0, 4),
        ApiSpec(WriteTxnMarkersRequest, WriteTxnMarkersResponse, 1, 1),
        ApiSpec(TxnOffsetCommitRequest, TxnOffsetCommitResponse, 0, 4),
        ApiSpec(DescribeConfigsRequest, DescribeConfigsResponse, 1, 4),
        ApiSpec(AlterConfigsRequest, AlterConfigsResponse, 0, 2),
        ApiSpec(CreatePartitionsRequest, CreatePartitionsResponse, 0, 3),
        ApiSpec(DeleteGroupsRequest, DeleteGroupsResponse, 0, 2),
        ApiSpec(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 0, 1),
        ApiSpec(OffsetDeleteRequest, OffsetDeleteResponse, 0, 0),
        ApiSpec(DescribeClusterRequest, DescribeClusterResponse, 0, 1),
        ApiSpec(DescribeProducersRequest, DescribeProducersResponse, 0, 0),
        ApiSpec(DescribeTransactionsRequest, DescribeTransactionsResponse, 0, 0),
        ApiSpec(ListTransactionsRequest, ListTransactionsResponse, 0, 1),
    )
}

#: Declared but not advertised: a Tidal broker has no SASL yet. A client that
#: authenticates passes ``{**API_SPECS, **SASL_SPECS}`` to its ``Connection``.
SASL_SPECS: dict[int, ApiSpec] = {
    spec.api_key: spec
    for spec in (
        ApiSpec(SaslHandshakeRequest, SaslHandshakeResponse, 0, 1),
        ApiSpec(SaslAuthenticateRequest, SaslAuthenticateResponse, 0, 2),
    )
}


def api_version_entries(specs: dict[int, ApiSpec] | None = None) -> list[ApiVersion]:
    """The ``api_keys`` of a broker's ApiVersions answer, derived from ``specs``."""
    chosen = API_SPECS if specs is None else specs
    return [
        ApiVersion(api_key=key, min_version=spec.min_version, max_version=spec.max_version)
        for key, spec in sorted(chosen.items())
    ]
