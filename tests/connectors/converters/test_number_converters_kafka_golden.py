"""The numeric and boolean converters against Kafka 4.1's (``golden/number_golden.json``)."""

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors._java import java_double, java_float
from tidal.connectors.api import DataError
from tidal.connectors.plugins import converter_class

KAFKA = json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "number_golden.json").read_text()
)


def _python_value(name: str, text: str) -> Any:
    if name == "BooleanConverter":
        return text == "true"
    if name in ("FloatConverter", "DoubleConverter"):
        return float(text)
    return int(text)


def _java_text(name: str, value: Any) -> str:
    if name == "FloatConverter":
        return java_float(value)
    if name == "DoubleConverter":
        return java_double(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize("name", list(KAFKA))
def test_matches_kafka(name: str) -> None:
    converter = converter_class("org.apache.kafka.connect.converters." + name)()
    converter.configure({}, is_key=True)
    for case in KAFKA[name]["values"]:
        value = _python_value(name, case["value"])
        raw = converter.from_connect_data("t", None, value)
        assert raw is not None
        assert raw.hex() == case["hex"]
        schema, back = converter.to_connect_data("t", raw)
        assert schema is not None
        assert f"{schema.type.value}{'?' if schema.is_optional else ''}" == case["schema"]
        assert _java_text(name, back) == case["back"]
    assert KAFKA[name]["wrong_size"] == "DataException"
    with pytest.raises(DataError):
        converter.to_connect_data("t", b"\x01\x02\x03")
    assert KAFKA[name]["wrong_type"] == "DataException"
    with pytest.raises(DataError):
        converter.from_connect_data("t", None, "text")
    assert converter.from_connect_data("t", None, None) is None
    assert converter.to_connect_data("t", None).value is None


def test_short_alias_for_keys() -> None:
    converter = converter_class("Long")()
    assert converter.from_connect_data("t", None, 1704164645678) == bytes.fromhex(
        "0000018cc820db2e"
    )
