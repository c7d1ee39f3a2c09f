"""The connector written in docs/connect.md runs: it is executed from the guide itself."""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tidal.connectors.api import Schema, invoke

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "connect.md"


class _Offsets:
    def __init__(self, stored: Mapping[str, Any] | None) -> None:
        self.stored = stored
        self.asked: list[Mapping[str, Any]] = []

    def offset(self, partition: Mapping[str, Any]) -> Mapping[str, Any] | None:
        self.asked.append(partition)
        return self.stored

    def offsets(self, partitions: Any) -> list[Any]:
        return [(p, self.stored) for p in partitions]


class _Context:
    def __init__(self, stored: Mapping[str, Any] | None) -> None:
        self.offset_storage_reader = _Offsets(stored)
        self.configs: dict[str, str] = {}
        self.transaction_context = None


def _guide_namespace() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(GUIDE), "exec"), namespace)  # the "Writing a connector" block
    return namespace


async def test_guide_connector_produces_and_resumes() -> None:
    ns = _guide_namespace()
    connector = ns["CounterConnector"]()
    await invoke(connector.start, {"topic": "counts", "count": "3"})
    configs = await invoke(connector.task_configs, 4)
    assert configs == [{"topic": "counts", "count": "3"}]
    assert connector.task_class() is ns["CounterTask"]
    assert connector.validate({"count": "0"})[0].errors  # topic missing
    task = ns["CounterTask"]()
    task.initialize(_Context({"next": 1}))  # resumes after the stored offset
    await invoke(task.start, configs[0])
    polled = []
    while (records := await invoke(task.poll)) is not None:
        polled += records
    assert [r.value for r in polled] == [1, 2]
    assert polled[-1].source_offset == {"next": 3}
    assert polled[0].value_schema == Schema.INT64_SCHEMA
    assert polled[0].source_partition == {"counter": "main"}
    await invoke(task.stop)
