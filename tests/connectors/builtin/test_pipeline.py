"""End to end on a worker and the embedded broker: datagen → topic → SQL sink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.connectors.runtime._helpers import BROKER_CONFIG, call, wait_for, worker_props
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
