"""A file → topic → file pipeline on a Connect worker, driven through its REST API.

Run it with a scratch directory::

    python examples/connect_file_pipeline.py /tmp/pipeline
    python examples/connect_file_pipeline.py /tmp/pipeline --task-processes 2


It starts an embedded broker and a standalone worker (REST on a free port), creates a
FileStreamSource and a FileStreamSink with ``POST /connectors`` exactly as one would with
``curl``, waits until the output file equals the input, pauses and resumes the sink, then
stops the source and rewinds its offsets with the KIP-875 endpoints so the file is read
again. Everything it does is printed, requests first. With ``--task-processes N`` the
worker runs the two tasks in task processes (``task.processes=N``), one core each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tidal.connectors.rest import ConnectWorker
from tidal.log.broker import EmbeddedBroker

LINES = [f"order {n}: {qty} x item-{n % 7}" for n, qty in enumerate(range(1, 26))]
STRING = "org.apache.kafka.connect.storage.StringConverter"


def request(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP request, as curl would make it; returns (status, JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(  # noqa: S310 (the worker's own http:// URL)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


async def rest(base: str, method: str, path: str, body: Any = None) -> Any:
    """Call the worker off the event loop (it serves on this loop) and print the exchange."""
    status, answer = await asyncio.to_thread(request, method, base + path, body)
    shown = json.dumps(answer) if answer is not None else ""
    print(f"{method} {path} -> {status} {shown}")
    return answer


async def wait_until(check: Any, what: str, timeout: float = 30.0) -> None:
    """Poll ``check()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def read_lines(path: Path) -> list[str]:
    """The file's lines ([] before it exists)."""
    return path.read_text().splitlines() if path.exists() else []


async def main(workdir: Path, task_processes: int = 0) -> None:
    """Run the pipeline in ``workdir`` (tasks in ``task_processes`` task processes)."""
    workdir.mkdir(parents=True, exist_ok=True)
    source, sink = workdir / "orders.txt", workdir / "orders-copy.txt"
    source.write_text("".join(line + "\n" for line in LINES))
    sink.unlink(missing_ok=True)
    worker_config = {
        "listeners": "http://127.0.0.1:0",
        "offset.storage.file.filename": str(workdir / "connect.offsets"),
        "offset.flush.interval.ms": "500",
        "key.converter": STRING,
        "value.converter": STRING,
        "task.processes": str(task_processes),
    }
    # No initial rebalance delay: the sink's consumer group forms at once (a broker's
    # default waits 3 s for more members to join).
    broker_config = {"group.initial.rebalance.delay.ms": "0"}
    async with EmbeddedBroker(data_dir=workdir / "broker", config=broker_config) as broker:
        worker_config["bootstrap.servers"] = broker.bootstrap_servers
        async with ConnectWorker(worker_config) as worker:
            base = worker.url
            await rest(base, "POST", "/connectors", {"name": "orders-source", "config": {
                "connector.class": "FileStreamSource", "file": str(source), "topic": "orders",
            }})  # fmt: skip
            await rest(base, "POST", "/connectors", {"name": "orders-sink", "config": {
                "connector.class": "FileStreamSink", "file": str(sink), "topics": "orders",
            }})  # fmt: skip
            await wait_until(lambda: read_lines(sink) == LINES, "the copy")
            print(f"copied {len(LINES)} lines: {read_lines(sink) == LINES}")
            await rest(base, "GET", "/connectors/orders-sink/status")
            processes = worker.herder.env.processes
            if processes is not None:
                pids = sorted(processes.pids)
                print(f"worker process {os.getpid()}, task processes {pids}")

            await rest(base, "PUT", "/connectors/orders-sink/pause")
            await rest(base, "PUT", "/connectors/orders-sink/resume")

            # Read the file again from the start: stop, reset the offsets, resume.
            await rest(base, "PUT", "/connectors/orders-source/stop")
            await rest(base, "GET", "/connectors/orders-source/offsets")
            await rest(base, "DELETE", "/connectors/orders-source/offsets")
            await rest(base, "PUT", "/connectors/orders-source/resume")
            await wait_until(lambda: read_lines(sink) == LINES * 2, "the second copy")
            print(
                f"after the rewind the copy holds each line twice: {read_lines(sink) == LINES * 2}"
            )
            await rest(base, "GET", "/connectors/orders-source/status")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A file → topic → file Connect pipeline.")
    parser.add_argument("workdir", nargs="?", type=Path, default=Path("connect-pipeline"))
    parser.add_argument("--task-processes", type=int, default=0, metavar="N",
                        help="run the tasks in N task processes (task.processes)")  # fmt: skip
    args = parser.parse_args()
    asyncio.run(main(args.workdir, args.task_processes))
