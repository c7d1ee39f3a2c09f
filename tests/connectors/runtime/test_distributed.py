"""Distributed mode in one process: two workers of one group share connectors, answer for
each other over REST, and hand connectors over when one leaves, losing nothing."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from tests.connectors.runtime._helpers import (
    BROKER_CONFIG,
    STRING,
    call,
    lines,
    read_topic,
    wait_for,
)
from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer

SLOTS = 4


def _props(bootstrap: str) -> dict[str, str]:
    return {
        "bootstrap.servers": bootstrap, "listeners": "http://127.0.0.1:0", "group.id": "g",
        "offset.flush.interval.ms": "200", "key.converter": STRING, "value.converter": STRING,
        "session.timeout.ms": "3000", "heartbeat.interval.ms": "300",
        "offset.storage.partitions": str(SLOTS), "status.storage.partitions": "2",
        "config.storage.replication.factor": "1",
    }  # fmt: skip


def _names() -> list[str]:
    """Connector names covering every slot, so that both workers get some."""
    names: dict[int, str] = {}
    i = 0
    while len(names) < SLOTS:
        names.setdefault(zlib.crc32(f"src{i}".encode()) % SLOTS, f"src{i}")
        i += 1
    return sorted(names.values())


async def _owners(url: str, names: list[str]) -> dict[str, str] | None:
    owners = {}
    for name in names:
        status, body = await call("GET", f"{url}/connectors/{name}/status")
        if status != 200 or body["connector"]["state"] != "RUNNING":
            return None
        if [t["state"] for t in body["tasks"]] != ["RUNNING"]:
            return None
        owners[name] = body["tasks"][0]["worker_id"]
    return owners


async def _config_records(bootstrap: str) -> dict[str, Any]:
    async with Consumer(bootstrap_servers=bootstrap) as consumer:
        consumer.assign([TopicPartition("connect-configs", 0)])
        consumer.seek_to_beginning(TopicPartition("connect-configs", 0))
        records: dict[str, Any] = {}
        for _ in range(10):
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                for r in batch:
                    records[r.key.decode()] = json.loads(r.value) if r.value else None
        return records


async def test_two_workers_share_connectors_and_hand_them_over(tmp_path: Path) -> None:
    names = _names()
    async with EmbeddedBroker(config=BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        async with ConnectWorker(_props(bootstrap), distributed=True) as first:
            second = ConnectWorker(_props(bootstrap), distributed=True)
            await second.start()
            try:
                for name in names:
                    (tmp_path / f"{name}.txt").write_text(f"{name} 1\n{name} 2\n")
                    config = {"connector.class": "FileStreamSource",
                              "file": str(tmp_path / f"{name}.txt"), "topic": "lines"}  # fmt: skip
                    status, info = await call("POST", first.url + "/connectors",
                                              {"name": name, "config": config})  # fmt: skip
                    assert status == 201, info
                assert (await call("POST", second.url + "/connectors",
                                   {"name": names[0], "config": config}))[0] == 409  # fmt: skip
                owners: dict[str, str] = {}

                async def spread() -> bool:
                    found = await _owners(second.url, names)
                    owners.update(found or {})
                    return found is not None

                await wait_for(spread, 30, "every connector running")
                assert set(owners.values()) == {first.herder.worker_id, second.herder.worker_id}
                assert (await call("GET", first.url + "/connectors"))[1] == names
                status, tasks = await call("GET", first.url + f"/connectors/{names[0]}/tasks")
                assert tasks[0]["config"]["topic"] == "lines"
                records = await read_topic(bootstrap, "lines", 2 * len(names))

                # Kafka's record formats in the config topic.
                config_topic = await _config_records(bootstrap)
                assert config_topic[f"connector-{names[0]}"]["properties"]["topic"] == "lines"
                assert config_topic[f"commit-{names[0]}"] == {"tasks": 1}
                assert config_topic[f"task-{names[0]}-0"]["properties"]["topic"] == "lines"

                # A sink's two tasks run in neighbouring slots, on different workers.
                async with AdminClient(bootstrap_servers=bootstrap) as admin:
                    await admin.create_topics([NewTopic("two", 2)])
                async with Producer(bootstrap_servers=bootstrap) as producer:
                    for n in range(20):
                        await producer.send("two", b"r%d" % n, partition=n % 2)
                    await producer.flush()
                sink = {"connector.class": "FileStreamSink", "file": str(tmp_path / "two.txt"),
                        "topics": "two", "tasks.max": "2"}  # fmt: skip
                assert (await call("POST", second.url + "/connectors",
                                   {"name": "two", "config": sink}))[0] == 201  # fmt: skip

                async def spread_tasks() -> bool:
                    _, body = await call("GET", first.url + "/connectors/two/status")
                    states = [(t["state"], t["worker_id"]) for t in body["tasks"]]
                    return (
                        len(states) == 2
                        and {s for s, _ in states} == {"RUNNING"}
                        and len({w for _, w in states}) == 2
                    )

                await wait_for(spread_tasks, 30, "the sink's tasks on both workers")
                await wait_for(lambda: len(lines(tmp_path / "two.txt")) == 20, 30, "20 lines")
                assert sorted(lines(tmp_path / "two.txt")) == sorted(f"r{n}" for n in range(20))
                assert (await call("DELETE", first.url + "/connectors/two"))[0] == 204

                # Pausing through either worker reaches the task's worker.
                name = next(n for n, o in owners.items() if o == first.herder.worker_id)
                assert (await call("PUT", second.url + f"/connectors/{name}/pause"))[0] == 202

                async def paused() -> bool:
                    _, body = await call("GET", first.url + f"/connectors/{name}/status")
                    return body["connector"]["state"] == "PAUSED" and [
                        t["state"] for t in body["tasks"]
                    ] == ["PAUSED"]

                await wait_for(paused, 10, "the pause")
                assert (await call("PUT", second.url + f"/connectors/{name}/resume"))[0] == 202
            finally:
                await second.stop()

            # The second worker left: its connectors move to the first, which resumes
            # from the offsets they committed.
            for name in names:
                with (tmp_path / f"{name}.txt").open("a") as f:
                    f.write(f"{name} 3\n")

            async def all_on_first() -> bool:
                found = await _owners(first.url, names)
                return found is not None and set(found.values()) == {first.herder.worker_id}

            await wait_for(all_on_first, 30, "every connector on the first worker")
            records = await read_topic(bootstrap, "lines", 3 * len(names))
            values = sorted(r.value.decode() for r in records)  # type: ignore[union-attr]
            assert values == sorted(f"{n} {i}" for n in names for i in (1, 2, 3))

            # Offsets and deletion through the cluster's topics.
            name = names[0]
            assert (await call("PUT", first.url + f"/connectors/{name}/stop"))[0] == 204

            async def stopped() -> bool:
                _, body = await call("GET", first.url + f"/connectors/{name}/status")
                return body["connector"]["state"] == "STOPPED" and body["tasks"] == []

            await wait_for(stopped, 10, "STOPPED")
            position = len(f"{name} 1\n{name} 2\n{name} 3\n".encode())
            assert await call("GET", first.url + f"/connectors/{name}/offsets") == (200, {
                "offsets": [{"partition": {"filename": str(tmp_path / f"{name}.txt")},
                             "offset": {"position": position}}]})  # fmt: skip
            assert (await call("DELETE", first.url + f"/connectors/{name}/offsets"))[0] == 200
            assert await call("GET", first.url + f"/connectors/{name}/offsets") == (
                200, {"offsets": []},
            )  # fmt: skip
            assert await call("DELETE", first.url + f"/connectors/{name}") == (204, None)
            assert (await call("GET", first.url + f"/connectors/{name}"))[0] == 404
            assert (await call("GET", first.url + "/connectors"))[1] == names[1:]
