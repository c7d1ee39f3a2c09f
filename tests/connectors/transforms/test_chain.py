"""Transform chains from Kafka-style properties: order, predicates, negate, clear errors."""

import datetime

import pytest

from tidal.connectors.api import Headers, Schema, SchemaBuilder, SourceRecord, Struct
from tidal.connectors.config import ConfigError
from tidal.connectors.transforms import (
    InsertField,
    MaskField,
    RegexRouter,
    TimestampRouter,
    TransformationChain,
)
from tidal.connectors.transforms._dates import java_date_format, java_date_parse
from tidal.connectors.transforms._routing import java_replacement

T = "org.apache.kafka.connect.transforms."


def test_kafka_docs_example_hoist_then_insert() -> None:
    # The example of Kafka's documentation, "Transformations" section.
    chain = TransformationChain.from_props(
        {
            "transforms": "MakeMap, InsertSource",
            "transforms.MakeMap.type": T + "HoistField$Value",
            "transforms.MakeMap.field": "line",
            "transforms.InsertSource.type": T + "InsertField$Value",
            "transforms.InsertSource.static.field": "data_source",
            "transforms.InsertSource.static.value": "test-file-source",
        }
    )
    assert len(chain) == 2
    out = chain.apply(SourceRecord(topic="connect-test", value="foo"))
    assert out is not None
    assert out.value == {"line": "foo", "data_source": "test-file-source"}


def _filter_props(negate: str | None) -> dict[str, str]:
    props = {
        "transforms": "dropTombstones",
        "transforms.dropTombstones.type": "Filter",
        "transforms.dropTombstones.predicate": "isTombstone",
        "predicates": "isTombstone",
        "predicates.isTombstone.type": T + "predicates.RecordIsTombstone",
    }
    if negate is not None:
        props["transforms.dropTombstones.negate"] = negate
    return props


def test_predicate_gates_the_transform_and_negate_flips_it() -> None:
    chain = TransformationChain.from_props(_filter_props(None))
    assert chain.apply(SourceRecord(topic="t", value=None)) is None
    kept = SourceRecord(topic="t", value="x")
    assert chain.apply(kept) == kept
    flipped = TransformationChain.from_props(_filter_props("true"))
    assert flipped.apply(SourceRecord(topic="t", value="x")) is None
    assert flipped.apply(SourceRecord(topic="t", value=None)) is not None


def test_short_aliases_and_header_predicate() -> None:
    chain = TransformationChain.from_props(
        {
            "transforms": "route",
            "transforms.route.type": "RegexRouter",
            "transforms.route.regex": "(.*)",
            "transforms.route.replacement": "traced-$1",
            "transforms.route.predicate": "traced",
            "predicates": "traced",
            "predicates.traced.type": "HasHeaderKey",
            "predicates.traced.name": "trace-id",
        }
    )
    traced = SourceRecord(topic="a", headers=Headers().add("trace-id", "1"))
    assert chain.apply(traced).topic == "traced-a"  # type: ignore[union-attr]
    assert chain.apply(SourceRecord(topic="a")).topic == "a"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"transforms": "mask", "transforms.mask.type": T + "MaskField$Value"},
            'Missing required configuration "fields" which has no default value',
        ),
        (
            {
                "transforms": "mask",
                "transforms.mask.type": T + "MaskField$Value",
                "transforms.mask.fields": "",
            },
            "Invalid value [] for configuration transforms.mask.fields: Empty list",
        ),
        (
            {"transforms": "mask"},
            'Missing required configuration "transforms.mask.type"',
        ),
        (
            {"transforms": "x", "transforms.x.type": "NoSuchTransform"},
            "Invalid value NoSuchTransform for configuration transforms.x.type",
        ),
        (
            {
                "transforms": "r",
                "transforms.r.type": T + "ReplaceField$Value",
                "transforms.r.renames": "a",
            },
            "Invalid value [a] for configuration transforms.r.renames: Invalid rename mapping: a",
        ),
        (
            {"transforms": "a,a", "transforms.a.type": "Filter"},
            "Duplicate alias provided.",
        ),
        (
            {"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "p"},
            "for configuration transforms.f.predicate: The predicate 'p' is not defined",
        ),
        (
            {"transforms": "f", "transforms.f.type": "Filter", "transforms.f.negate": "true"},
            "transforms.f.negate: Negate requires a predicate",
        ),
        (
            {"transforms": "i", "transforms.i.type": T + "InsertField$Value"},
            "transforms.i: No field insertion configured",
        ),
    ],
)
def test_bad_config_names_alias_and_property(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        TransformationChain.from_props(props)
    assert message in str(error.value)


def test_missing_required_property_is_named_with_its_prefix() -> None:
    with pytest.raises(ConfigError) as error:
        TransformationChain.from_props(
            {"transforms": "mask", "transforms.mask.type": T + "MaskField$Value"}
        )
    assert "transforms.mask" in str(error.value)


def test_key_variant_changes_the_key_only() -> None:
    insert = InsertField.Key()
    insert.configure({"topic.field": "topic"})
    out = insert.apply(SourceRecord(topic="t", key={"id": 1}, value={"v": 1}))
    assert out is not None
    assert out.key == {"id": 1, "topic": "t"}
    assert out.value == {"v": 1}


def test_mask_with_schema_keeps_schema_and_masks_with_type_defaults() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("ssn", Schema.STRING_SCHEMA)
        .field("n", Schema.INT32_SCHEMA)
        .build()
    )
    mask = MaskField.Value()
    mask.configure({"fields": "ssn,n"})
    out = mask.apply(
        SourceRecord(
            topic="t", value_schema=schema, value=Struct(schema).put("ssn", "1").put("n", 5)
        )
    )
    assert out is not None
    assert out.value_schema == schema
    assert out.value.to_dict() == {"ssn": "", "n": 0}


def test_timestamp_router_and_java_date_patterns() -> None:
    router = TimestampRouter()
    router.configure({"topic.format": "${topic}-${timestamp}", "timestamp.format": "yyyy.MM.dd"})
    out = router.apply(SourceRecord(topic="logs", timestamp=1704164645678))
    assert out is not None
    assert out.topic == "logs-2024.01.02"
    moment = datetime.datetime(2024, 3, 5, 14, 7, 9, 45_000)
    assert java_date_format("yyyyMMdd'T'HHmmss.SSS", moment) == "20240305T140709.045"
    assert java_date_format("yy-M-d h a EEE MMM", moment) == "24-3-5 2 PM Tue Mar"
    assert java_date_format("'o''clock' HH", moment) == "o'clock 14"
    with pytest.raises(ConfigError, match="Illegal pattern character 'q'"):
        java_date_format("qq", moment)
    parsed = java_date_parse("yyyyMMdd'T'HHmmss.SSS", "20240305T140709.045")
    assert parsed == moment.replace(tzinfo=datetime.UTC)
    assert java_date_parse("d MMMM yy, h a", "5 March 24, 2 PM").hour == 14


def test_regex_router_uses_java_group_syntax() -> None:
    assert java_replacement("$1-x") == "\\g<1>-x"
    assert java_replacement("${name}") == "\\g<name>"
    assert java_replacement("\\$1") == "$1"
    router = RegexRouter()
    router.configure(
        {"regex": "(?<kind>[a-z]+)-(\\d+)".replace("?<", "?P<"), "replacement": "${kind}_$2"}
    )
    out = router.apply(SourceRecord(topic="orders-7"))
    assert out is not None
    assert out.topic == "orders_7"
