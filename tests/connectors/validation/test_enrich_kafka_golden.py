"""Transform and predicate enrichment of the validate answer, against Kafka 4.1's own.

``golden/regenerate.sh`` runs Kafka's ``ConnectorConfig.enrich`` on the configs of
``golden/enrich_cases.json`` and stores the validate answers. Two things legitimately
differ and are set aside: the classes recommended for a ``type`` (Kafka also lists
transforms Tidal does not ship, such as Flatten) and plugin versions (Kafka's 4.1.1 against
Tidal's own version).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.config import sink_connector_config
from tidal.connectors.validation import enrich

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads((GOLDEN / "enrich_cases.json").read_text())
KAFKA = json.loads((GOLDEN / "enrich_golden.json").read_text())


def _comparable(answer: Any) -> Any:
    answer = json.loads(json.dumps(answer))
    for config in answer["configs"]:
        name = config["value"]["name"]
        if name.endswith(".type"):
            config["value"]["recommended_values"] = "<classes>"
        if name.endswith(".plugin.version"):
            if config["definition"]["default_value"] is not None:
                config["definition"]["default_value"] = "<version>"
            if config["value"]["value"] is not None:
                config["value"]["value"] = "<version>"
            config["value"]["recommended_values"] = []
    return answer


@pytest.mark.parametrize("index", range(len(CASES)))
def test_enriched_validate_answer_matches_kafka(index: int) -> None:
    props = CASES[index]
    enriched = enrich(sink_connector_config(), props)
    ours = _comparable(enriched.validate(props, name="Example"))
    kafka = _comparable(KAFKA[index])
    assert ours["groups"] == kafka["groups"]
    assert [c["value"]["name"] for c in ours["configs"]] == [
        c["value"]["name"] for c in kafka["configs"]
    ]
    for mine, theirs in zip(ours["configs"], kafka["configs"], strict=True):
        assert mine == theirs
    assert ours["error_count"] == kafka["error_count"]
