"""Connector lifecycles over REST: created STOPPED to set offsets first (KIP-980), and a
connector that fails to start shows FAILED with its trace."""

from __future__ import annotations

from pathlib import Path

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    call,
    read_topic,
    wait_for,
    worker_props,
)
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker


async def test_created_stopped_offsets_first_then_resumed(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("old 1\nold 2\nnew 1\nnew 2\n")
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url = worker.url
        config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "t"}
        body = {"name": "src", "config": config, "initial_state": "STOPPED"}
        status, info = await call("POST", url + "/connectors", body)
        assert (status, info["tasks"]) == (201, [])
        _, state = await call("GET", url + "/connectors/src/status")
        assert (state["connector"]["state"], state["tasks"]) == ("STOPPED", [])
        skip = {"offsets": [{"partition": {"filename": str(source)},
                             "offset": {"position": len(b"old 1\nold 2\n")}}]}  # fmt: skip
        assert (await call("PATCH", url + "/connectors/src/offsets", skip))[0] == 200
        assert (await call("PUT", url + "/connectors/src/resume"))[0] == 202
        records = await read_topic(broker.bootstrap_servers, "t", 2)
        assert [r.value for r in records] == [b"new 1", b"new 2"]

        bad = await call("POST", url + "/connectors",
                         {"name": "x", "config": config, "initial_state": "SLEEPING"})  # fmt: skip
        assert bad == (400, {"error_code": 400, "message": "Invalid initial state SLEEPING"})


async def test_a_connector_failing_to_start_shows_its_trace(tmp_path: Path) -> None:
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url = worker.url
        config = {
            "connector.class": "tests.connectors.runtime._test_plugins.BrokenSourceConnector",
            "file": str(tmp_path / "in.txt"), "topic": "t",
        }  # fmt: skip
        assert (await call("POST", url + "/connectors", {"name": "b", "config": config}))[0] == 201
        _, state = await call("GET", url + "/connectors/b/status")
        assert state["connector"]["state"] == "FAILED"
        assert "RuntimeError: the upstream system is unreachable" in state["connector"]["trace"]
        assert state["tasks"] == []
        status, body = await call("POST", url + "/connectors/b/restart?onlyFailed=true")
        assert (status, body["connector"]["state"]) == (202, "RESTARTING")

        async def failed_again() -> bool:
            _, state = await call("GET", url + "/connectors/b/status")
            return state["connector"]["state"] == "FAILED"

        await wait_for(failed_again, 10, "the restart to fail again")
        _, health = await call("GET", url + "/health")
        assert health["status"] == "healthy"
