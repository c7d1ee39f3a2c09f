"""Header versions and layouts; the error-code exception table."""

from __future__ import annotations

import pytest

from tidal.log.protocol import (
    API_SPECS,
    KafkaError,
    RequestHeader,
    ResponseHeader,
    error_for_code,
    raise_for_code,
    request_header_version,
    response_header_version,
)
from tidal.log.protocol import errors as e


@pytest.mark.parametrize(
    ("api_key", "version", "request_v", "response_v"),
    [
        (0, 8, 1, 0),
        (0, 9, 2, 1),
        (1, 12, 2, 1),
        (3, 8, 1, 0),
        (18, 2, 1, 0),
        (18, 3, 2, 0),  # ApiVersions response header is always v0
        (18, 7, 2, 0),  # unknown future version: "3+" still applies
    ],
)
def test_header_versions(api_key: int, version: int, request_v: int, response_v: int) -> None:
    flexible = API_SPECS[api_key].flexible_from
    assert request_header_version(version, flexible) == request_v
    assert response_header_version(api_key, version, flexible) == response_v


def test_request_header_v2_keeps_client_id_classic() -> None:
    out = bytearray()
    RequestHeader(3, 12, 7, "ab").encode_into(out, 2)
    assert bytes(out) == b"\x00\x03\x00\x0c\x00\x00\x00\x07\x00\x02ab\x00"
    assert RequestHeader.decode(bytes(out), 2) == (RequestHeader(3, 12, 7, "ab"), len(out))
    out = bytearray()
    RequestHeader(3, 1, 7, None).encode_into(out, 1)
    assert bytes(out).endswith(b"\xff\xff")


def test_response_header_v1_has_tagged_fields() -> None:
    out = bytearray()
    ResponseHeader(5).encode_into(out, 1)
    assert bytes(out) == b"\x00\x00\x00\x05\x00"
    assert ResponseHeader.decode(b"\x00\x00\x00\x05", 0) == (ResponseHeader(5), 4)


def test_every_code_up_to_133_has_a_class() -> None:
    for code in (-1, *range(1, 134)):
        cls = error_for_code(code)
        assert cls.code == code
        assert cls.__name__.endswith("Error")
        assert cls.default_message
    assert len(KafkaError.registry) == 134


def test_names_flags_and_messages_follow_kafka() -> None:
    assert error_for_code(3) is e.UnknownTopicOrPartitionError
    assert e.UnknownTopicOrPartitionError.retriable
    assert not e.TopicAlreadyExistsError.retriable
    assert e.NotCoordinatorError.retriable
    assert e.UnsupportedVersionError.code == 35
    assert e.UnsupportedVersionError.default_message == "The version of API is not supported."
    assert e.TransactionAbortableError.code == 120


def test_raise_for_code() -> None:
    raise_for_code(0)
    with pytest.raises(e.NotLeaderOrFollowerError) as info:
        raise_for_code(6, "moved")
    assert info.value.message == "moved"
    assert info.value.retriable
    with pytest.raises(e.UnknownServerError, match="unknown error code 999"):
        raise_for_code(999)
    with pytest.raises(ValueError, match="no error"):
        error_for_code(0)
