"""The consumer protocol blobs, byte for byte against kafka-python's encoder."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.client.consumer import TopicPartition
from tidal.log.client.consumer._protocol import (
    Assignment,
    Subscription,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from tidal.log.protocol import ProtocolDecodeError

kp = pytest.importorskip(
    "kafka.protocol.consumer.metadata",
    reason="kafka-python is not installed: pip install kafka-python",
)
KpSub = kp.ConsumerProtocolSubscription
KpAssign = kp.ConsumerProtocolAssignment

topics = st.lists(st.text("abcxyz._-", min_size=1, max_size=8), unique=True, max_size=4)
owned = st.lists(
    st.builds(TopicPartition, st.sampled_from(["a", "b", "c"]), st.integers(0, 50)),
    unique=True,
    max_size=8,
)
user_data = st.one_of(st.none(), st.binary(max_size=16))


def _kp_owned(parts: list[TopicPartition]) -> list[object]:
    by_topic: dict[str, list[int]] = {}
    for tp in parts:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return [
        KpSub.TopicPartition(topic=t, partitions=sorted(p)) for t, p in sorted(by_topic.items())
    ]


@given(
    version=st.integers(0, 3),
    topics=topics,
    user_data=user_data,
    owned=owned,
    generation=st.integers(-1, 2**31 - 1),
    rack=st.one_of(st.none(), st.text("r0-9", max_size=5)),
)
def test_subscription_bytes_match_kafka_python(
    version: int,
    topics: list[str],
    user_data: bytes | None,
    owned: list[TopicPartition],
    generation: int,
    rack: str | None,
) -> None:
    ours = encode_subscription(Subscription(topics, user_data, owned, generation, rack), version)
    fields: dict[str, object] = {
        "version": version,
        "topics": sorted(topics),
        "user_data": user_data,
    }
    if version >= 1:
        fields["owned_partitions"] = _kp_owned(owned)
    if version >= 2:
        fields["generation_id"] = generation
    if version >= 3:
        fields["rack_id"] = rack
    assert ours == KpSub(**fields).encode()
    back = decode_subscription(ours)
    assert back.topics == sorted(topics)
    assert back.user_data == user_data
    assert back.owned_partitions == (sorted(owned) if version >= 1 else [])
    assert back.generation_id == (generation if version >= 2 else -1)
    assert back.rack_id == (rack if version >= 3 else None)


@given(version=st.integers(0, 3), owned=owned, user_data=user_data)
def test_assignment_bytes_match_kafka_python(
    version: int, owned: list[TopicPartition], user_data: bytes | None
) -> None:
    ours = encode_assignment(Assignment(owned, user_data), version)
    theirs = KpAssign(
        version=version,
        assigned_partitions=[
            KpAssign.TopicPartition(topic=t.topic, partitions=t.partitions)
            for t in _kp_owned(owned)
        ],
        user_data=user_data,
    ).encode()
    assert ours == theirs
    assert decode_assignment(ours) == Assignment(sorted(owned), user_data)


def test_reads_what_kafka_python_writes() -> None:
    blob = KpSub(
        version=3,
        topics=["t"],
        user_data=b"",
        owned_partitions=[KpSub.TopicPartition(topic="t", partitions=[2, 0])],
        generation_id=7,
        rack_id=None,
    ).encode()
    assert decode_subscription(blob) == Subscription(
        ["t"], b"", [TopicPartition("t", 2), TopicPartition("t", 0)], 7, None
    )


def test_newer_versions_read_with_the_newest_layout() -> None:
    v3 = encode_subscription(Subscription(["t"], None, [TopicPartition("t", 1)], 4, "r1"))
    v9 = b"\x00\x09" + v3[2:] + b"future fields"
    assert decode_subscription(v9) == decode_subscription(v3)


def test_empty_assignment_bytes_mean_no_partitions() -> None:
    assert decode_assignment(b"") == Assignment([])


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_decode_errors(data: bytes) -> None:
    for decode in (decode_subscription, decode_assignment):
        with contextlib.suppress(ProtocolDecodeError):
            decode(data)
