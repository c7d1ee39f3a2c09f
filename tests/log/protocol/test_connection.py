"""The sans-I/O connection: a client engine and a broker engine in memory."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from tidal.log.protocol import (
    DEFAULT_LIMITS,
    NEED_DATA,
    Connection,
    ConnectionClosed,
    ConnectionPair,
    ProtocolError,
    ProtocolViolation,
    RequestHeader,
    RequestReceived,
    ResponseReceived,
    Role,
    UnsupportedRequest,
    api_version_entries,
)
from tidal.log.protocol.messages import (
    ApiVersionsRequest,
    ApiVersionsResponse,
    FetchRequest,
    FetchResponse,
    MetadataRequest,
    MetadataResponse,
    ProduceRequest,
)
from tidal.log.protocol.messages.fetch import FetchableTopicResponse, PartitionData
from tidal.log.protocol.messages.metadata import MetadataResponseBroker
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData


def produce(acks: int = -1) -> ProduceRequest:
    part = PartitionProduceData(index=0, records=b"\x00" * 70)
    return ProduceRequest(
        acks=acks, timeout_ms=30000, topic_data=[TopicProduceData(name="t", partition_data=[part])]
    )


@pytest.mark.parametrize("chunk", [0, 1, 5])
@pytest.mark.parametrize("version", range(13))
def test_metadata_request_and_response_cross_the_pair(chunk: int, version: int) -> None:
    pair = ConnectionPair(chunk=chunk)
    pair.client_send(MetadataRequest(topics=None if version else []), version)
    [event] = pair.broker_events()
    assert isinstance(event, RequestReceived)
    assert event.header.api_version == version
    assert event.header.client_id == "tidal-test"
    response = MetadataResponse(
        brokers=[MetadataResponseBroker(node_id=1, host="h", port=9092)], topics=[]
    )
    pair.broker_send(event.header, response)
    [answer] = pair.client_events()
    assert isinstance(answer, ResponseReceived)
    assert answer.response == response
    assert answer.correlation_id == event.header.correlation_id
    assert pair.client.in_flight == 0


def test_pipelined_requests_get_their_own_responses() -> None:
    pair = ConnectionPair()
    for version in (0, 3, 4):
        pair.client_send(ApiVersionsRequest(), version)
    events = pair.broker_events()
    assert [e.header.correlation_id for e in events if isinstance(e, RequestReceived)] == [0, 1, 2]
    assert pair.broker.in_flight == 3
    for event in events:
        assert isinstance(event, RequestReceived)
        pair.broker_send(event.header, ApiVersionsResponse(api_keys=api_version_entries()))
    answers = pair.client_events()
    assert [a.api_version for a in answers if isinstance(a, ResponseReceived)] == [0, 3, 4]


def test_produce_acks_0_expects_no_response() -> None:
    pair = ConnectionPair()
    pair.client_send(produce(acks=0), 9)
    assert pair.client.in_flight == 0
    [event] = pair.broker_events()
    assert isinstance(event, RequestReceived)
    assert pair.broker.in_flight == 0


def test_unsupported_versions_and_unknown_keys_are_distinct_events() -> None:
    pair = ConnectionPair()
    pair.client_send(produce(), 2)  # advertised, not served
    [event] = pair.broker_events()
    assert isinstance(event, UnsupportedRequest)
    assert "Produce v2" in event.reason
    header = bytearray(4)
    RequestHeader(api_key=999, api_version=0, correlation_id=5, client_id="x").encode_into(
        header, 1
    )
    struct.pack_into(">i", header, 0, len(header) - 4)
    pair.send_raw_to_broker(bytes(header))
    [event] = pair.broker_events()
    assert isinstance(event, UnsupportedRequest)
    assert event.header.correlation_id == 5
    assert "unknown api key" in event.reason


def test_api_versions_v5_gets_a_v0_unsupported_version_answer() -> None:
    # A future ApiVersions request: header v2 (flexible rule "3+"), body unknown.
    frame = bytearray(4)
    RequestHeader(api_key=18, api_version=5, correlation_id=9, client_id="c").encode_into(frame, 2)
    frame += b"\x07whatever"
    struct.pack_into(">i", frame, 0, len(frame) - 4)
    broker = Connection(Role.BROKER)
    broker.receive_data(bytes(frame))
    event = broker.next_event()
    assert isinstance(event, UnsupportedRequest)
    assert event.header.client_id == "c"
    answer = ApiVersionsResponse(error_code=35, api_keys=api_version_entries())
    data = broker.send_response(event.header, answer, version=0)
    # response header v0 (correlation id only), then a v0 body
    assert data[4:8] == struct.pack(">i", 9)
    assert ApiVersionsResponse.decode(data[8:], 0).error_code == 35


def test_oversized_frame_is_a_protocol_violation() -> None:
    broker = Connection(Role.BROKER, max_frame_size=1000)
    broker.receive_data(struct.pack(">i", 1001))
    event = broker.next_event()
    assert isinstance(event, ProtocolViolation)
    assert "1001" in event.reason
    assert "1000" in event.reason
    assert broker.next_event() is event  # the connection stays failed
    negative = Connection(Role.BROKER)
    negative.receive_data(struct.pack(">i", -5))
    assert isinstance(negative.next_event(), ProtocolViolation)


def test_malformed_body_is_a_protocol_violation_naming_the_message() -> None:
    pair = ConnectionPair()
    data = ConnectionPair().client.send_request(MetadataRequest(topics=None), 12)
    broken = bytearray(data[:-2])
    struct.pack_into(">i", broken, 0, len(broken) - 4)
    pair.send_raw_to_broker(bytes(broken))
    [event] = pair.broker_events()
    assert isinstance(event, ProtocolViolation)
    assert "MetadataRequest v12" in event.reason
    assert event.correlation_id == 0


def test_response_to_unknown_correlation_id_is_a_violation() -> None:
    client = Connection(Role.CLIENT)
    client.receive_data(struct.pack(">ii", 4, 77))
    event = client.next_event()
    assert isinstance(event, ProtocolViolation)
    assert "77" in event.reason


def test_close_between_and_inside_frames() -> None:
    broker = Connection(Role.BROKER)
    assert broker.next_event() is NEED_DATA
    broker.receive_data(b"")
    assert isinstance(broker.next_event(), ConnectionClosed)
    cut = Connection(Role.BROKER)
    cut.receive_data(b"\x00\x00\x00\x10abc")
    cut.receive_data(b"")
    assert isinstance(cut.next_event(), ProtocolViolation)


def test_roles_are_enforced() -> None:
    with pytest.raises(ProtocolError):
        Connection(Role.BROKER).send_request(ApiVersionsRequest(), 0)
    with pytest.raises(ProtocolError):
        Connection(Role.CLIENT).send_response(
            RequestHeader(18, 0, 1), ApiVersionsResponse(api_keys=[])
        )
    client = Connection(Role.CLIENT)
    client.send_request(ApiVersionsRequest(), 0, correlation_id=3)
    with pytest.raises(ProtocolError):
        client.send_request(ApiVersionsRequest(), 0, correlation_id=3)


def _fetch_exchange(
    records: bytes, *, records_views: bool
) -> tuple[Connection, bytes, FetchResponse]:
    client = Connection(Role.CLIENT, client_id="c", records_views=records_views)
    request = FetchRequest(max_wait_ms=1, min_bytes=1, max_bytes=1 << 20, topics=[])
    client.send_request(request, 12, correlation_id=5)
    part = PartitionData(partition_index=0, high_watermark=3, records=records)
    response = FetchResponse(responses=[FetchableTopicResponse(topic="t", partitions=[part])])
    data = bytes(Connection(Role.BROKER).send_response(RequestHeader(1, 12, 5, "c"), response))
    return client, data, response


@pytest.mark.parametrize("chunk", [1, 3, 4, 7, 1000, 1 << 20])
@pytest.mark.parametrize("records_views", [False, True])
def test_fetch_records_survive_any_split_and_views_are_read_only(
    chunk: int, records_views: bool
) -> None:
    records = bytes(range(256)) * 20
    client, data, expected = _fetch_exchange(records, records_views=records_views)
    # Two frames back to back: the second must not disturb the first's views.
    tail = bytes(
        Connection(Role.BROKER).send_response(
            RequestHeader(18, 0, 6), ApiVersionsResponse(api_keys=[])
        )
    )
    client.send_request(ApiVersionsRequest(), 0, correlation_id=6)
    feed = bytearray(data + tail)
    for i in range(0, len(feed), chunk):
        piece = feed[i : i + chunk]
        client.receive_data(piece)
        piece[:] = b"\xff" * len(piece)  # the caller may reuse its buffer at once
    event = client.next_event()
    assert isinstance(event, ResponseReceived)
    got = event.response.responses[0].partitions[0].records
    if records_views:
        assert isinstance(got, memoryview)
        assert got.readonly
    else:
        assert isinstance(got, bytes)
    assert bytes(got) == records
    assert event.response == expected
    second = client.next_event()
    assert isinstance(second, ResponseReceived)
    assert isinstance(second.response, ApiVersionsResponse)
    assert bytes(got) == records
    assert client.next_event() is NEED_DATA


def test_violation_comes_after_the_frames_before_it() -> None:
    client, data, _ = _fetch_exchange(b"x" * 50, records_views=True)
    client.max_frame_size = len(data)
    client.receive_data(data + struct.pack(">i", len(data) + 1) + b"ignored")
    assert isinstance(client.next_event(), ResponseReceived)
    event = client.next_event()
    assert isinstance(event, ProtocolViolation)
    assert str(len(data) + 1) in event.reason
    client.receive_data(b"more")  # nothing after a violation is read
    assert client.next_event() is event


@pytest.mark.parametrize("cut", [2, 4, 9])
def test_close_inside_a_frame_counts_the_bytes_received(cut: int) -> None:
    client, data, _ = _fetch_exchange(b"x" * 50, records_views=False)
    client.receive_data(data[:cut])
    assert client.next_event() is NEED_DATA
    client.receive_data(b"")
    event = client.next_event()
    assert isinstance(event, ProtocolViolation)
    assert f"({cut} bytes)" in event.reason


def test_a_zero_length_response_is_a_violation() -> None:
    client = Connection(Role.CLIENT)
    client.receive_data(struct.pack(">i", 0))
    event = client.next_event()
    assert isinstance(event, ProtocolViolation)
    assert "shorter than its header" in event.reason


def test_prepare_compiles_the_codecs_a_connection_uses() -> None:
    client = Connection(Role.CLIENT, records_views=True)
    client.prepare(FetchRequest, 11)
    views = dataclasses.replace(DEFAULT_LIMITS, records_views=True)
    assert (11, DEFAULT_LIMITS) in FetchRequest._codecs
    assert (11, views) in FetchResponse._codecs


@pytest.mark.parametrize("chunk", [1, 3, 5000, 1 << 20])
def test_reads_into_the_engines_buffers(chunk: int) -> None:
    """A reader filling :meth:`Connection.get_buffer` in place: a large frame
    is read straight into itself, the scratch buffer between frames is
    reused, and nothing decoded points into it."""
    records = bytes(range(256)) * 1200
    client, data, expected = _fetch_exchange(records, records_views=True)
    tail = bytes(
        Connection(Role.BROKER).send_response(
            RequestHeader(18, 0, 6), ApiVersionsResponse(api_keys=[])
        )
    )
    client.send_request(ApiVersionsRequest(), 0, correlation_id=6)
    stream = data + tail + data[:10]
    pos = 0
    while pos < len(stream):
        buf = client.get_buffer()
        n = min(chunk, len(buf), len(stream) - pos)
        buf[:n] = stream[pos : pos + n]
        pos += n
        client.buffer_updated(n)
    assert len(client.get_buffer()) == len(data) - 10  # the third frame's rest
    event = client.next_event()
    assert isinstance(event, ResponseReceived)
    got = event.response.responses[0].partitions[0].records
    assert isinstance(got, memoryview)
    assert event.response == expected
    assert isinstance(client.next_event(), ResponseReceived)
    assert client.next_event() is NEED_DATA
    assert bytes(got) == records


def test_buffer_updated_refuses_more_than_was_handed_out() -> None:
    client = Connection(Role.CLIENT)
    buf = client.get_buffer()
    with pytest.raises(ProtocolError):
        client.buffer_updated(len(buf) + 1)
    with pytest.raises(ProtocolError):
        client.buffer_updated(0)
