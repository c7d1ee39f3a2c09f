"""The common connector configs and the validate answer, against Kafka 4.1's own.

``golden/regenerate.sh`` captures Kafka's ``SinkConnectorConfig``/``SourceConnectorConfig``
definitions and ``AbstractHerder.generateResult`` answers (see ``KafkaGolden.java``).
"""

import json
from pathlib import Path

import pytest

from tidal.connectors.config import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    Range,
    ValidString,
    Width,
    config_key_info,
    sink_connector_config,
    source_connector_config,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
KAFKA_CONFIGS = json.loads((GOLDEN / "connector_configs_golden.json").read_text())


@pytest.mark.parametrize(
    ("kind", "config_def"),
    [("sink", sink_connector_config()), ("source", source_connector_config())],
)
def test_connector_configs_match_kafka(kind: str, config_def: ConfigDef) -> None:
    ours = [config_key_info(key) for key in config_def.config_keys.values()]
    assert ours == KAFKA_CONFIGS[kind]


# Mirrors KafkaGolden.validate().
_VALIDATE_DEF = (
    ConfigDef()
    .define("file", ConfigType.STRING, NO_DEFAULT, None, Importance.HIGH, "The file.",
            group="Main", order=1, width=Width.LONG, display_name="File")
    .define("batch.size", ConfigType.INT, 2000, Range.at_least(1), Importance.LOW,
            "Records per poll.", group="Main", order=2, width=Width.SHORT,
            display_name="Batch size")
    .define("ratio", ConfigType.DOUBLE, 0.5, None, Importance.LOW, "A ratio.")
    .define("enabled", ConfigType.BOOLEAN, True, None, Importance.LOW, "On or off.")
    .define("mode", ConfigType.STRING, "bulk", ValidString.in_("bulk", "incrementing"),
            Importance.MEDIUM, "The mode.", group="Mode", order=1, width=Width.MEDIUM,
            display_name="Mode")
    .define("secret", ConfigType.PASSWORD, None, None, Importance.LOW, "A secret.")
    .define("topics", ConfigType.LIST, "a,b", None, Importance.HIGH, "Topics.")
    .define("retries", ConfigType.LONG, 10, None, Importance.LOW, "Retries.")
)  # fmt: skip
VALIDATE_CASES = json.loads((GOLDEN / "validate_cases.json").read_text())
KAFKA_ANSWERS = json.loads((GOLDEN / "validate_golden.json").read_text())


@pytest.mark.parametrize("index", range(len(VALIDATE_CASES)))
def test_validate_answer_matches_kafka(index: int) -> None:
    ours = _VALIDATE_DEF.validate(VALIDATE_CASES[index], name="Example")
    kafka = KAFKA_ANSWERS[index]
    assert json.dumps(ours) == json.dumps(kafka)  # same keys, same order, same values
