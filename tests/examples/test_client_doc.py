"""The producer and admin examples of docs/client.md run against a broker, in the
page's order and in the order that once failed (the admin example's compacted
topic was the producer example's topic, which then refused an unkeyed record)."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def _block(first_line: str) -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)
    found = [b for b in blocks if b.startswith(first_line)]
    assert len(found) == 1, f"no single block starting {first_line!r}"
    return str(found[0])


PRODUCER = "from tidal.log.client.producer import Producer, SyncProducer"
ADMIN = "from tidal.log.client.admin import AdminClient,"
SYNC_ADMIN = "from tidal.log.client.admin import NewTopic, SyncAdminClient"


async def _run(block: str, bootstrap: str, namespace: dict[str, Any]) -> None:
    source = block.replace("localhost:9092", bootstrap)
    code = compile(source, str(DOC), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if asyncio.iscoroutine(result):
        await result


@pytest.mark.parametrize("order", [(PRODUCER, ADMIN), (ADMIN, PRODUCER)])
async def test_the_producer_and_admin_examples_run(tmp_path: Path, order: tuple[str, str]) -> None:
    async with EmbeddedBroker(data_dir=tmp_path / "broker") as broker:
        namespace: dict[str, Any] = {}
        for first_line in order:
            await asyncio.wait_for(
                _run(_block(first_line), broker.bootstrap_servers, namespace), 60
            )
        assert namespace["metadata"].topic == "events"
        assert set(namespace["offsets"]) == {namespace["TopicPartition"]("profiles", 0)}
        sync = _block(SYNC_ADMIN).replace("localhost:9092", broker.bootstrap_servers)
        await asyncio.wait_for(asyncio.to_thread(exec, sync, {}), 60)
        async with AdminClient(bootstrap_servers=broker.bootstrap_servers) as admin:
            assert {"events", "profiles", "clicks"} <= set(await admin.list_topics())
