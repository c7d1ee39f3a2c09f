"""How a source task's records reach the producer: without a coroutine per record, falling
back to an awaited send (metadata, buffer space) without reordering or losing offsets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    call,
    read_topic,
    wait_for,
    worker_props,
)
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.producer import Producer


@pytest.mark.parametrize("buffer_memory", [None, "4096"])
async def test_source_records_are_queued_without_awaiting_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buffer_memory: str | None
) -> None:
    calls = {"send": 0, "try_send": 0, "queued": 0}
    real_send, real_try_send = Producer.send, Producer.try_send

    async def send(self: Producer, *args: Any, **kwargs: Any) -> Any:
        calls["send"] += 1
        return await real_send(self, *args, **kwargs)

    def try_send(self: Producer, *args: Any, **kwargs: Any) -> Any:
        calls["try_send"] += 1
        future = real_try_send(self, *args, **kwargs)
        calls["queued"] += future is not None
        return future

    monkeypatch.setattr(Producer, "send", send)
    monkeypatch.setattr(Producer, "try_send", try_send)
    count = 3000
    source = tmp_path / "in.txt"
    source.write_text("".join(f"line {i:05}\n" for i in range(count)))
    config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "lines"}
    if buffer_memory is not None:  # a full buffer: try_send gives up, send waits for space
        config["producer.override.buffer.memory"] = buffer_memory
        config["producer.override.batch.size"] = "1024"
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        status, _ = await call("PUT", f"{worker.url}/connectors/src/config", config)
        assert status == 201
        records = await read_topic(broker.bootstrap_servers, "lines", count)
        offsets, size = tmp_path / "connect.offsets", source.stat().st_size

        def committed() -> bool:
            stored = json.loads(offsets.read_text()) if offsets.exists() else []
            return stored == [[["src", {"filename": str(source)}], {"position": size}]]

        await wait_for(committed, 20, "the offset of the last line committed")
    assert [r.value for r in records] == [f"line {i:05}".encode() for i in range(count)]
    # Each record is tried once; an awaited send only for those try_send could not queue.
    assert calls["try_send"] == count
    assert calls["send"] == calls["try_send"] - calls["queued"]
    if buffer_memory is None:
        assert calls["send"] <= 1  # at most the first record, before the topic's metadata
    else:
        assert calls["send"] > 1
