"""Golden frames from real clients and Apache Kafka: decode, re-encode, compare.

``vectors/`` holds request and response frames captured by a recording proxy
between confluent-kafka (librdkafka), kafka-python and aiokafka and an
Apache Kafka 4.1 broker (``vectors/generate.py``). Every frame must decode
with our declarations, and encoding the result must give the same bytes:
the clients and Kafka are the oracle, not our own encoder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.log.protocol import (
    API_SPECS,
    RequestHeader,
    ResponseHeader,
    request_header_version,
    response_header_version,
)

VECTORS = Path(__file__).parent / "vectors"
INDEX: list[dict[str, Any]] = json.loads((VECTORS / "index.json").read_text())


def _id(entry: dict[str, Any]) -> str:
    return entry["file"].removesuffix(".bin")


def test_index_covers_every_client_and_api() -> None:
    seen = {(e["client"], e["api_key"]) for e in INDEX}
    for client in ("librdkafka", "kafka-python", "aiokafka"):
        for api_key in (0, 1, 2, 3, 10, 18):
            assert (client, api_key) in seen, (client, api_key)
    assert all(e["kind"] in ("request", "response") for e in INDEX)


@pytest.mark.parametrize("entry", INDEX, ids=_id)
def test_frame_decodes_and_reencodes_identically(entry: dict[str, Any]) -> None:
    payload = (VECTORS / entry["file"]).read_bytes()
    spec = API_SPECS[entry["api_key"]]
    version = entry["api_version"]
    out = bytearray()
    if entry["kind"] == "request":
        header_version = request_header_version(version, spec.flexible_from)
        header, pos = RequestHeader.decode(payload, header_version)
        assert (header.api_key, header.api_version) == (spec.api_key, version)
        body = spec.request.decode(payload, version, pos=pos)
        header.encode_into(out, header_version)
    else:
        header_version = response_header_version(spec.api_key, version, spec.flexible_from)
        response_header, pos = ResponseHeader.decode(payload, header_version)
        assert response_header.correlation_id == entry["correlation_id"]
        body = spec.response.decode(payload, version, pos=pos)
        response_header.encode_into(out, header_version)
    body.encode_into(out, version)
    assert bytes(out) == payload
