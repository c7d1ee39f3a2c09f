"""A broker ignores bytes after a request body, as Kafka's does."""

from __future__ import annotations

import struct

import pytest

from tidal.log.protocol import Connection, ProtocolDecodeError, RequestReceived, Role
from tidal.log.protocol.messages import MetadataRequest

#: librdkafka 2.16's Metadata v12 "all topics" request (AdminClient.list_topics):
#: header v2 with client id "rdkafka", then topics=null, allow=false, a v8-10
#: include_cluster_authorized_operations byte and a tag section Kafka never reads.
LIBRDKAFKA_METADATA_V12 = bytes.fromhex("0003000c00000003000772646b61666b610000000000010000")


def test_broker_reads_a_request_with_trailing_bytes() -> None:
    broker = Connection(Role.BROKER)
    broker.receive_data(struct.pack(">i", len(LIBRDKAFKA_METADATA_V12)) + LIBRDKAFKA_METADATA_V12)
    event = broker.next_event()
    assert isinstance(event, RequestReceived)
    assert event.header.correlation_id == 3
    assert event.request == MetadataRequest(
        topics=None, allow_auto_topic_creation=False, include_topic_authorized_operations=False
    )


def test_exact_decoding_still_refuses_them() -> None:
    body = MetadataRequest(topics=None).encode(12) + b"\x01\x00\x00"
    with pytest.raises(ProtocolDecodeError, match="left over"):
        MetadataRequest.decode(body, 12)
    assert MetadataRequest.decode(body, 12, exact=False).topics is None
