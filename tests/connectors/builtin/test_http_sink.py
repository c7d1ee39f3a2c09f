"""The HTTP sink against a real local HTTP server: batching, retries, permanent failures."""

from __future__ import annotations

import base64
import datetime
import socket
from typing import Any

import pytest

from tidal.connectors.api import (
    ConnectError,
    Schema,
    SchemaBuilder,
    SinkRecord,
    Struct,
    Timestamp,
)
from tidal.connectors.builtin import HttpSinkConnector, HttpSinkTask
from tidal.connectors.config import ConfigError

EVENT = (
    SchemaBuilder.struct().name("Event")
    .field("id", Schema.INT32_SCHEMA).field("at", Timestamp.SCHEMA).build()
)  # fmt: skip
AT = datetime.datetime(2026, 5, 1, 8, 0, tzinfo=datetime.UTC)


def records(count: int, start: int = 0) -> list[SinkRecord]:
    return [
        SinkRecord(topic="events", kafka_offset=i, value_schema=EVENT,
                   value=Struct(EVENT).put("id", i).put("at", AT))
        for i in range(start, start + count)
    ]  # fmt: skip


def started(url: str, sink_context: Any, *, reporter: bool = False, **props: str) -> Any:
    config = {"http.api.url": url, "retry.backoff.ms": "1",
              **{k.replace("_", "."): v for k, v in props.items()}}  # fmt: skip
    task = HttpSinkTask()
    context = sink_context(config, reporter=reporter)
    task.initialize(context)
    task.start(config)
    return task, context


def test_batches_as_json_arrays_with_headers(endpoint: Any, sink_context: Any) -> None:
    state, url = endpoint
    task, _ = started(url, sink_context, batch_max_size="3", request_method="PUT",
                      headers="X-Team:data|X-Env: test", auth_type="basic",
                      connection_user="ada", connection_password="pw")  # fmt: skip
    try:
        task.put(records(4))
        assert len(state.requests) == 2  # everything put is sent before put returns
        task.put(records(3, start=4))
    finally:
        task.stop()
    assert [len(r[3]) for r in state.requests] == [3, 1, 3]
    method, path, headers, body = state.requests[0]
    assert (method, path) == ("PUT", "/ingest?src=tidal")
    assert body == [{"id": i, "at": "2026-05-01T08:00:00+00:00"} for i in range(3)]
    assert headers["X-Team"] == "data"
    assert headers["X-Env"] == "test"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"ada:pw").decode()
    assert [r[3][0]["id"] for r in state.requests] == [0, 3, 4]


def test_server_errors_are_retried_then_delivered(endpoint: Any, sink_context: Any) -> None:
    state, url = endpoint
    state.statuses = [503, 500, 429]
    task, _ = started(url, sink_context, batch_max_size="2", max_retries="3")
    try:
        task.put(records(2))
    finally:
        task.stop()
    assert len(state.requests) == 4
    assert state.requests[-1][3] == state.requests[0][3]


def test_retries_run_out_and_the_task_fails(endpoint: Any, sink_context: Any) -> None:
    state, url = endpoint
    state.statuses = [500] * 5
    task, _ = started(url, sink_context, max_retries="2")
    try:
        with pytest.raises(ConnectError, match="after 2 retries"):
            task.put(records(1))
    finally:
        task.stop()
    assert len(state.requests) == 3


def test_connection_errors_are_retried(sink_context: Any) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    task, _ = started(f"http://127.0.0.1:{port}/nothing", sink_context, max_retries="1")
    try:
        with pytest.raises(ConnectError, match="ConnectionRefusedError"):
            task.put(records(1))
    finally:
        task.stop()


def test_client_errors_go_to_the_dead_letter_queue(endpoint: Any, sink_context: Any) -> None:
    state, url = endpoint
    state.statuses = [400]
    task, context = started(url, sink_context, reporter=True, batch_max_size="2")
    try:
        task.put(records(4))
    finally:
        task.stop()
    assert len(state.requests) == 2  # a 4xx is not retried
    assert [r.kafka_offset for r, _ in context.reported] == [0, 1]
    assert "HTTP 400" in str(context.reported[0][1])


def test_client_errors_fail_without_a_dead_letter_queue(endpoint: Any, sink_context: Any) -> None:
    state, url = endpoint
    state.statuses = [404, 404]
    task, _ = started(url, sink_context)
    try:
        with pytest.raises(ConnectError, match="HTTP 404"):
            task.put(records(1))
    finally:
        task.stop()
    ignoring, _ = started(url, sink_context, behavior_on_error="ignore")
    try:
        ignoring.put(records(2))
    finally:
        ignoring.stop()
    assert len(state.requests) == 3


def test_connector_checks_the_url() -> None:
    connector = HttpSinkConnector()
    with pytest.raises(ConfigError, match="http"):
        connector.start({"http.api.url": "ftp://example.com"})
    connector.start({"http.api.url": "http://example.com/x", "topics": "a"})
    assert connector.task_configs(2) == [connector.props, connector.props]
