"""Every built-in transform and predicate against Kafka 4.1's own, on the same records.

``golden/transform_cases.json`` describes records (key and value as JsonConverter text),
a Kafka transform or predicate class and its config; ``golden/regenerate.sh`` applies
Kafka's class and stores the resulting record in ``golden/transform_golden.json``. Here the
class is resolved by the same Kafka name through our plugin registry and must give the same
record. Schemaless maps are compared as JSON values: Kafka builds them as ``HashMap``s, so
their key order is an accident of hashing, not part of the transform's behaviour.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.api import DataError, Headers, Schema, SinkRecord, TimestampType
from tidal.connectors.config import ConfigError
from tidal.connectors.converters import JsonConverter
from tidal.connectors.plugins import PluginType, default_plugins

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads((GOLDEN / "transform_cases.json").read_text())
KAFKA = json.loads((GOLDEN / "transform_golden.json").read_text())


def _converter(schemas: bool, is_key: bool) -> JsonConverter:
    converter = JsonConverter()
    converter.configure({"schemas.enable": str(schemas).lower()}, is_key=is_key)
    return converter


def _text(converter: JsonConverter, schema: Any, value: Any) -> str | None:
    out = converter.from_connect_data("topic", schema, value)
    return None if out is None else out.decode()


def _run(case: dict[str, Any]) -> dict[str, Any]:
    keys, values = _converter(case["schemas"], True), _converter(case["schemas"], False)
    try:
        key_schema, key = keys.to_connect_data("topic", _bytes(case["key"]))
        value_schema, value = values.to_connect_data("topic", _bytes(case["value"]))
        headers = Headers()
        for name, header in case.get("headers", {}).items():
            headers.add(name, header, Schema.STRING_SCHEMA)  # Kafka's addString
        record = SinkRecord(
            topic=case["topic"],
            kafka_partition=case["partition"],
            kafka_offset=case["offset"],
            timestamp=case["timestamp"],
            timestamp_type=TimestampType.CREATE_TIME,
            key_schema=key_schema,
            key=key,
            value_schema=value_schema,
            value=value,
            headers=headers,
        )
        desc = default_plugins().plugin(
            case["class"], PluginType.TRANSFORMATION, PluginType.PREDICATE
        )
        plugin = desc.cls()
        plugin.configure(case["config"])
        if desc.type is PluginType.PREDICATE:
            return {"test": plugin.test(record)}
        result = plugin.apply(record)
    except ConfigError:
        return {"error": "ConfigException"}
    except DataError:
        return {"error": "DataException"}
    if result is None:
        return {"dropped": True}
    header_json = _converter(True, False)
    return {
        "topic": result.topic,
        "partition": result.kafka_partition,
        "key": _text(keys, result.key_schema, result.key),
        "value": _text(values, result.value_schema, result.value),
        "headers": [
            {"key": h.key, "value": _text(header_json, h.schema, h.value)} for h in result.headers
        ],
    }


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _comparable(answer: dict[str, Any], schemas: bool) -> dict[str, Any]:
    out = dict(answer)
    if out.get("error") == "IllegalArgumentException":
        out["error"] = "DataException"  # Kafka's ExtractField; we raise DataError
    if not schemas:
        for side in ("key", "value"):
            if out.get(side) is not None:
                out[side] = json.loads(out[side])
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_kafka(case: dict[str, Any]) -> None:
    ours = _comparable(_run(case), case["schemas"])
    assert ours == _comparable(KAFKA[case["name"]], case["schemas"])


def test_cases_cover_every_builtin() -> None:
    used = {c["class"] for c in CASES}
    builtins = {
        d.name for d in default_plugins().plugins(PluginType.TRANSFORMATION, PluginType.PREDICATE)
    }
    kafka_builtins = {b for b in builtins if b.startswith("org.apache.kafka")}
    missing = {b for b in kafka_builtins - used if not b.endswith("$Key")}
    assert missing == set()
