"""RECORDS values kept out of line (``RecordsChunk``) for a broker's sendfile."""

from __future__ import annotations

import pytest

from tidal.log.protocol import (
    Connection,
    PiecesBuffer,
    RecordsChunk,
    RequestHeader,
    ResponseReceived,
    Role,
)
from tidal.log.protocol.messages import FetchRequest, FetchResponse
from tidal.log.protocol.messages.fetch import (
    FetchableTopicResponse,
    FetchPartition,
    FetchTopic,
    PartitionData,
)


class BytesChunk(RecordsChunk):
    __slots__ = ("data", "reads")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def __len__(self) -> int:
        return len(self.data)

    def read_bytes(self) -> bytes:
        self.reads += 1
        return self.data


def fetch_response(records: list[bytes | RecordsChunk]) -> FetchResponse:
    parts = [
        PartitionData(partition_index=i, high_watermark=10, records=r)  # type: ignore[arg-type]
        for i, r in enumerate(records)
    ]
    return FetchResponse(responses=[FetchableTopicResponse(topic="t", partitions=parts)])


def join(pieces: list[bytes | bytearray | RecordsChunk]) -> bytes:
    return b"".join(p.read_bytes() if isinstance(p, RecordsChunk) else bytes(p) for p in pieces)


@pytest.mark.parametrize("version", [4, 11, 12])
def test_pieces_equal_the_inline_frame(version: int) -> None:
    client = Connection(Role.CLIENT)
    request = FetchRequest(
        max_wait_ms=0,
        min_bytes=1,
        topics=[
            FetchTopic(
                topic="t",
                partitions=[FetchPartition(fetch_offset=0, partition=0, partition_max_bytes=1)],
            )
        ],
    )
    broker = Connection(Role.BROKER)
    broker.receive_data(client.send_request(request, version))
    event = broker.next_event()
    header: RequestHeader = event.header  # type: ignore[union-attr]
    one, two = BytesChunk(b"A" * 300), BytesChunk(b"B" * 5)
    pieces = broker.send_response_pieces(header, fetch_response([one, b"inline", two]))
    chunks = [p for p in pieces if isinstance(p, RecordsChunk)]
    assert chunks == [one, two]
    assert one.reads == 0
    assert two.reads == 0
    inline = Connection(Role.BROKER).send_response(
        header, fetch_response([b"A" * 300, b"inline", b"B" * 5])
    )
    frame = join(pieces)
    assert frame == bytes(inline)
    client.receive_data(frame)
    answer = client.next_event()
    assert isinstance(answer, ResponseReceived)
    got = [p.records for p in answer.response.responses[0].partitions]  # type: ignore[attr-defined]
    assert got == [b"A" * 300, b"inline", b"B" * 5]


def test_a_chunk_encoded_into_a_plain_buffer_is_read() -> None:
    chunk = BytesChunk(b"xyz")
    plain = fetch_response([chunk]).encode(12)
    assert chunk.reads == 1
    assert plain == fetch_response([b"xyz"]).encode(12)


def test_pieces_without_chunks_is_one_run() -> None:
    buf = PiecesBuffer(b"abc")
    assert buf.pieces() == [bytearray(b"abc")]
    assert buf.chunk_bytes == 0
