"""Hand-checked bytes of group, admin and transaction messages, against kafka-python.

Each test spells out the expected body field by field, then requires three
things of it: our encoder writes exactly those bytes, kafka-python's encoder
writes exactly those bytes (its JSON-driven 3.x classes, and its hand-written
``kafka.protocol.old`` classes where they have the version), and our decoder
reads them back to the same message. A real client's encoder is the oracle,
not our own decoder.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from tidal.log.protocol import Connection, Message, ProtocolEncodeError, Role
from tidal.log.protocol.messages import (
    CreateTopicsRequest,
    DescribeConfigsResponse,
    InitProducerIdRequest,
    JoinGroupRequest,
    OffsetFetchRequest,
    SyncGroupResponse,
)
from tidal.log.protocol.messages.create_topics import (
    CreatableReplicaAssignment,
    CreatableTopic,
    CreatableTopicConfig,
)
from tidal.log.protocol.messages.describe_configs import (
    DescribeConfigsResourceResult,
    DescribeConfigsResult,
    DescribeConfigsSynonym,
)
from tidal.log.protocol.messages.join_group import JoinGroupRequestProtocol
from tidal.log.protocol.messages.offset_fetch import (
    OffsetFetchRequestGroup,
    OffsetFetchRequestTopics,
)

with warnings.catch_warnings():
    # kafka-python 3.0 loads its schemas with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.protocol.admin.configs import DescribeConfigsResponse as KpDescribeConfigsResponse
    from kafka.protocol.admin.topics import CreateTopicsRequest as KpCreateTopicsRequest
    from kafka.protocol.consumer.group import JoinGroupRequest as KpJoinGroupRequest
    from kafka.protocol.consumer.group import OffsetFetchRequest as KpOffsetFetchRequest
    from kafka.protocol.consumer.group import SyncGroupResponse as KpSyncGroupResponse
    from kafka.protocol.old import group as kp_old_group
    from kafka.protocol.producer.transaction import InitProducerIdRequest as KpInitProducerIdRequest


def wire(*parts: str | bytes) -> bytes:
    """Concatenate hex strings (spaces allowed) and raw byte strings."""
    return b"".join(p if isinstance(p, bytes) else bytes.fromhex(p) for p in parts)


def check(message: Message, version: int, expected: bytes, *oracles: Any) -> None:
    """Our encoding, every oracle's encoding and our decoding all agree with ``expected``."""
    assert message.encode(version) == expected
    for oracle in oracles:
        assert bytes(oracle.encode()) == expected, type(oracle).__name__
    assert type(message).decode(expected, version) == message


# ConsumerProtocolSubscription v0: version, topics ["t"], user_data null.
SUBSCRIPTION = wire("0000", "00000001", "0001", b"t", "ffffffff")
# ConsumerProtocolAssignment v0: version, [("t", [0, 1])], user_data null.
ASSIGNMENT = wire("0000", "00000001", "0001", b"t", "00000002 00000000 00000001", "ffffffff")


def test_join_group_v5_request() -> None:
    message = JoinGroupRequest(
        group_id="grp",
        session_timeout_ms=10_000,
        rebalance_timeout_ms=300_000,
        member_id="",
        group_instance_id="inst-1",
        protocol_type="consumer",
        protocols=[
            JoinGroupRequestProtocol(name="range", metadata=SUBSCRIPTION),
            JoinGroupRequestProtocol(name="roundrobin", metadata=SUBSCRIPTION),
        ],
    )
    expected = wire(
        "0003", b"grp",  # group_id: int16 length + UTF-8
        "00002710",  # session_timeout_ms 10000
        "000493e0",  # rebalance_timeout_ms 300000 (v1+)
        "0000",  # member_id "" (first join)
        "0006", b"inst-1",  # group_instance_id (v5+, nullable)
        "0008", b"consumer",  # protocol_type
        "00000002",  # protocols: int32 count
        "0005", b"range", "0000000d", SUBSCRIPTION,  # name, int32-length metadata
        "000a", b"roundrobin", "0000000d", SUBSCRIPTION,
    )  # fmt: skip
    json_oracle = KpJoinGroupRequest(
        group_id="grp",
        session_timeout_ms=10_000,
        rebalance_timeout_ms=300_000,
        member_id="",
        group_instance_id="inst-1",
        protocol_type="consumer",
        protocols=[
            KpJoinGroupRequest.JoinGroupRequestProtocol(name="range", metadata=SUBSCRIPTION),
            KpJoinGroupRequest.JoinGroupRequestProtocol(name="roundrobin", metadata=SUBSCRIPTION),
        ],
        version=5,
    )
    old_oracle = kp_old_group.JoinGroupRequest_v5(
        "grp",
        10_000,
        300_000,
        "",
        "inst-1",
        "consumer",
        [("range", SUBSCRIPTION), ("roundrobin", SUBSCRIPTION)],
    )
    check(message, 5, expected, json_oracle, old_oracle)


def test_join_group_v5_request_without_instance_id_writes_null() -> None:
    message = JoinGroupRequest(
        group_id="g", session_timeout_ms=1, protocol_type="consumer", protocols=[]
    )
    expected = wire("0001", b"g", "00000001", "ffffffff", "0000", "ffff", "0008", b"consumer")
    expected += wire("00000000")
    old_oracle = kp_old_group.JoinGroupRequest_v5("g", 1, -1, "", None, "consumer", [])
    check(message, 5, expected, old_oracle)


def test_sync_group_v3_response() -> None:
    message = SyncGroupResponse(throttle_time_ms=5, error_code=0, assignment=ASSIGNMENT)
    expected = wire(
        "00000005",  # throttle_time_ms (v1+)
        "0000",  # error_code
        "00000019", ASSIGNMENT,  # assignment: int32 length (25) + bytes
    )  # fmt: skip
    json_oracle = KpSyncGroupResponse(
        throttle_time_ms=5, error_code=0, assignment=ASSIGNMENT, version=3
    )
    old_oracle = kp_old_group.SyncGroupResponse_v3(5, 0, ASSIGNMENT)
    check(message, 3, expected, json_oracle, old_oracle)
    # protocol_type/protocol_name are v5+ and ignorable: dropped, not an error.
    with_protocol = SyncGroupResponse(
        throttle_time_ms=5,
        protocol_type="consumer",
        protocol_name="range",
        assignment=ASSIGNMENT,
    )
    assert with_protocol.encode(3) == expected


def test_offset_fetch_v8_request() -> None:
    message = OffsetFetchRequest(
        groups=[
            OffsetFetchRequestGroup(
                group_id="g1",
                topics=[OffsetFetchRequestTopics(name="t", partition_indexes=[0, 2])],
            ),
            OffsetFetchRequestGroup(group_id="g2", topics=None),
        ],
        require_stable=True,
    )
    expected = wire(
        "03",  # groups: compact array, uvarint count+1
        "03", b"g1",  # group_id: compact string, uvarint length+1
        "02",  # topics: 1
        "02", b"t",  # name
        "03 00000000 00000002",  # partition_indexes [0, 2]
        "00",  # topic tagged fields
        "00",  # group tagged fields
        "03", b"g2",
        "00",  # topics: null (all committed offsets of g2)
        "00",
        "01",  # require_stable (v7+)
        "00",  # message tagged fields
    )  # fmt: skip
    json_oracle = KpOffsetFetchRequest(
        groups=[
            KpOffsetFetchRequest.OffsetFetchRequestGroup(
                group_id="g1",
                topics=[
                    KpOffsetFetchRequest.OffsetFetchRequestGroup.OffsetFetchRequestTopics(
                        name="t", partition_indexes=[0, 2]
                    )
                ],
            ),
            KpOffsetFetchRequest.OffsetFetchRequestGroup(group_id="g2", topics=None),
        ],
        require_stable=True,
        version=8,
    )
    check(message, 8, expected, json_oracle)


def test_offset_fetch_layouts_do_not_mix() -> None:
    multi = OffsetFetchRequest(groups=[OffsetFetchRequestGroup(group_id="g", topics=None)])
    with pytest.raises(ProtocolEncodeError):
        multi.encode(7)
    single = OffsetFetchRequest(group_id="g", topics=None)
    assert single.encode(7) == wire("02", b"g", "00", "00", "00")
    with pytest.raises(ProtocolEncodeError):
        single.encode(8)


def test_describe_configs_v4_response() -> None:
    message = DescribeConfigsResponse(
        throttle_time_ms=0,
        results=[
            DescribeConfigsResult(
                error_code=0,
                error_message=None,
                resource_type=2,
                resource_name="t",
                configs=[
                    DescribeConfigsResourceResult(
                        name="retention.ms",
                        value="604800000",
                        read_only=False,
                        config_source=5,
                        is_sensitive=False,
                        synonyms=[
                            DescribeConfigsSynonym(
                                name="log.retention.hours", value="168", source=5
                            )
                        ],
                        config_type=5,
                        documentation=None,
                    )
                ],
            )
        ],
    )
    expected = wire(
        "00000000",  # throttle_time_ms
        "02",  # results: 1
        "0000",  # error_code
        "00",  # error_message: null
        "02",  # resource_type TOPIC
        "02", b"t",  # resource_name
        "02",  # configs: 1
        "0d", b"retention.ms",
        "0a", b"604800000",  # value (nullable)
        "00",  # read_only
        "05",  # config_source DEFAULT_CONFIG (v1+; v0 had is_default here)
        "00",  # is_sensitive
        "02",  # synonyms: 1 (v1+)
        "14", b"log.retention.hours", "04", b"168", "05", "00",
        "05",  # config_type LONG (v3+)
        "00",  # documentation: null (v3+)
        "00",  # config tagged fields
        "00",  # result tagged fields
        "00",  # message tagged fields
    )  # fmt: skip
    kp_result = KpDescribeConfigsResponse.DescribeConfigsResult
    kp_config = kp_result.DescribeConfigsResourceResult
    json_oracle = KpDescribeConfigsResponse(
        throttle_time_ms=0,
        results=[
            kp_result(
                error_code=0,
                error_message=None,
                resource_type=2,
                resource_name="t",
                configs=[
                    kp_config(
                        name="retention.ms",
                        value="604800000",
                        read_only=False,
                        config_source=5,
                        is_sensitive=False,
                        synonyms=[
                            kp_config.DescribeConfigsSynonym(
                                name="log.retention.hours", value="168", source=5
                            )
                        ],
                        config_type=5,
                        documentation=None,
                    )
                ],
            )
        ],
        version=4,
    )
    check(message, 4, expected, json_oracle)


def test_create_topics_v5_request() -> None:
    message = CreateTopicsRequest(
        topics=[
            CreatableTopic(
                name="events",
                num_partitions=3,
                replication_factor=1,
                configs=[
                    CreatableTopicConfig(name="cleanup.policy", value="compact"),
                    CreatableTopicConfig(name="retention.ms", value=None),
                ],
            ),
            CreatableTopic(
                name="placed",
                num_partitions=-1,
                replication_factor=-1,
                assignments=[CreatableReplicaAssignment(partition_index=0, broker_ids=[1])],
            ),
        ],
        timeout_ms=30_000,
        validate_only=False,
    )
    expected = wire(
        "03",  # topics: 2
        "07", b"events",
        "00000003",  # num_partitions
        "0001",  # replication_factor
        "01",  # assignments: empty
        "03",  # configs: 2
        "0f", b"cleanup.policy", "08", b"compact", "00",
        "0d", b"retention.ms", "00", "00",  # value: null
        "00",  # topic tagged fields
        "07", b"placed",
        "ffffffff",  # num_partitions -1: from the assignments
        "ffff",  # replication_factor -1
        "02",  # assignments: 1
        "00000000", "02 00000001", "00",  # partition_index, broker_ids [1], tagged fields
        "01",  # configs: empty
        "00",
        "00007530",  # timeout_ms 30000
        "00",  # validate_only (v1+)
        "00",  # message tagged fields
    )  # fmt: skip
    kp_topic = KpCreateTopicsRequest.CreatableTopic
    json_oracle = KpCreateTopicsRequest(
        topics=[
            kp_topic(
                name="events",
                num_partitions=3,
                replication_factor=1,
                assignments=[],
                configs=[
                    kp_topic.CreatableTopicConfig(name="cleanup.policy", value="compact"),
                    kp_topic.CreatableTopicConfig(name="retention.ms", value=None),
                ],
            ),
            kp_topic(
                name="placed",
                num_partitions=-1,
                replication_factor=-1,
                assignments=[
                    kp_topic.CreatableReplicaAssignment(partition_index=0, broker_ids=[1])
                ],
                configs=[],
            ),
        ],
        timeout_ms=30_000,
        validate_only=False,
        version=5,
    )
    check(message, 5, expected, json_oracle)


def test_init_producer_id_v4_request() -> None:
    message = InitProducerIdRequest(
        transactional_id="txn-1", transaction_timeout_ms=60_000, producer_id=4000, producer_epoch=3
    )
    expected = wire(
        "06", b"txn-1",  # transactional_id: compact nullable string
        "0000ea60",  # transaction_timeout_ms 60000
        "0000000000000fa0",  # producer_id 4000 (v3+, KIP-360 epoch bump)
        "0003",  # producer_epoch
        "00",  # tagged fields
    )  # fmt: skip
    json_oracle = KpInitProducerIdRequest(
        transactional_id="txn-1",
        transaction_timeout_ms=60_000,
        producer_id=4000,
        producer_epoch=3,
        version=4,
    )
    check(message, 4, expected, json_oracle)


def test_init_producer_id_v4_idempotent_request() -> None:
    message = InitProducerIdRequest(transaction_timeout_ms=60_000)
    expected = wire("00", "0000ea60", "ffffffffffffffff", "ffff", "00")
    json_oracle = KpInitProducerIdRequest(
        transactional_id=None, transaction_timeout_ms=60_000, version=4
    )
    check(message, 4, expected, json_oracle)


def test_init_producer_id_epoch_bump_needs_v3() -> None:
    # producer_id/producer_epoch are not ignorable: an older version cannot carry them.
    bump = InitProducerIdRequest(transaction_timeout_ms=1, producer_id=4000, producer_epoch=3)
    with pytest.raises(ProtocolEncodeError):
        bump.encode(2)


@pytest.mark.parametrize(
    ("message", "version", "oracle"),
    [
        (
            InitProducerIdRequest(transactional_id="txn-1", transaction_timeout_ms=60_000),
            4,
            KpInitProducerIdRequest(
                transactional_id="txn-1", transaction_timeout_ms=60_000, version=4
            ),
        ),
        (
            JoinGroupRequest(
                group_id="grp", session_timeout_ms=10_000, protocol_type="consumer", protocols=[]
            ),
            5,
            KpJoinGroupRequest(
                group_id="grp",
                session_timeout_ms=10_000,
                rebalance_timeout_ms=-1,
                member_id="",
                protocol_type="consumer",
                protocols=[],
                version=5,
            ),
        ),
    ],
    ids=["flexible-header-v2", "classic-header-v1"],
)
def test_framed_request_matches_kafka_python(message: Any, version: int, oracle: Any) -> None:
    client = Connection(Role.CLIENT, client_id="tidal")
    ours = client.send_request(message, version, correlation_id=7)
    oracle.with_header(correlation_id=7, client_id="tidal")
    assert bytes(ours) == bytes(oracle.encode(header=True, framed=True))
