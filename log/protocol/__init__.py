"""Sans-I/O Kafka wire protocol: primitives, declared messages, headers,
errors, and a connection state machine shared by the broker and the client.

Nothing here does I/O or imports asyncio; sockets live one layer up and only
shuttle bytes through a :class:`Connection`.

Declaring a message
-------------------
Each Kafka message is declared once, as a class, in
``tidal.log.protocol.messages.<api>``; encoders and decoders are compiled
from the declaration once per version. Fields are listed in wire order with
:func:`F`, versions written as in Kafka's message JSON (``"3+"``, ``"0-4"``)::

    from tidal.log.protocol import F, Request, Response, Struct, array
    from tidal.log.protocol.types import INT16, INT32, INT64, STRING

    class OffsetDeletePartition(Struct):
        partition_index: int = F(INT32)

    class OffsetDeleteTopic(Struct):
        name: str = F(STRING)
        partitions: list[OffsetDeletePartition] = F(array(OffsetDeletePartition))

    class OffsetDeleteRequest(Request, api_key=47, valid_versions=(0, 0)):
        group_id: str = F(STRING)
        topics: list[OffsetDeleteTopic] = F(array(OffsetDeleteTopic))

    body = OffsetDeleteRequest(group_id="g", topics=[]).encode(0)
    same = OffsetDeleteRequest.decode(body, 0)

The rules, mirroring Kafka's generator:

* ``versions=`` (default ``"0+"``): versions that carry the field. In other
  versions a decoder fills in the default, and an encoder raises
  :class:`ProtocolEncodeError` for a non-default value unless ``ignorable=True``.
* ``nullable_versions=``: where the field may be ``None`` (``NULLABLE_*``
  types are nullable wherever present).
* ``tag=`` and ``tagged_versions=``: a KIP-482 tagged field, written only
  when it differs from its default; unknown tags are kept and written back.
* ``default=`` / ``default_factory=``: the value in versions without the
  field and the constructor default; without one the constructor requires
  the argument (mypy checks constructors, the classes are dataclass-like).
* ``flexible_versions=N`` on the message: from version N on, strings, bytes,
  records and arrays use compact encodings and every struct ends with a
  tagged-field section; header versions follow (see ``_headers.py``).
* Nested structs are classes of their own in the same module, named after
  Kafka's (``PartitionProduceData``); their versions are message versions.

Then add the API to ``messages.API_SPECS`` (its advertised range); the
broker's ApiVersions answer, the connection and the round-trip property tests
all read that registry.

Module map: ``_types`` (primitives), ``_schema`` (the language),
``_compiler``/``_codegen`` (source generation), ``_headers``,
``_exceptions``/``_errors*``/``errors`` (one class per error code),
``_connection`` (the state machine), ``_chunks`` (records kept out of line
for ``sendfile``), ``_pair`` (in-memory pair for tests),
``messages`` (declarations and registry).
"""

from tidal.log.protocol import errors, messages, types
from tidal.log.protocol._chunks import Piece, PiecesBuffer, RecordsChunk
from tidal.log.protocol._compiler import Codec, codec_for, generated_source
from tidal.log.protocol._connection import (
    DEFAULT_MAX_FRAME_SIZE,
    NEED_DATA,
    Connection,
    ConnectionClosed,
    Event,
    NeedData,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
    Role,
    UnsupportedRequest,
)
from tidal.log.protocol._exceptions import (
    KafkaError,
    ProtocolDecodeError,
    ProtocolEncodeError,
    ProtocolError,
    error_for_code,
    raise_for_code,
)
from tidal.log.protocol._headers import (
    RequestHeader,
    ResponseHeader,
    request_header_version,
    response_header_version,
)
from tidal.log.protocol._pair import ConnectionPair
from tidal.log.protocol._schema import (
    F,
    FieldSpec,
    Message,
    Request,
    Response,
    Struct,
    array,
)
from tidal.log.protocol._types import DEFAULT_LIMITS, DecodeLimits
from tidal.log.protocol.messages import API_SPECS, ApiSpec, api_version_entries

__all__ = [
    "API_SPECS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_FRAME_SIZE",
    "NEED_DATA",
    "ApiSpec",
    "Codec",
    "Connection",
    "ConnectionClosed",
    "ConnectionPair",
    "DecodeLimits",
    "Event",
    "F",
    "FieldSpec",
    "KafkaError",
    "Message",
    "NeedData",
    "Piece",
    "PiecesBuffer",
    "ProtocolDecodeError",
    "ProtocolEncodeError",
    "ProtocolError",
    "ProtocolViolation",
    "RecordsChunk",
    "Request",
    "RequestHeader",
    "RequestReceived",
    "Response",
    "ResponseHeader",
    "ResponseReceived",
    "Role",
    "Struct",
    "UnsupportedRequest",
    "api_version_entries",
    "array",
    "codec_for",
    "error_for_code",
    "errors",
    "generated_source",
    "messages",
    "raise_for_code",
    "request_header_version",
    "response_header_version",
    "types",
]
