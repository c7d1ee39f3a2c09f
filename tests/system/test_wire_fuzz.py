"""Fuzz the broker over real sockets: garbage, mutated valid frames, hostile requests.

One broker (``EmbeddedBroker`` on a thread of its own, so a stuck broker
cannot stall the test's deadlines) takes batches of cases, each on its own
connection:

1. garbage: length prefixes negative, zero, short, huge or over the limit,
   and random bodies, some behind a real request header;
2. mutated valid frames: requests captured from real clients
   (``tests/log/protocol/vectors``) and requests our encoder builds for every
   API of ``API_SPECS`` at several versions from hypothesis-drawn values, with
   bytes flipped, cut and added, the length prefix, an inner length, the api
   key or version changed, correlation ids repeated, and the bytes written in
   pieces;
3. valid but hostile requests: huge arrays, negative partitions, enormous
   ``max_bytes``, unknown topics, corrupt batches (some with a correct CRC),
   absurd group timeouts, pipelines past the in-flight limit, and
   connections dropped (FIN or RST) inside a frame.

The oracle is the codec: a case's bytes are first fed to a broker-side
``Connection`` like the broker's, which tells which requests the broker
decodes and must answer, in order, and whether it must close the connection.
Each case then has a short deadline to get those answers (each must decode)
or that close. After each batch no log record may be at ERROR (a handler,
encoder or callback failure), a close must have been logged with the peer,
no fuzz connection may linger, a fresh confluent-kafka producer and consumer
must round-trip records, and the records acknowledged before the fuzzing
must read back unchanged.

The seed is fixed; ``TIDAL_FUZZ_SEED=<n>`` replays another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tidal.log.broker import EmbeddedBroker, EmbeddedBrokerThread
from tidal.log.protocol import (
    API_SPECS,
    NEED_DATA,
    ApiSpec,
    Connection,
    ProtocolEncodeError,
    ProtocolViolation,
    Request,
    RequestHeader,
    RequestReceived,
    Response,
    ResponseHeader,
    Role,
    Struct,
    UnsupportedRequest,
    request_header_version,
    response_header_version,
)
from tidal.log.protocol._schema import ArrayOf, FieldSpec, in_range
from tidal.log.protocol.messages import (
    AlterConfigsRequest,
    ApiVersionsRequest,
    CreatePartitionsRequest,
    CreateTopicsRequest,
    DeleteRecordsRequest,
    DeleteTopicsRequest,
    FetchRequest,
    HeartbeatRequest,
    IncrementalAlterConfigsRequest,
    JoinGroupRequest,
    ListOffsetsRequest,
    MetadataRequest,
    OffsetCommitRequest,
    OffsetDeleteRequest,
    ProduceRequest,
    SyncGroupRequest,
)
from tidal.log.protocol.messages.create_partitions import CreatePartitionsTopic
from tidal.log.protocol.messages.create_topics import CreatableTopic, CreatableTopicConfig
from tidal.log.protocol.messages.fetch import FetchPartition, FetchTopic
from tidal.log.protocol.messages.join_group import JoinGroupRequestProtocol
from tidal.log.protocol.messages.list_offsets import ListOffsetsPartition, ListOffsetsTopic
from tidal.log.protocol.messages.metadata import MetadataRequestTopic
from tidal.log.protocol.messages.offset_commit import (
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from tidal.log.protocol.messages.produce import PartitionProduceData, TopicProduceData
from tidal.log.protocol.types import Primitive
from tidal.log.records import SimpleRecord, crc32c, encode_batch

SEED = int(os.environ.get("TIDAL_FUZZ_SEED", "3023"))
BATCHES = 4
CASES_PER_BATCH = 160
#: Seconds a case gets to be answered or closed once its bytes are written
#: (passing cases take well under 0.3 s; only a hang waits this long).
CASE_TIMEOUT = 5.0
CONCURRENCY = 32
MAX_FRAME = 1 << 20
PRECIOUS = "fuzz-precious"
#: Our own topics; a fuzz case that would delete or reshape them is redrawn.
OWN_PREFIX = "fuzz-"
ADMIN_REQUESTS = (
    CreateTopicsRequest, DeleteTopicsRequest, DeleteRecordsRequest, CreatePartitionsRequest,
    AlterConfigsRequest, IncrementalAlterConfigsRequest, OffsetDeleteRequest,
)  # fmt: skip
VECTORS = Path(__file__).parents[1] / "log" / "protocol" / "vectors"
BROKER_CONFIG = {
    "socket.request.max.bytes": MAX_FRAME,
    "group.initial.rebalance.delay.ms": 0,
    "offsets.topic.num.partitions": 4,
    "num.partitions": 1,
}
_SIZE = struct.Struct(">i")
_INT_EXTREMES = (-(2**31), -2, -1, 0, 1, 0x7FFF, 0x8000, 0xFFFF, 2**24, 2**31 - 1)

Check = Callable[[list[Response]], str | None]


# ---- cases and what the broker must do with them ---------------------------------


@dataclass
class Case:
    """The bytes of one connection, written in ``chunks`` (bytes, pause after)."""

    name: str
    chunks: list[tuple[bytes, float]]
    #: Hang up right after writing: "fin", "rst" (SO_LINGER 0) or None.
    hangup: str | None = None
    #: Answers the broker must send even for requests that may wait.
    must_answer: bool = False
    check: Check | None = None

    @property
    def data(self) -> bytes:
        return b"".join(chunk for chunk, _ in self.chunks)


@dataclass
class Expected:
    """What a broker-side ``Connection`` makes of a case's bytes."""

    #: (correlation id, api key, version) of every answer, in order.
    answers: list[tuple[int, int, int]] = field(default_factory=list)
    #: How many of ``answers`` must arrive (later ones may wait on a long poll or a group).
    required: int = 0
    closes: bool = False
    #: An acks=0 Produce that fails closes the connection once this many answers are out.
    may_close_after: int | None = None
    reason: str = ""


def might_wait(request: Request) -> bool:
    """Whether the broker may rightly hold the answer back: a long poll, or a
    group member waiting for the others."""
    if isinstance(request, FetchRequest):
        return request.max_wait_ms > 500
    return isinstance(request, JoinGroupRequest | SyncGroupRequest)


def predict(case: Case, specs: dict[int, ApiSpec]) -> tuple[Expected, list[Request]]:
    """Feed the case to a broker-side codec: what must the broker answer or do."""
    conn = Connection(Role.BROKER, apis=specs, max_frame_size=MAX_FRAME)
    conn.receive_data(case.data)
    if case.hangup:
        conn.receive_data(b"")
    expected, held = Expected(), False
    requests: list[Request] = []
    while (event := conn.next_event()) is not NEED_DATA:
        if isinstance(event, ProtocolViolation):
            expected.closes, expected.reason = True, event.reason
            break
        if isinstance(event, UnsupportedRequest):
            if event.header.api_key != ApiVersionsRequest.api_key:
                expected.closes, expected.reason = True, event.reason
                break
            expected.answers.append((event.header.correlation_id, event.header.api_key, 0))
        elif isinstance(event, RequestReceived):
            header, request = event.header, event.request
            requests.append(request)
            if isinstance(request, ProduceRequest) and request.acks == 0:
                if expected.may_close_after is None:
                    expected.may_close_after = len(expected.answers)
                continue
            expected.answers.append((header.correlation_id, header.api_key, header.api_version))
            held = held or (not case.must_answer and might_wait(request))
        else:  # ConnectionClosed at a frame boundary
            break
        if not held:
            expected.required = len(expected.answers)
    return expected, requests


def too_costly(request: Request) -> bool:
    """Valid requests the test will not send: they would touch our own topics or
    legitimately cost more than the time budget (thousands of partitions)."""
    if isinstance(request, CreateTopicsRequest) and not request.validate_only:
        counts = [t.num_partitions for t in request.topics]
    elif isinstance(request, CreatePartitionsRequest) and not request.validate_only:
        counts = [t.count for t in request.topics]
    else:
        counts = []
    if any(16 < count <= 100_000 for count in counts):
        return True
    if isinstance(request, ADMIN_REQUESTS):
        text = repr(request)
        return OWN_PREFIX in text or "__consumer_offsets" in text
    return False


# ---- valid frames: captures from real clients and our encoder ----------------------


def frame(request: Request, version: int, correlation_id: int, client_id: str | None) -> bytes:
    header = RequestHeader(request.api_key, version, correlation_id, client_id)
    out = bytearray(4)
    header.encode_into(out, request_header_version(version, request.flexible_from))
    request.encode_into(out, version)
    _SIZE.pack_into(out, 0, len(out) - 4)
    return bytes(out)


def golden_frames() -> list[bytes]:
    index = json.loads((VECTORS / "index.json").read_text())
    bodies = [(VECTORS / e["file"]).read_bytes() for e in index if e["kind"] == "request"]
    return [_SIZE.pack(len(body)) + body for body in bodies]


VALID_BATCHES = [
    encode_batch([SimpleRecord(b"v", key=b"k")]),
    encode_batch([SimpleRecord(b"x" * 40, key=None), SimpleRecord(b"", key=b"")]),
]
_FIXED = {
    "b": st.integers(-(2**7), 2**7 - 1),
    "h": st.integers(-(2**15), 2**15 - 1),
    "i": st.integers(-(2**31), 2**31 - 1),
    "q": st.integers(-(2**63), 2**63 - 1),
    "H": st.integers(0, 2**16 - 1),
    "?": st.booleans(),
    "d": st.floats(allow_nan=False),
}
_NAMES = st.sampled_from(["fuzzed", "fuzzed-2", "g", ""]) | st.text(max_size=8)


def _type_strategy(typ: Any, version: int) -> st.SearchStrategy[Any]:
    if isinstance(typ, ArrayOf):
        return st.lists(_type_strategy(typ.element, version), max_size=3)
    if isinstance(typ, type) and issubclass(typ, Struct):
        return struct_strategy(typ, version)
    assert isinstance(typ, Primitive)
    if typ.family == "fixed":
        return _FIXED[typ.fmt]  # type: ignore[attr-defined]
    if typ.family == "string":
        return _NAMES
    if typ.family == "records":
        return st.sampled_from(VALID_BATCHES) | st.binary(max_size=80)
    if typ.family == "bytes":
        return st.binary(max_size=16)
    if typ.family == "uuid":
        return st.uuids()
    raise AssertionError(typ)


def _field_strategy(spec: FieldSpec, version: int) -> st.SearchStrategy[Any]:
    if not in_range(version, spec.versions):
        return st.builds(spec.absent_value)
    value = _type_strategy(spec.type, version)
    return st.none() | value if in_range(version, spec.nullable_versions) else value


def struct_strategy(cls: type[Struct], version: int) -> st.SearchStrategy[Any]:
    fields = {spec.name: _field_strategy(spec, version) for spec in cls.fields}
    return st.builds(cls, **fields)


def _versions(spec: ApiSpec) -> list[int]:
    low, high = spec.request.valid_versions
    served = spec.accepted_min if spec.accepted_min is not None else spec.min_version
    return sorted({low, served, (served + spec.max_version) // 2, spec.max_version, high})


def encoder_frames(seed: int, examples: int = 2) -> list[bytes]:
    """Frames of every API at several versions, fields drawn by hypothesis."""
    frames: list[bytes] = []
    for spec in API_SPECS.values():
        for version in _versions(spec):
            _draw_frames(frames, spec.request, version, seed + 1000 * spec.api_key + version,
                         examples)  # fmt: skip
    return frames


def _draw_frames(
    frames: list[bytes], cls: type[Request], version: int, seed: int, examples: int
) -> None:
    @hypothesis_seed(seed)
    @settings(
        database=None, deadline=None, max_examples=examples,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(struct_strategy(cls, version), st.none() | _NAMES)
    def draw(request: Request, client_id: str | None) -> None:
        with contextlib.suppress(ProtocolEncodeError):
            frames.append(frame(request, version, len(frames), client_id))

    draw()


# ---- mutations ---------------------------------------------------------------------


def _resize(data: bytearray) -> bytearray:
    if len(data) >= 4:
        _SIZE.pack_into(data, 0, len(data) - 4)
    return data


def mutate(rng: random.Random, frame_: bytes, pool: list[bytes]) -> tuple[bytes, str]:
    data = bytearray(frame_)
    op = rng.choice(MUTATIONS) if len(data) > 12 else extend
    return bytes(op(rng, data, pool)), op.__name__


def flip(rng: random.Random, data: bytearray, pool: list[bytes]) -> bytearray:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(4, len(data))
        data[at] = rng.randrange(256) if rng.random() < 0.5 else data[at] ^ (1 << rng.randrange(8))
    return data


def truncate(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    cut = data[: rng.randrange(4, len(data))]
    return _resize(cut) if rng.random() < 0.7 else cut  # else: the size still claims more


def extend(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    data += rng.randbytes(rng.randint(1, 64))
    return _resize(data) if rng.random() < 0.7 else data  # else: junk opens the next frame


def insert(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    at = rng.randrange(4, len(data) + 1)
    data[at:at] = rng.choice([rng.randbytes(rng.randint(1, 8)), b"\xff" * rng.randint(1, 6)])
    return _resize(data)


def delete(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    at = rng.randrange(4, len(data))
    del data[at : at + rng.randint(1, 8)]
    return _resize(data)


def lie_about_a_length(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    """Overwrite an int16 or int32 anywhere in the body: string and array
    lengths, counts, sizes, timeouts and partitions all live in such slots."""
    width = rng.choice((2, 4))
    if len(data) < 4 + width:
        return data
    at = rng.randrange(4, len(data) - width + 1)
    value = rng.choice(_INT_EXTREMES)
    data[at : at + width] = (value & (1 << (8 * width)) - 1).to_bytes(width, "big")
    return data


def set_size(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    n = len(data) - 4
    size = rng.choice([-1, -(2**31), 0, 1, 7, n - 1, n + 1, MAX_FRAME, MAX_FRAME + 1, 2**31 - 1])
    _SIZE.pack_into(data, 0, size)
    return data


def set_api_key(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    if len(data) >= 6:
        key = rng.choice([-1, 7, 67, 32767, rng.randrange(70), rng.choice(list(API_SPECS))])
        struct.pack_into(">h", data, 4, key)
    return data


def set_api_version(rng: random.Random, data: bytearray, _: list[bytes]) -> bytearray:
    if len(data) >= 8:
        version = rng.choice([-1, 0, 1, 5, 9, 12, 13, 127, 32767, rng.randrange(20)])
        struct.pack_into(">h", data, 6, version)
    return data


def splice(rng: random.Random, data: bytearray, pool: list[bytes]) -> bytearray:
    other = rng.choice(pool)
    head = data[: rng.randrange(4, len(data) + 1)]
    return _resize(head + other[rng.randrange(4, len(other) + 1) :])


MUTATIONS = [
    flip, flip, truncate, extend, insert, delete, lie_about_a_length, lie_about_a_length,
    set_size, set_api_key, set_api_version, splice,
]  # fmt: skip


def in_pieces(rng: random.Random, data: bytes) -> list[tuple[bytes, float]]:
    """One write, or several at random cuts with short pauses (partial frames)."""
    if rng.random() < 0.6 or len(data) < 2:
        return [(data, 0.0)]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 12))))
    bounds = [0, *cuts, len(data)]
    return [(data[a:b], rng.choice((0.0, 0.001, 0.005))) for a, b in itertools.pairwise(bounds)]


def mutated_case(rng: random.Random, pool: list[bytes]) -> Case:
    """One to four frames from ``pool`` on one connection, most of them mutated."""
    frames: list[bytes] = []
    names: list[str] = []
    correlation_id = rng.randrange(2**31)
    for _ in range(rng.randint(1, 4)):
        data = bytearray(rng.choice(pool))
        # Often the id of the frame before (a duplicate), else an extreme or a new one.
        correlation_id = rng.choice([correlation_id] * 3 + [-1, 2**31 - 1, rng.randrange(2**31)])
        struct.pack_into(">i", data, 8, correlation_id)
        if rng.random() < 0.6:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                mutated, name = mutate(rng, bytes(data), pool)
                data, names = bytearray(mutated), [*names, name]
        frames.append(bytes(data))
    hangup = rng.choice([None, None, None, "fin", "rst"])
    return Case("mutated:" + "+".join(names or ["none"]), in_pieces(rng, b"".join(frames)), hangup)


def garbage_case(rng: random.Random) -> Case:
    """Random bytes, behind a random, extreme, honest or realistic prefix."""
    kind = rng.randrange(4)
    body = rng.randbytes(rng.randint(0, 300))
    if kind == 0:  # no structure at all
        data = rng.randbytes(rng.randint(1, 64))
    elif kind == 1:  # an extreme size prefix
        size = rng.choice([-1, -(2**31), 0, 3, 7, MAX_FRAME + 1, 2**31 - 1, rng.randrange(2**31)])
        data = _SIZE.pack(size) + body
    elif kind == 2:  # an honest size around random bytes
        data = _SIZE.pack(len(body)) + body
    else:  # a header this broker serves, then random bytes
        spec = rng.choice(list(API_SPECS.values()))
        version = rng.randint(spec.min_version, spec.max_version)
        header = RequestHeader(spec.api_key, version, rng.randrange(2**31), "garbage")
        out = bytearray()
        header.encode_into(out, request_header_version(version, spec.flexible_from))
        data = _SIZE.pack(len(out) + len(body)) + out + body
    return Case(f"garbage:{kind}", in_pieces(rng, data), rng.choice([None, None, "fin", "rst"]))


# ---- valid but hostile requests ----------------------------------------------------


def _errors(message: Any, top: bool = True) -> list[int]:
    """The error codes of a response: its per-topic, -partition or -resource
    ones where it has them, else its own."""
    codes = []
    for spec in type(message).fields:
        value = getattr(message, spec.name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Struct):
                codes += _errors(item, top=False)
    own = [message.error_code] if hasattr(message, "error_code") else []
    return codes or own if top else own + codes


def all_fail(*codes: int) -> Check:
    """Every error code in the last answer is non-zero (one of ``codes`` if given)."""

    def check(responses: list[Response]) -> str | None:
        found = _errors(responses[-1])
        bad = [c for c in found if c == 0 or (codes and c not in codes)]
        return f"error codes {found}, expected {codes or 'non-zero'}" if bad or not found else None

    return check


def hostile(request: Request, version: int, check: Check | None = None, **kw: Any) -> Case:
    name = f"hostile:{type(request).__name__}-v{version}"
    return Case(name, [(frame(request, version, 7, "hostile"), 0.0)], check=check, **kw)


def fixed_crc(batch: bytearray) -> bytes:
    struct.pack_into(">I", batch, 17, crc32c(bytes(batch[21:])))
    return bytes(batch)


def corrupt_batches(rng: random.Random) -> Iterator[tuple[str, bytes, bool]]:
    """(what, record set, must it be refused) from one good three-record batch.
    Header offsets: length 8, magic 16, crc 17, attributes 21, last offset
    delta 23, producer id 43, base sequence 53, record count 57, records 61."""
    good = encode_batch([SimpleRecord(b"value-%d" % i, key=b"k") for i in range(3)])

    def edit(at: int, fmt: str, value: int, crc: bool = True) -> bytes:
        batch = bytearray(good)
        struct.pack_into(fmt, batch, at, value)
        return fixed_crc(batch) if crc else bytes(batch)

    records = bytearray(good)
    records[61:] = rng.randbytes(len(good) - 61)
    yield "random bytes", rng.randbytes(rng.randint(1, 120)), True
    yield "bad crc", edit(61 + rng.randrange(len(good) - 61), ">B", rng.randrange(256), False), True
    yield "records garbage, crc fixed", fixed_crc(records), False
    yield "varint of ten 0xff", fixed_crc(bytearray(good[:61] + b"\xff" * 10)), True
    yield "record count", edit(57, ">i", rng.choice([-1, 0, 4, 2**31 - 1])), True
    yield "last offset delta", edit(23, ">i", rng.choice([-1, 7, 2**31 - 1])), True
    yield "short batch length", edit(8, ">i", rng.choice([-1, 0, 10])), True
    yield "long batch length", edit(8, ">i", len(good) + 100), True
    yield "magic", edit(16, ">b", rng.choice([0, 1, 3, -1])), True
    yield "unknown attribute bits", edit(21, ">h", 0x4000), True
    yield "control batch", edit(21, ">h", 0x20), True
    codec = rng.randint(1, 4)
    compressed = bytearray(good[:61] + rng.randbytes(40))
    struct.pack_into(">h", compressed, 21, codec)
    struct.pack_into(">i", compressed, 8, len(compressed) - 12)
    yield f"codec {codec} over garbage", fixed_crc(compressed), True
    yield "partial second batch", good + good[:30], True
    unknown_producer = bytearray(good)
    struct.pack_into(">qhi", unknown_producer, 43, 987_654_321, 0, 17)
    # Kafka takes this too: an unknown producer may start anywhere (KIP-360).
    yield "sequence 17 of an unknown producer", fixed_crc(unknown_producer), False


def produce_cases(rng: random.Random) -> Iterator[Case]:
    """Produce to the precious topic: corrupt batches, bad acks and partitions."""
    for what, records, refused in corrupt_batches(rng):
        version = rng.randint(3, 11)
        request = ProduceRequest(
            acks=rng.choice([-1, 1]), timeout_ms=1000,
            topic_data=[TopicProduceData(name=PRECIOUS, partition_data=[
                PartitionProduceData(index=0, records=records)])],
        )  # fmt: skip
        case = hostile(request, version, all_fail() if refused else None)
        case.name += f" ({what})"
        yield case
    quiet = ProduceRequest(
        acks=0, timeout_ms=1000,
        topic_data=[TopicProduceData(name=PRECIOUS, partition_data=[
            PartitionProduceData(index=0, records=b"\0" * 70)])],
    )  # fmt: skip
    yield hostile(quiet, 9)
    for index, acks in ((-1, -1), (2**31 - 1, 1), (0, 5), (0, -2)):
        request = ProduceRequest(
            acks=acks, timeout_ms=-1,
            topic_data=[TopicProduceData(name=PRECIOUS, partition_data=[
                PartitionProduceData(index=index, records=VALID_BATCHES[0])])],
        )  # fmt: skip
        yield hostile(request, rng.randint(3, 11), all_fail())
    nothing = [TopicProduceData(name=PRECIOUS, partition_data=[
        PartitionProduceData(index=0, records=None)])]  # fmt: skip
    yield hostile(ProduceRequest(acks=1, timeout_ms=10, topic_data=nothing), 9, all_fail())


def reads_everything(responses: list[Response]) -> str | None:
    """The Fetch of 2**31-1 bytes got the precious partition's records."""
    [topic] = responses[-1].responses  # type: ignore[attr-defined]
    [partition] = topic.partitions
    if partition.error_code or len(partition.records or b"") < 2000:
        return f"error {partition.error_code}, records {partition.records!r:.80}"
    return None


def fetch_cases(rng: random.Random, n: int) -> Iterator[Case]:
    """Fetch everything, nothing, from nowhere, out of range, and long polls."""

    def fetch(max_wait: int, min_bytes: int, topics: list[FetchTopic]) -> FetchRequest:
        return FetchRequest(
            max_wait_ms=max_wait, min_bytes=min_bytes, max_bytes=2**31 - 1, topics=topics
        )

    def part(partition: int, offset: int = 0) -> FetchPartition:
        return FetchPartition(
            partition=partition, fetch_offset=offset, partition_max_bytes=2**31 - 1
        )

    version = rng.randint(4, 12)
    yield hostile(fetch(0, 0, [FetchTopic(topic=PRECIOUS, partitions=[part(0)])]), version,
                  reads_everything)  # fmt: skip
    odd = [FetchTopic(topic=PRECIOUS, partitions=[part(-1), part(2**31 - 1)]),
           FetchTopic(topic=f"nowhere-{n}", partitions=[part(0)]),
           FetchTopic(topic="", partitions=[part(0)])]  # fmt: skip
    yield hostile(fetch(0, 1, odd), version, all_fail())
    for offset in (-5, 2**63 - 1):
        topics = [FetchTopic(topic=PRECIOUS, partitions=[part(0, offset)])]
        yield hostile(fetch(10, 1, topics), version, all_fail(1))  # OFFSET_OUT_OF_RANGE
    # A negative wait is no wait, whatever min_bytes asks for.
    yield hostile(fetch(-1, 2**31 - 1, [FetchTopic(topic="fuzz-idle", partitions=[part(0, 1)])]),
                  version, must_answer=True)  # fmt: skip
    # Long polls past the in-flight limit (reading pauses), then the client goes
    # away: the broker notices once the polls end, not before (as Kafka, which
    # does not read a connection while a request of it is in flight).
    poll = frame(fetch(1500, 2**31 - 1, [FetchTopic(topic="fuzz-idle", partitions=[
        part(0, 1)])]), version, 1, "poller")  # fmt: skip
    yield Case("hostile:120 long polls then hang up", [(poll * 120, 0.05)], hangup="fin")
    yield Case("hostile:one long poll then reset", [(poll, 0.05)], hangup="rst")


def group_cases(rng: random.Random, n: int) -> Iterator[Case]:
    """Absurd timeouts, no protocols, ghosts, oversized commit metadata."""
    protocol = [JoinGroupRequestProtocol(name="range", metadata=b"\0" * 10)]
    for session, rebalance in ((2**31 - 1, 2**31 - 1), (-1, -1), (0, 2**31 - 1)):
        join = JoinGroupRequest(
            group_id=f"absurd-{n}-{session}", session_timeout_ms=session,
            rebalance_timeout_ms=rebalance, member_id="", protocol_type="consumer",
            protocols=protocol,
        )  # fmt: skip
        yield hostile(join, rng.randint(0, 9), all_fail(26), must_answer=True)
    empty = JoinGroupRequest(
        group_id=f"empty-{n}", session_timeout_ms=10_000, rebalance_timeout_ms=2**31 - 1,
        member_id="", protocol_type="", protocols=[],
    )  # fmt: skip
    yield hostile(empty, 3, all_fail(), must_answer=True)
    beat = HeartbeatRequest(group_id=f"nobody-{n}", generation_id=-1, member_id="ghost")
    yield hostile(beat, rng.randint(0, 4), all_fail())
    partitions = [
        OffsetCommitRequestPartition(partition_index=0, committed_offset=1,
                                     committed_metadata="m" * 5000),
        OffsetCommitRequestPartition(partition_index=-1, committed_offset=-5),
    ]  # fmt: skip
    commit = OffsetCommitRequest(
        group_id=f"commit-{n}", generation_id_or_member_epoch=-1, member_id="",
        topics=[OffsetCommitRequestTopic(name=PRECIOUS, partitions=partitions)],
    )  # fmt: skip
    yield hostile(commit, rng.randint(2, 9), all_fail())


def admin_cases(rng: random.Random, n: int) -> Iterator[Case]:
    """Impossible topics, partitions and offsets; huge and invalid Metadata."""

    def topic(name: str, partitions: int = 1, factor: int = 1, **config: str) -> CreatableTopic:
        configs = [CreatableTopicConfig(name=k.replace("_", "."), value=v)
                   for k, v in config.items()]  # fmt: skip
        return CreatableTopic(name=name, num_partitions=partitions, replication_factor=factor,
                              configs=configs)  # fmt: skip

    bad = [
        topic(f"fuzz-huge-{n}", 2**31 - 1), topic(f"fuzz-over-{n}", 100_001),
        topic(f"fuzz-zero-{n}", 0), topic(f"fuzz-negative-{n}", -5),
        topic(f"fuzz-factor-{n}", 1, 3), topic("bad name!"), topic("a" * 250), topic(".."),
        topic(f"fuzz-cfg-{n}", retention_ms="abc"), topic(f"fuzz-cfg2-{n}", no_such_config="1"),
    ]  # fmt: skip
    create = CreateTopicsRequest(topics=bad, timeout_ms=-1, validate_only=rng.random() < 0.5)
    yield hostile(create, rng.randint(2, 7), all_fail())
    made = CreateTopicsRequest(topics=[topic(f"fuzz-grow-{n}")], timeout_ms=1000)
    grow = CreatePartitionsRequest(
        topics=[CreatePartitionsTopic(name=f"fuzz-grow-{n}", count=2**31 - 1),
                CreatePartitionsTopic(name=f"nowhere-{n}", count=2)],
        timeout_ms=1000,
    )  # fmt: skip
    frames = frame(made, 5, 1, "admin") + frame(grow, 2, 2, "admin")
    yield Case("hostile:CreatePartitions to 2**31-1", [(frames, 0.0)], check=all_fail())
    topics = [ListOffsetsTopic(name=PRECIOUS, partitions=[
        ListOffsetsPartition(partition_index=p, timestamp=t)
        for p, t in ((0, -3), (0, -(2**63)), (0, 2**63 - 1), (-1, -1))])]  # fmt: skip
    yield hostile(ListOffsetsRequest(topics=topics), rng.randint(1, 7))
    many = [MetadataRequestTopic(name=f"nope-{n}-{i}") for i in range(3000)]
    yield hostile(MetadataRequest(topics=many, allow_auto_topic_creation=False), 12, all_fail(3))
    names = ["", ".", "..", "a" * 250, "bad name!", "ünïcode"]
    invalid = MetadataRequest(topics=[MetadataRequestTopic(name=t) for t in names])
    yield hostile(invalid, rng.randint(4, 12), all_fail(17))  # INVALID_TOPIC_EXCEPTION
    software = ApiVersionsRequest(client_software_name="!!", client_software_version="-")
    yield hostile(software, 3, all_fail(42))


def frame_cases(rng: random.Random) -> Iterator[Case]:
    """Hostile framing: huge counts and lengths, pipelines, dribbles, drops."""

    def framed(body: bytes | bytearray) -> list[tuple[bytes, float]]:
        return [(_SIZE.pack(len(body)) + body, 0.0)]

    flexible, classic = bytearray(), bytearray()
    RequestHeader(3, 12, 5, "raw").encode_into(flexible, 2)
    RequestHeader(3, 1, 5, "raw").encode_into(classic, 1)
    # Metadata topic counts of 2**24, 2**32-2, a six-byte varint; 2**31-1, 2**24, -2.
    for varint in (b"\x81\x80\x80\x08", b"\xff\xff\xff\xff\x0f", b"\xff" * 6):
        yield Case("hostile:huge compact array count", framed(flexible + varint))
    for count in (2**31 - 1, 2**24, -2):
        yield Case("hostile:huge array count", framed(classic + _SIZE.pack(count)))
    long_client_id = struct.pack(">hhih", 18, 0, 9, 32767) + b"short"
    yield Case("hostile:client id longer than the frame", framed(long_client_id))
    versions = bytearray(frame(ApiVersionsRequest(), 4, 3, "future"))
    struct.pack_into(">h", versions, 6, 127)
    yield Case("hostile:ApiVersions v127", [(bytes(versions), 0.0)], check=all_fail(35))
    hello = ApiVersionsRequest(client_software_name="p", client_software_version="1")
    pipeline = b"".join(frame(hello, 3, i, "pipe") for i in range(150))  # > MAX_IN_FLIGHT
    yield Case("hostile:150 pipelined requests", [(pipeline, 0.0)])
    same_id = frame(MetadataRequest(topics=[]), 1, 42, "dup") * 20
    yield Case("hostile:20 requests with one correlation id", [(same_id, 0.0)])
    dribble = frame(MetadataRequest(topics=None), 9, 8, "dribble")
    yield Case(
        "hostile:one byte at a time", [(dribble[i : i + 1], 0.002) for i in range(len(dribble))]
    )
    claim = _SIZE.pack(MAX_FRAME) + bytes(10_000)
    yield Case("hostile:max size frame, then reset", [(claim, 0.01)], hangup="rst")
    half = frame(ProduceRequest(acks=1, timeout_ms=10, topic_data=[TopicProduceData(
        name=PRECIOUS, partition_data=[PartitionProduceData(index=0, records=VALID_BATCHES[1])])]),
        9, 1, "dropper")  # fmt: skip
    for i in range(40):
        cut = rng.randrange(1, len(half))
        yield Case("hostile:dropped mid-frame", [(half[:cut], 0.0)], hangup=("fin", "rst")[i % 2])


def build_batch(
    rng: random.Random, generated: list[bytes], pool: list[bytes], specs: dict[int, ApiSpec], n: int
) -> list[tuple[Case, Expected]]:
    """The cases of batch ``n`` with what the broker must do with each: a share
    of the generated frames as they are, the hostile requests, then garbage
    and mutations up to ``CASES_PER_BATCH``."""
    cases = [
        *produce_cases(rng), *fetch_cases(rng, n), *group_cases(rng, n),
        *admin_cases(rng, n), *frame_cases(rng),
    ]  # fmt: skip
    for data in generated[n::BATCHES]:
        api_key, version = struct.unpack_from(">hh", data, 4)
        case = Case(f"generated:{API_SPECS[api_key].name} v{version}", in_pieces(rng, data))
        if not any(too_costly(r) for r in predict(case, specs)[1]):
            cases.append(case)
    planned = [(case, predict(case, specs)[0]) for case in cases]
    while len(planned) < len(cases) + CASES_PER_BATCH:
        case = garbage_case(rng) if rng.random() < 0.3 else mutated_case(rng, pool)
        expected, requests = predict(case, specs)
        if not any(too_costly(r) for r in requests):
            planned.append((case, expected))
    rng.shuffle(planned)
    return planned


# ---- running a case ----------------------------------------------------------------


@dataclass
class Outcome:
    peer: str = ""
    frames: list[bytes] = field(default_factory=list)
    closed: bool = False
    timed_out: bool = False
    error: str = ""


async def run_case(case: Case, expected: Expected, host: str, port: int, out: Outcome) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    out.peer = "{}:{}".format(*sock.getsockname()[:2])
    if case.hangup == "rst":  # close with a reset, not a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        try:
            for chunk, pause in case.chunks:
                writer.write(chunk)
                await writer.drain()
                if pause:
                    await asyncio.sleep(pause)
        except ConnectionError:
            out.closed = True
        if case.hangup:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CASE_TIMEOUT):
                await read_answers(reader, expected, out)
            return
        out.timed_out = True
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def read_answers(reader: asyncio.StreamReader, expected: Expected, out: Outcome) -> None:
    """Read answers until those required are in or, when a close is due, until it comes."""
    while expected.closes or len(out.frames) < expected.required:
        try:
            (size,) = _SIZE.unpack(await reader.readexactly(4))
            if not 0 <= size <= 1 << 28:
                out.error = f"an answer framed with size {size}"
                return
            out.frames.append(await reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            out.closed = True
            return


async def run_one(
    case: Case, expected: Expected, bootstrap: str, limit: asyncio.Semaphore
) -> Outcome:
    host, port = bootstrap.rsplit(":", 1)
    out = Outcome()
    async with limit:
        try:
            # A safety net over the per-case deadline: writes may block too.
            async with asyncio.timeout(CASE_TIMEOUT + 5 + sum(p for _, p in case.chunks)):
                await run_case(case, expected, host, int(port), out)
        except TimeoutError:
            out.timed_out = True
    return out


def decode_answer(body: bytes, api_key: int, version: int) -> Response:
    spec = API_SPECS[api_key]
    header_version = response_header_version(api_key, version, spec.flexible_from)
    _, pos = ResponseHeader.decode(body, header_version)
    return spec.response.decode(body, version, pos=pos)


def judge(case: Case, expected: Expected, out: Outcome) -> str | None:
    """Why the broker's handling of ``case`` is wrong, or None."""
    if case.hangup:
        return None  # only the lingering-connection check applies
    if out.error:
        return out.error
    if out.timed_out and not out.frames and not expected.answers and not expected.closes:
        return "the connection blocked the writes"
    responses = []
    for i, (body, (cid, key, version)) in enumerate(
        zip(out.frames, expected.answers, strict=False)
    ):
        got = _SIZE.unpack_from(body)[0] if len(body) >= 4 else None
        if got != cid:
            return f"answer {i} has correlation id {got}, request had {cid}"
        try:
            responses.append(decode_answer(body, key, version))
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            return f"answer {i} (api {key} v{version}) does not decode: {exc!r}"
    if len(out.frames) > len(expected.answers):
        return f"{len(out.frames)} answers to {len(expected.answers)} requests"
    if expected.closes and not out.closed:
        return f"not closed within {CASE_TIMEOUT} s; the codec says: {expected.reason}"
    may_close = expected.may_close_after is not None and len(out.frames) >= expected.may_close_after
    if not expected.closes and out.closed and not may_close:
        return f"closed after {len(out.frames)} of {len(expected.answers)} answers"
    if len(out.frames) < expected.required and not out.closed:
        return f"{len(out.frames)} of {expected.required} answers within {CASE_TIMEOUT} s (hang)"
    if case.check is not None and responses and len(responses) == len(expected.answers):
        return case.check(responses)
    return None


def describe(case: Case, reason: str) -> str:
    data = case.data
    shown = data[:200].hex() + ("..." if len(data) > 200 else "")
    return (f"{case.name}: {reason}\n    {len(data)} bytes in {len(case.chunks)} writes, "
            f"hangup={case.hangup}: {shown}")  # fmt: skip


# ---- the broker is still whole -----------------------------------------------------


def precious_records() -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]] | None]]:
    rng = random.Random(1)
    records = []
    for i in range(40):
        value = None if i % 13 == 12 else rng.randbytes(rng.choice((0, 10, 300, 5000)))
        key = None if i % 7 == 3 else b"key-%d" % i
        records.append((key, value, [("h", b"%d" % i), ("empty", b"")] if i % 3 else None))
    return records


def produce(bootstrap: str, topic: str, records: list[Any], compression: str = "none") -> list[int]:
    """Produce ``records`` (acks=all, idempotent); their offsets."""
    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
        "linger.ms": 5, "compression.type": compression,
    })  # fmt: skip
    reports: list[tuple[KafkaError | None, int | None]] = []
    for key, value, headers in records:
        producer.produce(
            topic, value=value, key=key, headers=headers,
            on_delivery=lambda err, msg: reports.append((err, msg.offset())),
        )  # fmt: skip
    remaining = producer.flush(20)
    del producer  # closes its connections now
    errors = [err for err, _ in reports if err is not None]
    assert remaining == 0, f"produce to {topic}: {remaining} records not acknowledged"
    assert not errors, f"produce to {topic}: {errors[:3]}"
    return [offset for _, offset in reports if offset is not None]


Read = tuple[int | None, bytes | None, bytes | None, Any]


def consume_all(bootstrap: str, topic: str) -> list[Read]:
    """Every record of partition 0 up to the end, through librdkafka."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "fuzz-reader",
        "enable.auto.commit": False, "enable.partition.eof": True,
    })  # fmt: skip
    consumer.assign([TopicPartition(topic, 0, 0)])
    records: list[Read] = []
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                return records
            assert error is None, f"consuming {topic}: {error}"
            records.append((msg.offset(), msg.key(), msg.value(), msg.headers()))
    finally:
        consumer.close()
    raise AssertionError(f"no end of {topic} within 20 s ({len(records)} records read)")


def health_failures(bootstrap: str, n: int, precious: list[Read]) -> list[str]:
    """A fresh producer and consumer are served; the records acknowledged before
    the fuzzing (and any the fuzzing added after them) read back."""
    topic = f"fuzz-check-{n}"
    records = [(b"k%d" % i, b"v%d" % i * (i + 1), [("n", b"%d" % i)]) for i in range(20)]
    try:
        offsets = produce(bootstrap, topic, records, ("none", "gzip", "lz4", "zstd")[n % 4])
        got = consume_all(bootstrap, topic)
        after = consume_all(bootstrap, PRECIOUS)
    except (AssertionError, KafkaException) as exc:
        return [f"clients are not served: {exc}"]
    failures = []
    if [(o, k, v, h) for o, (k, v, h) in zip(offsets, records, strict=True)] != got:
        failures.append(f"{topic} reads back {got!r:.300} for {records!r:.300}")
    if after[: len(precious)] != precious:
        lost = next(i for i, r in enumerate(precious) if i >= len(after) or after[i] != r)
        failures.append(f"{PRECIOUS} changed at offset {lost}: {after[lost : lost + 1]!r:.300}")
    return failures


async def lingering(broker: EmbeddedBrokerThread, peers: set[str]) -> set[str]:
    """Fuzz connections the broker still holds 5 s after the clients left."""

    async def open_peers() -> set[str]:
        return {session.peer for session in broker.embedded.server.sessions}

    left = peers
    for _ in range(50):
        future = asyncio.run_coroutine_threadsafe(open_peers(), broker.loop)
        open_now: set[str] = await asyncio.wait_for(asyncio.wrap_future(future), 5)
        left = peers & open_now
        if not left:
            break
        await asyncio.sleep(0.1)
    return left


def failure_records(records: list[logging.LogRecord]) -> list[str]:
    """Log records of a failure: at ERROR (a handler, encoder or callback that
    raised), or carrying a traceback. Bad input is logged at WARNING, without one."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        + (f"\n{logging.Formatter().formatException(r.exc_info)}" if r.exc_info else "")
        for r in records
        if r.levelno >= logging.ERROR or r.exc_info
    ]


def unlogged_closes(
    outcomes: list[tuple[Case, Expected, Outcome]], records: list[logging.LogRecord]
) -> list[str]:
    """Closes for bad input the broker did not log with the peer's address."""
    text = "\n".join(r.getMessage() for r in records if r.levelno >= logging.WARNING)
    return [
        describe(case, f"closed with no log line naming {out.peer}")
        for case, expected, out in outcomes
        if expected.closes
        and out.closed
        and not case.hangup
        and f"from {out.peer}:" not in text
        and f"from {out.peer} " not in text
    ]


@pytest.mark.slow
async def test_fuzzed_connections_never_break_the_broker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    generated = encoder_frames(SEED)
    pool = golden_frames() + generated
    replay = f"seed {SEED} (replay with TIDAL_FUZZ_SEED={SEED})"
    with EmbeddedBroker.sync(tmp_path / "data", BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        specs = broker.embedded.server.specs
        originals = precious_records()
        offsets = produce(bootstrap, PRECIOUS, originals[:20])
        offsets += produce(bootstrap, PRECIOUS, originals[20:], "zstd")
        produce(bootstrap, "fuzz-idle", [(None, b"x", None)])  # polled at its end
        precious: list[Read] = [
            (o, k, v, h) for o, (k, v, h) in zip(offsets, originals, strict=True)
        ]
        assert consume_all(bootstrap, PRECIOUS) == precious
        limit = asyncio.Semaphore(CONCURRENCY)
        for n in range(BATCHES):
            seen = len(caplog.records)
            planned = build_batch(rng, generated, pool, specs, n)
            outcomes = await asyncio.gather(
                *(run_one(case, expected, bootstrap, limit) for case, expected in planned)
            )
            results = [(c, e, o) for (c, e), o in zip(planned, outcomes, strict=True)]
            failures = [describe(c, why) for c, e, o in results if (why := judge(c, e, o))]
            try:
                left = await lingering(broker, {o.peer for o in outcomes if o.peer})
            except TimeoutError:
                pytest.fail(f"{replay}, batch {n}: the broker's loop stopped answering")
            failures += [describe(c, "still open at the broker") for c, _, o in results
                         if o.peer in left]  # fmt: skip
            records = caplog.records[seen:]
            failures += unlogged_closes(results, records)
            failures += failure_records(records)
            assert broker.loop.is_running(), f"{replay}: the broker's loop stopped"
            failures += health_failures(bootstrap, n, precious)
            assert not failures, (
                f"{replay}, batch {n} of {len(planned)} cases: {len(failures)} failures\n"
                + "\n".join(failures[:15])
            )
        seen = len(caplog.records)
    stopping = failure_records(caplog.records[seen:])
    assert not stopping, f"{replay}: failures while stopping\n" + "\n".join(stopping)
