"""Our client engine against a real Apache Kafka broker (the JVM peer).

Every request here is encoded by our declarations and every answer decoded by
them; Kafka accepting the requests and our decoder consuming its answers
exactly is the check. Skipped without Java and Maven (the peer's jars come
from Maven Central: ``tests/peers/kafka-jvm/fetch.sh``).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tidal.log.protocol import (
    NEED_DATA,
    Connection,
    Request,
    Response,
    ResponseReceived,
    Role,
)
from tidal.log.protocol.messages import (
    API_SPECS,
    ApiVersionsRequest,
    ApiVersionsResponse,
    FetchRequest,
    FetchResponse,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
    MetadataRequest,
    MetadataResponse,
    ProduceRequest,
    ProduceResponse,
)
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.list_offsets import ListOffsetsPartition, ListOffsetsTopic
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.records import SimpleRecord, decode_batch, encode_batch

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def kafka(kafka_jvm: Any) -> tuple[str, int]:
    return ("127.0.0.1", kafka_jvm.port)


class Client:
    """A blocking socket driven by our Connection engine."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=30)
        self.conn = Connection(Role.CLIENT, client_id="tidal-protocol-test")

    def call(self, request: Request, version: int) -> Response:
        self.sock.sendall(self.conn.send_request(request, version))
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                self.conn.receive_data(self.sock.recv(1 << 16))
                continue
            assert isinstance(event, ResponseReceived), event
            return event.response

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(kafka: tuple[str, int]) -> Iterator[Client]:
    c = Client(kafka)
    yield c
    c.close()


@pytest.mark.parametrize("version", range(5))
def test_api_versions(client: Client, version: int) -> None:
    response = client.call(
        ApiVersionsRequest(client_software_name="tidal", client_software_version="0.1"), version
    )
    assert isinstance(response, ApiVersionsResponse)
    assert response.error_code == 0
    advertised = {e.api_key: e for e in response.api_keys}
    for key, spec in API_SPECS.items():
        if key in advertised:  # Kafka serves at least our range for the core APIs
            assert advertised[key].max_version >= min(spec.max_version, 11), spec.name


def _metadata(client: Client, topic: str, version: int) -> MetadataResponse:
    request = MetadataRequest(topics=[MetadataRequestTopic(name=topic)])
    for _ in range(50):
        response = client.call(request, version)
        assert isinstance(response, MetadataResponse)
        if response.topics and response.topics[0].error_code == 0:
            return response
        time.sleep(0.2)
    raise AssertionError(f"topic {topic} never became available")


def test_metadata_every_version(client: Client, kafka: tuple[str, int]) -> None:
    _metadata(client, "proto-meta", 12)
    for version in range(13):
        response = _metadata(client, "proto-meta", version)
        assert response.brokers[0].port == kafka[1]
        assert response.topics[0].name == "proto-meta"


def test_produce_fetch_list_offsets_find_coordinator(client: Client) -> None:
    _metadata(client, "proto-data", 12)
    batch = encode_batch(
        [SimpleRecord(b"v%d" % i, key=b"k", timestamp=1_700_000_000_000 + i) for i in range(3)]
    )
    for version in range(3, 12):
        produce = ProduceRequest(
            acks=-1,
            timeout_ms=10_000,
            topic_data=[
                TopicProduceData(
                    name="proto-data", partition_data=[PartitionProduceData(index=0, records=batch)]
                )
            ],
        )
        response = client.call(produce, version)
        assert isinstance(response, ProduceResponse)
        assert response.responses[0].partition_responses[0].error_code == 0
    for version in range(4, 13):
        fetch = FetchRequest(
            max_wait_ms=100,
            min_bytes=1,
            topics=[
                FetchTopic(
                    topic="proto-data",
                    partitions=[
                        FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=1 << 20)
                    ],
                )
            ],
        )
        answer = client.call(fetch, version)
        assert isinstance(answer, FetchResponse)
        data = answer.responses[0].partitions[0]
        assert data.error_code == 0
        assert data.high_watermark == 27
        assert data.records
        assert decode_batch(data.records).records[0].value == b"v0"
    for version in range(1, 8):
        topic = ListOffsetsTopic(
            name="proto-data", partitions=[ListOffsetsPartition(partition_index=0, timestamp=-1)]
        )
        offsets = client.call(ListOffsetsRequest(topics=[topic]), version)
        assert isinstance(offsets, ListOffsetsResponse)
        assert offsets.topics[0].partitions[0].offset == 27
    for version in range(5):
        request = (
            FindCoordinatorRequest(coordinator_keys=["g"])
            if version >= 4
            else FindCoordinatorRequest(key="g")
        )
        for _ in range(100):  # the offsets topic is created on first use
            found = client.call(request, version)
            assert isinstance(found, FindCoordinatorResponse)
            entry = found.coordinators[0] if version >= 4 else found
            if entry.error_code == 0:
                break
            time.sleep(0.2)
        assert entry.node_id == 1
