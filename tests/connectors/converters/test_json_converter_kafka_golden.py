"""JsonConverter against bytes written by Kafka 4.1's own JsonConverter.

``golden/json_converter_cases.json`` holds JSON inputs; ``golden/regenerate.sh`` runs each
through Kafka's converter (``toConnectData`` then ``fromConnectData``) and stores the bytes
it wrote in ``golden/json_converter_golden.json``. Here the same round trip through our
converter must give the same bytes (or fail where Kafka's failed).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.api import ConnectError
from tidal.connectors.converters import JsonConverter, SimpleHeaderConverter

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads((GOLDEN / "json_converter_cases.json").read_text())
KAFKA = json.loads((GOLDEN / "json_converter_golden.json").read_text())

# Java 17, which produced the golden files, prints a few doubles with more digits than
# needed (JDK-4511638, fixed in Java 19). We print the shortest digits, as Java 19+ does;
# both texts denote the same double.
JDK17_DIGITS = {"schema_double_1.152921504606847e+18"}


def _round_trip(case: dict[str, Any]) -> dict[str, Any]:
    converter = JsonConverter()
    converter.configure(case["config"], is_key=False)
    raw = None if case["input"] is None else case["input"].encode()
    try:
        schema_and_value = converter.to_connect_data("topic", raw)
        out = converter.from_connect_data("topic", schema_and_value.schema, schema_and_value.value)
    except ConnectError:
        return {"error": "DataException"}
    return {"output": None if out is None else out.decode()}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_round_trip_matches_kafka_bytes(case: dict[str, Any]) -> None:
    ours, kafka = _round_trip(case), KAFKA[case["name"]]
    if case["name"] in JDK17_DIGITS:
        assert json.loads(ours["output"])["payload"] == json.loads(kafka["output"])["payload"]
        assert ours["output"] != kafka["output"]
    else:
        assert ours == kafka


def test_every_case_has_a_kafka_answer() -> None:
    assert {c["name"] for c in CASES} == set(KAFKA)
    assert sum("error" in answer for answer in KAFKA.values()) == 5


HEADERS = json.loads((GOLDEN / "header_golden.json").read_text())


@pytest.mark.parametrize("text", list(HEADERS))
def test_simple_header_converter_infers_like_kafka(text: str) -> None:
    converter = SimpleHeaderConverter()
    schema, value = converter.to_connect_header("topic", "h", text.encode())
    assert schema is not None
    back = converter.from_connect_header("topic", "h", schema, value)
    assert back is not None
    assert {"type": schema.type.value, "name": schema.name, "back": back.decode()} == HEADERS[text]
