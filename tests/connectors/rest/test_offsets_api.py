"""KIP-875 offsets over REST: read, alter and reset them on STOPPED connectors."""

from __future__ import annotations

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

_NOT_STOPPED = (
    "Connectors must be in the STOPPED state before their offsets can be modified. This can "
    "be done for the specified connector by issuing a 'PUT' request to the "
    "'/connectors/{name}/stop' endpoint"
)
_ALTERED = "The offsets for this connector have been altered successfully"
_RESET = "The offsets for this connector have been reset successfully"


async def _stopped(url: str, name: str) -> bool:
    _, body = await call("GET", f"{url}/connectors/{name}/status")
    return body["connector"]["state"] == "STOPPED" and body["tasks"] == []


async def test_source_offsets(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\nbb\nccc\n")
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url, bootstrap = worker.url, broker.bootstrap_servers
        config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "t"}
        assert (await call("POST", url + "/connectors", {"name": "src", "config": config}))[
            0
        ] == 201
        partition = {"filename": str(source)}
        expected = {"offsets": [{"partition": partition, "offset": {"position": 9}}]}
        await wait_for(
            lambda: _offsets_are(url, "src", expected), what="offsets committed while running"
        )
        for method in ("PATCH", "DELETE"):
            body = {"offsets": [{"partition": partition, "offset": None}]}
            assert await call(method, url + "/connectors/src/offsets", body) == (
                400, {"error_code": 400, "message": _NOT_STOPPED.format(name="src")},
            )  # fmt: skip
        assert (await call("PUT", url + "/connectors/src/pause"))[0] == 202
        assert (await call("PATCH", url + "/connectors/src/offsets", {"offsets": []}))[0] == 400

        assert await call("PUT", url + "/connectors/src/stop") == (204, None)
        await wait_for(lambda: _stopped(url, "src"), what="STOPPED")
        status, body = await call("PATCH", url + "/connectors/src/offsets", {"offsets": [
            {"partition": partition, "offset": {"position": 2}}]})  # fmt: skip
        assert (status, body) == (200, {"message": _ALTERED})
        assert await call("GET", url + "/connectors/src/offsets") == (200, {"offsets": [
            {"partition": partition, "offset": {"position": 2}}]})  # fmt: skip
        status, body = await call("PATCH", url + "/connectors/src/offsets", {"offsets": [
            {"partition": {"file": "x"}, "offset": {"position": 2}}]})  # fmt: skip
        assert status == 400
        assert "filename" in body["message"]

        # Resuming re-reads from byte 2: "bb" and "ccc" a second time.
        assert (await call("PUT", url + "/connectors/src/resume"))[0] == 202
        records = await read_topic(bootstrap, "t", 5)
        assert [r.value for r in records] == [b"a", b"bb", b"ccc", b"bb", b"ccc"]

        assert (await call("PUT", url + "/connectors/src/stop"))[0] == 204
        assert await call("DELETE", url + "/connectors/src/offsets") == (200, {"message": _RESET})
        assert await call("GET", url + "/connectors/src/offsets") == (200, {"offsets": []})
        assert (await call("PUT", url + "/connectors/src/resume"))[0] == 202
        records = await read_topic(bootstrap, "t", 8)
        assert [r.value for r in records[5:]] == [b"a", b"bb", b"ccc"]


async def _offsets_are(url: str, name: str, expected: object) -> bool:
    return await call("GET", f"{url}/connectors/{name}/offsets") == (200, expected)


async def test_sink_offsets(tmp_path: Path) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"{i}\n" for i in range(5)))
    async with (
        EmbeddedBroker(config=BROKER_CONFIG) as broker,
        ConnectWorker(worker_props(broker.bootstrap_servers, tmp_path)) as worker,
    ):
        url = worker.url
        for name, config in (
            ("src", {"connector.class": "FileStreamSource", "file": str(source), "topic": "t"}),
            ("sink", {"connector.class": "FileStreamSink", "file": str(sink), "topics": "t"}),
        ):
            assert (await call("POST", url + "/connectors", {"name": name, "config": config}))[
                0
            ] == 201
        await wait_for(lambda: len(lines(sink)) == 5, what="5 lines written")
        partition = {"kafka_topic": "t", "kafka_partition": 0}
        expected = {"offsets": [{"partition": partition, "offset": {"kafka_offset": 5}}]}
        await wait_for(lambda: _offsets_are(url, "sink", expected), what="sink offsets")

        assert (await call("PUT", url + "/connectors/sink/stop"))[0] == 204
        await wait_for(lambda: _stopped(url, "sink"), what="STOPPED")
        status, body = await call("PATCH", url + "/connectors/sink/offsets", {"offsets": [
            {"partition": partition, "offset": {"kafka_offset": 3}}]})  # fmt: skip
        assert (status, body) == (200, {"message": _ALTERED})
        status, body = await call("PATCH", url + "/connectors/sink/offsets", {"offsets": [
            {"partition": {"kafka_topic": "t"}, "offset": {"kafka_offset": 3}}]})  # fmt: skip
        assert status == 400
        assert "kafka_partition" in body["message"]
        assert await call("GET", url + "/connectors/sink/offsets") == (200, {"offsets": [
            {"partition": partition, "offset": {"kafka_offset": 3}}]})  # fmt: skip

        assert (await call("PUT", url + "/connectors/sink/resume"))[0] == 202
        await wait_for(lambda: lines(sink) == ["0", "1", "2", "3", "4", "3", "4"], what="replay")

        assert (await call("PUT", url + "/connectors/sink/stop"))[0] == 204
        await wait_for(lambda: _stopped(url, "sink"), what="STOPPED again")
        assert await call("DELETE", url + "/connectors/sink/offsets") == (200, {"message": _RESET})
        assert await call("GET", url + "/connectors/sink/offsets") == (200, {"offsets": []})
