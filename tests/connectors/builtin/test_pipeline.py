"""End to end on a worker and the embedded broker: datagen → topic → SQL sink, and the HTTP
sink's refused records in the dead letter queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    call,
    read_topic,
    wait_for,
    worker_props,
)
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker

_JSON = "org.apache.kafka.connect.json.JsonConverter"
_SCHEMAS = {
    "key.converter": _JSON, "key.converter.schemas.enable": "true",
    "value.converter": _JSON, "value.converter.schemas.enable": "true",
}  # fmt: skip


async def test_datagen_orders_land_once_each_in_the_database(database: Any, tmp_path: Path) -> None:
    source = {
        "connector.class": "DatagenSource", "kafka.topic": "orders", "quickstart": "orders",
        "rate": "0", "seed": "3", "max.records": "60", "batch.size": "25", **_SCHEMAS,
    }  # fmt: skip
    sink = {
        "connector.class": "SqlSink", "topics": "orders", "connection.url": database.url,
        "auto.create": "true", "insert.mode": "upsert", "pk.mode": "record_key",
        "pk.fields": "orderid", "fields.whitelist": "ordertime,itemid,orderunits",
        **_SCHEMAS,
    }  # fmt: skip
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        for name, config in (("datagen", source), ("orders-db", sink)):
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": name, "config": config})  # fmt: skip
            assert status == 201, body

        def landed() -> bool:
            try:
                return database.rows('SELECT COUNT(*) FROM "orders"') == [(60,)]
            except Exception:  # noqa: BLE001 (the table is created by the first put)
                return False

        await wait_for(landed, timeout=60, what="60 rows in the database")
        status, body = await call("GET", worker.url + "/connectors/orders-db/status")
        assert body["tasks"][0]["state"] == "RUNNING"
    rows = database.rows('SELECT orderid, itemid, orderunits FROM "orders" ORDER BY orderid')
    assert [r[0] for r in rows] == list(range(60))
    assert all(r[1].startswith("Item_") and 0.5 <= r[2] <= 10 for r in rows)
    offsets = database.rows('SELECT connector, next_offset FROM "__tidal_connect_offsets"')
    assert offsets == [("orders-db", 60)]


async def test_http_sink_refusals_go_to_the_dead_letter_queue(
    endpoint: Any, tmp_path: Path
) -> None:
    state, url = endpoint
    state.statuses = [200, 400]  # the first request is accepted, the second refused
    sink = {
        "connector.class": "HttpSink", "topics": "users", "http.api.url": url,
        "batch.max.size": "5", "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "users-dlq",
        "errors.deadletterqueue.context.headers.enable": "true",
        "value.converter": _JSON, "value.converter.schemas.enable": "false",
    }  # fmt: skip
    source = {
        "connector.class": "DatagenSource", "kafka.topic": "users", "quickstart": "users",
        "rate": "0", "seed": "1", "max.records": "10", "batch.size": "10",
        "value.converter": _JSON, "value.converter.schemas.enable": "false",
    }  # fmt: skip
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        for name, config in (("users-http", sink), ("users", source)):
            status, body = await call("POST", worker.url + "/connectors",
                                      {"name": name, "config": config})  # fmt: skip
            assert status == 201, body
        await wait_for(lambda: sum(len(r[3]) for r in state.requests) == 10, 30, "10 sent")
        refused = [item for (*_, body), status in zip(state.requests, state.answered,
                                                      strict=True)
                   if status == 400 for item in body]  # fmt: skip
        dead = await read_topic(broker.bootstrap_servers, "users-dlq", len(refused))
        status, body = await call("GET", worker.url + "/connectors/users-http/status")
        assert body["tasks"][0]["state"] == "RUNNING"
    assert state.answered[:2] == [200, 400]
    assert {"registertime", "userid", "regionid", "gender"} == set(refused[0])
    assert [json.loads(r.value) for r in dead] == refused  # type: ignore[arg-type]
    headers = dict(dead[0].headers)
    assert headers["__connect.errors.stage"] == b"TASK_PUT"
    assert b"HTTP 400" in headers["__connect.errors.exception.message"]
