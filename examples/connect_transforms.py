"""Kafka Connect transforms, configured the way Kafka Connect users write them.

A connector's ``transforms=...`` properties (copied from a Kafka Connect connector config)
become a chain that masks, reroutes and filters records, and the JsonConverter writes the
results exactly as Kafka Connect would.

    python examples/connect_transforms.py
"""

from __future__ import annotations

from tidal.connectors.api import Schema, SchemaBuilder, SinkRecord, Struct
from tidal.connectors.converters import JsonConverter
from tidal.connectors.transforms import TransformationChain

CONNECTOR_PROPERTIES = """
# The transform part of a sink connector config, as in Kafka Connect.
transforms=dropTombstones,mask,key,route,stamp
transforms.dropTombstones.type=org.apache.kafka.connect.transforms.Filter
transforms.dropTombstones.predicate=isTombstone
transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value
transforms.mask.fields=card
transforms.mask.replacement=****
transforms.key.type=org.apache.kafka.connect.transforms.ValueToKey
transforms.key.fields=order_id
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=(.*)-raw
transforms.route.replacement=$1-clean
transforms.stamp.type=InsertField$Value
transforms.stamp.offset.field=source_offset
predicates=isTombstone
predicates.isTombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone
"""


def parse_properties(text: str) -> dict[str, str]:
    """A ``.properties`` text as a dict (comments and blank lines skipped)."""
    props = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "!")):
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


ORDER = (
    SchemaBuilder.struct()
    .name("shop.Order")
    .field("order_id", Schema.INT64_SCHEMA)
    .field("card", Schema.STRING_SCHEMA)
    .field("amount", Schema.FLOAT64_SCHEMA)
    .build()
)


def records() -> list[SinkRecord]:
    """Three records as a sink task would receive them: schema'd, schemaless, tombstone."""
    order = Struct(ORDER).put("order_id", 1001).put("card", "4111-1111").put("amount", 12.5)
    return [
        SinkRecord(topic="orders-raw", kafka_offset=0, value_schema=ORDER, value=order),
        SinkRecord(
            topic="orders-raw", kafka_offset=1, value={"order_id": 1002, "card": "5500-0000"}
        ),
        SinkRecord(topic="orders-raw", kafka_offset=2, key={"order_id": 1003}, value=None),
    ]


def main() -> None:
    """Build the chain, run the records through it, print what comes out."""
    chain = TransformationChain.from_props(parse_properties(CONNECTOR_PROPERTIES))
    keys, values = JsonConverter(), JsonConverter()
    keys.configure({"schemas.enable": "true"}, is_key=True)
    values.configure({"schemas.enable": "true"}, is_key=False)
    for record in records():
        out = chain.apply(record)
        if out is None:
            print(f"offset {record.kafka_offset}: dropped")
            continue
        key = keys.from_connect_data(out.topic, out.key_schema, out.key)
        value = values.from_connect_data(out.topic, out.value_schema, out.value)
        print(f"offset {record.kafka_offset}: topic={out.topic}")
        print(f"  key   {key.decode() if key else None}")
        print(f"  value {value.decode() if value else None}")
    chain.close()


if __name__ == "__main__":
    main()
