"""errors.tolerance, retries and the dead letter queue, end to end on a real broker."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path
from typing import Any

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
from tidal.log.client.producer import Producer

_PLUGINS = "tests.connectors.runtime._test_plugins"
_JSON = {
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
}


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    async with Producer(bootstrap_servers=bootstrap) as producer:
        for value in values:
            await producer.send(topic, value, key=b"k", headers=[("origin", b"test")])
        await producer.flush()


async def _status(url: str, name: str) -> Any:
    status, body = await call("GET", f"{url}/connectors/{name}/status")
    assert status == 200
    return body


async def _task_state(url: str, name: str) -> str:
    tasks = (await _status(url, name))["tasks"]
    return str(tasks[0]["state"]) if tasks else "NONE"


async def test_tolerated_conversion_and_put_failures_go_to_the_dlq(tmp_path: Path) -> None:
    out, put_out = tmp_path / "out.txt", tmp_path / "put.txt"
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        bootstrap, url = broker.bootstrap_servers, worker.url
        await _produce(bootstrap, "in", [b'{"n":1}', b"not json", b'{"n":2}'])
        config = {
            "connector.class": "FileStreamSink", "file": str(out), "topics": "in",
            "errors.tolerance": "all", "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": "dlq",
            "errors.deadletterqueue.context.headers.enable": "true", **_JSON,
        }  # fmt: skip
        assert (await call("POST", url + "/connectors", {"name": "sink", "config": config}))[
            0
        ] == 201
        await wait_for(lambda: lines(out) == ["{n=1}", "{n=2}"], what="the good records")
        [dead] = await read_topic(bootstrap, "dlq", 1)
        assert (dead.key, dead.value) == (b"k", b"not json")
        headers = dict(dead.headers)
        assert headers["origin"] == b"test"
        context = {k.removeprefix("__connect.errors."): v.decode() for k, v in dead.headers
                   if k.startswith("__connect.errors.")}  # fmt: skip
        assert {k: context[k] for k in ("topic", "partition", "offset")} == {
            "topic": "in", "partition": "0", "offset": "1",
        }  # fmt: skip
        assert context["connector.name"] == "sink"
        assert context["task.id"] == "0"
        assert context["stage"] == "VALUE_CONVERTER"
        assert context["class.name"] == "org.apache.kafka.connect.json.JsonConverter"
        assert context["exception.class.name"].endswith("DataError")
        assert context["exception.message"]
        assert "Traceback" in context["exception.stacktrace"]
        assert set(context) == {
            "topic", "partition", "offset", "connector.name", "task.id", "stage",
            "class.name", "exception.class.name", "exception.message", "exception.stacktrace",
        }  # fmt: skip
        assert await _task_state(url, "sink") == "RUNNING"

        # A put failure with errors.tolerance=all: the batch is put record by record and
        # only the one that fails goes to the dead letter queue.
        await _produce(bootstrap, "words", [b"one", b"poison", b"two"])
        config = {
            "connector.class": f"{_PLUGINS}.PoisonSinkConnector", "file": str(put_out),
            "topics": "words", "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "dlq-put",
            "errors.deadletterqueue.context.headers.enable": "true",
        }  # fmt: skip
        assert (await call("POST", url + "/connectors", {"name": "put", "config": config}))[
            0
        ] == 201
        await wait_for(lambda: lines(put_out) == ["one", "two"], what="the writable records")
        [dead] = await read_topic(bootstrap, "dlq-put", 1)
        assert dead.value == b"poison"
        assert dict(dead.headers)["__connect.errors.stage"] == b"TASK_PUT"
        assert dict(dead.headers)["__connect.errors.exception.message"] == b"cannot write poison"

        status, metrics = await _metrics(url)
        assert status == 200
        assert 'tidal_connect_records_skipped_total{connector="sink",task="0"} 1.0' in metrics
        assert 'tidal_connect_deadletterqueue_produce_total{connector="put",task="0"} 1.0' in (
            metrics
        )


async def _metrics(url: str) -> tuple[int, str]:
    def get() -> tuple[int, str]:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            return response.status, response.read().decode()

    return await asyncio.to_thread(get)


async def test_errors_tolerance_none_fails_the_task_with_its_trace(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        bootstrap, url = broker.bootstrap_servers, worker.url
        await _produce(bootstrap, "in", [b"not json", b'{"n":1}', b'{"n":2}'])
        config = {"connector.class": "FileStreamSink", "file": str(out), "topics": "in", **_JSON}
        assert (await call("POST", url + "/connectors", {"name": "sink", "config": config}))[
            0
        ] == 201
        await wait_for(lambda: _failed(url, "sink"), what="the task to fail")
        status = await _status(url, "sink")
        assert status["connector"] == {
            "state": "RUNNING",
            "worker_id": status["connector"]["worker_id"],
        }  # type: ignore[index]
        [task] = status["tasks"]  # type: ignore[misc]
        assert "ToleranceExceededError: Tolerance exceeded in error handler" in task["trace"]
        assert "DataError" in task["trace"]
        assert lines(out) == []

        # Restarting only failed tasks fails again on the same record...
        status_code, body = await call(
            "POST", url + "/connectors/sink/restart?includeTasks=true&onlyFailed=true"
        )
        assert status_code == 202
        assert body["connector"]["state"] == "RUNNING"
        assert body["tasks"][0]["state"] == "RESTARTING"
        await wait_for(lambda: _failed(url, "sink"), what="the task to fail again")
        # ...until the poison record is skipped through the offsets API.
        assert (await call("PUT", url + "/connectors/sink/stop"))[0] == 204
        patch = {"offsets": [{"partition": {"kafka_topic": "in", "kafka_partition": 0},
                              "offset": {"kafka_offset": 1}}]}  # fmt: skip
        assert (await call("PATCH", url + "/connectors/sink/offsets", patch))[0] == 200
        assert (await call("PUT", url + "/connectors/sink/resume"))[0] == 202
        await wait_for(lambda: lines(out) == ["{n=1}", "{n=2}"], what="the records after it")
        assert await _task_state(url, "sink") == "RUNNING"


async def _failed(url: str, name: str) -> bool:
    return await _task_state(url, name) == "FAILED"


async def test_retriable_put_errors_are_retried(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        await _produce(broker.bootstrap_servers, "in", [b"a", b"b"])
        config = {"connector.class": f"{_PLUGINS}.FlakySinkConnector", "file": str(out),
                  "topics": "in"}  # fmt: skip
        assert (await call("POST", worker.url + "/connectors",
                           {"name": "flaky", "config": config}))[0] == 201  # fmt: skip
        await wait_for(lambda: lines(out) == ["a", "b"], what="the records after two retries")
        assert await _task_state(worker.url, "flaky") == "RUNNING"
