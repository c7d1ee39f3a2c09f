"""The REST API driven as a user drives it: HTTP against a worker on a real broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    call,
    lines,
    read_topic,
    wait_for,
    worker_props,
)
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker


def _source(path: Path, topic: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSource", "file": str(path), "topic": topic}


def _sink(path: Path, topics: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSink", "file": str(path), "topics": topics}


async def _state(url: str, name: str) -> tuple[str, list[str]]:
    status, body = await call("GET", f"{url}/connectors/{name}/status")
    assert status == 200, body
    return body["connector"]["state"], [t["state"] for t in body["tasks"]]


async def test_file_to_topic_to_file_with_pause_resume_restart_update_delete(
    tmp_path: Path,
) -> None:
    source_file, sink_file = tmp_path / "in.txt", tmp_path / "out.txt"
    first = [f"line {i} é" for i in range(300)]
    source_file.write_text("".join(f"{x}\n" for x in first))
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url = worker.url
        status, root = await call("GET", url + "/")
        assert status == 200
        assert set(root) == {"version", "commit", "kafka_cluster_id"}
        assert root["kafka_cluster_id"]
        status, plugins = await call("GET", url + "/connector-plugins")
        assert {"class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                "type": "source", "version": root["version"]} in plugins  # fmt: skip
        assert {p["type"] for p in plugins} == {"source", "sink"}
        status, everything = await call("GET", url + "/connector-plugins?connectorsOnly=false")
        kinds = {p["type"] for p in everything}
        assert {"converter", "header_converter", "transformation", "predicate"} <= kinds
        assert any(p["class"] == "org.apache.kafka.connect.json.JsonConverter" for p in everything)

        status, info = await call("POST", url + "/connectors",
                                  {"name": "src", "config": _source(source_file)})  # fmt: skip
        assert status == 201, info
        assert info == {
            "name": "src",
            "config": {**_source(source_file), "name": "src"},
            "tasks": [{"connector": "src", "task": 0}],
            "type": "source",
        }
        status, _ = await call("POST", url + "/connectors",
                               {"name": "sink", "config": _sink(sink_file)})  # fmt: skip
        assert status == 201
        await wait_for(lambda: lines(sink_file) == first, what="the first 300 lines")
        assert await _state(url, "src") == ("RUNNING", ["RUNNING"])
        assert await _state(url, "sink") == ("RUNNING", ["RUNNING"])
        status, names = await call("GET", url + "/connectors")
        assert names == ["sink", "src"]
        status, expanded = await call("GET", url + "/connectors?expand=status&expand=info")
        assert expanded["src"]["info"]["type"] == "source"
        assert expanded["sink"]["status"]["connector"]["state"] == "RUNNING"
        status, topics = await call("GET", url + "/connectors/sink/topics")
        assert topics == {"sink": {"connector": "sink", "topics": ["lines"]}}
        status, tasks = await call("GET", url + "/connectors/sink/tasks")
        assert tasks[0]["id"] == {"connector": "sink", "task": 0}
        assert tasks[0]["config"]["topics"] == "lines"
        status, task = await call("GET", url + "/connectors/sink/tasks/0/status")
        assert (status, task["id"], task["state"]) == (200, 0, "RUNNING")

        # Pausing the sink stops the flow; what arrives meanwhile is written on resume.
        status, body = await call("PUT", url + "/connectors/sink/pause")
        assert (status, body) == (202, None)
        await wait_for(lambda: _paused(url, "sink"), what="the sink to pause")
        with source_file.open("a") as f:
            f.write("while paused\n")
        records = await read_topic(broker.bootstrap_servers, "lines", 301)
        assert records[-1].value == b"while paused"
        await asyncio.sleep(0.6)
        assert lines(sink_file) == first
        status, _ = await call("PUT", url + "/connectors/sink/resume")
        assert status == 202
        await wait_for(lambda: lines(sink_file) == [*first, "while paused"], what="resume")
        assert await _state(url, "sink") == ("RUNNING", ["RUNNING"])

        # Restarts: the connector alone (200, no body), with its tasks (202 with states).
        status, body = await call("POST", url + "/connectors/src/restart")
        assert (status, body) == (200, None)
        status, body = await call("POST", url + "/connectors/src/restart?includeTasks=true")
        assert status == 202
        assert body["connector"]["state"] == "RESTARTING"
        assert [t["state"] for t in body["tasks"]] == ["RESTARTING"]
        status, body = await call("POST", url + "/connectors/src/tasks/0/restart")
        assert (status, body) == (204, None)
        status, body = await call(
            "POST", url + "/connectors/src/restart?includeTasks=true&onlyFailed=true"
        )
        assert status == 202
        assert body["connector"]["state"] == "RUNNING"  # nothing failed: nothing restarts
        await wait_for(lambda: _running(url, "src"), what="src to run again")
        with source_file.open("a") as f:
            f.write("after restarts\n")
        expected = [*first, "while paused", "after restarts"]
        await wait_for(lambda: lines(sink_file) == expected, what="no duplicates after restarts")

        # A config update moves the sink to another file.
        other = tmp_path / "other.txt"
        status, info = await call("PUT", url + "/connectors/sink/config", _sink(other))
        assert status == 200, info
        assert info["config"]["file"] == str(other)
        status, config = await call("GET", url + "/connectors/sink/config")
        assert config == {**_sink(other), "name": "sink"}
        with source_file.open("a") as f:
            f.write("to the other file\n")
        await wait_for(lambda: lines(other) == ["to the other file"], what="the new file")
        assert lines(sink_file) == expected

        status, body = await call("DELETE", url + "/connectors/sink")
        assert (status, body) == (204, None)
        status, body = await call("GET", url + "/connectors/sink")
        assert (status, body) == (404, {"error_code": 404, "message": "Connector sink not found"})
        status, names = await call("GET", url + "/connectors")
        assert names == ["src"]


async def _paused(url: str, name: str) -> bool:
    return await _state(url, name) == ("PAUSED", ["PAUSED"])


async def _running(url: str, name: str) -> bool:
    return await _state(url, name) == ("RUNNING", ["RUNNING"])


async def test_errors_answer_like_kafka_connect(tmp_path: Path) -> None:
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url = worker.url
        assert await call("GET", url + "/connectors/nope/status") == (
            404, {"error_code": 404, "message": "No status found for connector nope"},
        )  # fmt: skip
        assert await call("PUT", url + "/connectors/nope/pause") == (
            404, {"error_code": 404, "message": "Unknown connector nope"},
        )  # fmt: skip
        assert await call("DELETE", url + "/connectors/nope") == (
            404, {"error_code": 404, "message": "Connector nope not found"},
        )  # fmt: skip
        assert await call("GET", url + "/no/such/path") == (
            404, {"error_code": 404, "message": "HTTP 404 Not Found"},
        )  # fmt: skip

        # A sink without topics: 400 naming the fields, and nothing created.
        status, body = await call(
            "POST", url + "/connectors",
            {"name": "bad", "config": {"connector.class": "FileStreamSink", "tasks.max": "0"}},
        )  # fmt: skip
        assert status == 400
        assert body["error_code"] == 400
        assert body["message"].startswith(
            "Connector configuration is invalid and contains the following 3 error(s):\n"
        )
        assert (
            "Invalid value 0 for configuration tasks.max: Value must be at least 1"
            in (body["message"])
        )
        assert "Must configure one of topics or topics.regex" in body["message"]
        assert (await call("GET", url + "/connectors"))[1] == []

        status, body = await call(
            "POST", url + "/connectors",
            {"name": "x", "config": {"connector.class": "NoSuchConnector"}},
        )  # fmt: skip
        assert status == 400
        assert "NoSuchConnector" in body["message"]

        status, body = await call(
            "PUT", url + "/connectors/a/config", {"name": "b", **_sink(tmp_path / "o")}
        )
        assert (status, body["message"]) == (
            400,
            "Connector name configuration (b) doesn't match connector name in the URL (a)",
        )

        created = {"name": "ok", "config": _sink(tmp_path / "o.txt")}
        assert (await call("POST", url + "/connectors", created))[0] == 201
        assert await call("POST", url + "/connectors", created) == (
            409, {"error_code": 409, "message": "Connector ok already exists"},
        )  # fmt: skip
        status, body = await call("PUT", url + "/connectors/ok/config", {"file": ["a"]})
        assert status == 400
        assert "file" in body["message"]

        # PUT on a new name creates (201).
        status, info = await call("PUT", url + "/connectors/other/config", _sink(tmp_path / "p"))
        assert (status, info["name"]) == (201, "other")

        status, infos = await call(
            "PUT", url + "/connector-plugins/FileStreamSource/config/validate",
            {"name": "v", "topic": "", "batch.size": "-1"},
        )  # fmt: skip
        assert status == 200
        assert infos["name"] == "org.apache.kafka.connect.file.FileStreamSourceConnector"
        errors = {
            c["value"]["name"]: c["value"]["errors"]
            for c in infos["configs"]
            if c["value"] and c["value"]["errors"]
        }
        assert set(errors) == {"topic", "batch.size"}
        assert infos["error_count"] == 2
        status, body = await call(
            "PUT", url + "/connector-plugins/FileStreamSource/config/validate",
            {"connector.class": "FileStreamSink"},
        )  # fmt: skip
        assert (status, body["message"]) == (
            400, "Included connector type FileStreamSink does not match request type "
            "FileStreamSource",
        )  # fmt: skip
        status, definitions = await call("GET", url + "/connector-plugins/FileStreamSource/config")
        assert [d["name"] for d in definitions] == ["file", "topic", "batch.size"]
