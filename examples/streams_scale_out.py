"""Scale out: two processes of one streams application share its tasks.

Run it with ``python examples/streams_scale_out.py [WORK_DIR]``.

1. This script runs a broker (an ``EmbeddedBroker`` on a thread; any Kafka
   cluster would do) and creates ``page-views`` with 4 partitions.
2. It starts two worker processes, ``A`` and ``B``: this same file with
   ``--worker NAME``, each running the same ``App`` (same
   ``application_id``, so the same consumer group) against that broker, with
   state directories of their own.
3. The topology has two sub-topologies: page views keyed by user are re-keyed
   by page through the repartition topic ``page-views-by-page-repartition``,
   then counted per page in the RocksDB store ``views``. With 4 partitions
   that makes 8 tasks (``0_0`` .. ``1_3``); the group gives each worker some.
4. Once both workers hold tasks, the script writes the page views, reads the
   counts back from ``page-counts`` until they are complete, and stops the
   workers with SIGTERM (each makes a final commit and reports what it did).

The combined result is checked against counts made from the generated views.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import NewTopic, SyncAdminClient
from tidal.log.client.consumer import SyncConsumer, TopicPartition
from tidal.log.client.producer import SyncProducer
from tidal.streams import App

APPLICATION_ID = "page-views"
PARTITIONS = 4
VIEWS = 20_000
PAGES = ["/", "/pricing", "/docs", "/docs/streams", "/blog", "/about", "/careers", "/login"]
TIMEOUT = 90.0


def generate_views(count: int, seed: int = 11) -> list[tuple[str, str]]:
    """(user, page) pairs, the same every run."""
    rng = random.Random(seed)
    return [(f"user-{rng.randrange(500):03d}", rng.choice(PAGES)) for _ in range(count)]


# ---- a worker: one instance of the app ---------------------------------------------------


def build_app(bootstrap: str, state_dir: Path, seen: Counter[str]) -> App:
    """Count views per page; ``seen["views"]`` counts the views this instance read."""

    def count_view(_user: str, _page: str) -> None:
        seen["views"] += 1

    app = App(APPLICATION_ID, bootstrap, state_dir=state_dir, commit_interval_ms=500)
    (
        app.stream("page-views", key_serde="str", value_serde="str")
        .peek(count_view)
        .group_by(lambda _user, page: page, key_serde="str", name="by-page")
        .count("views")
        .to_stream()
        .to("page-counts", key_serde="str", value_serde="long")
    )
    return app


async def run_worker(name: str, bootstrap: str, state_dir: Path) -> None:
    """Run until SIGTERM, printing the tasks whenever they change, then a report."""
    seen: Counter[str] = Counter()
    app = build_app(bootstrap, state_dir, seen)
    await app.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, app.stop)
    processing = asyncio.create_task(app.wait())
    shown: list[str] | None = None
    try:
        while not processing.done():
            tasks = [str(t) for t in app.local_tasks()]
            if tasks != shown:
                print(f"{name} tasks {' '.join(tasks) or '-'}", flush=True)
                shown = tasks
            await asyncio.wait([processing], timeout=0.2)
        await processing
        pages = dict(app.store("views").items())
        held = " ".join(f"{page}={n}" for page, n in sorted(pages.items())) or "-"
        print(f"{name} read {seen['views']} views; its store 'views' holds {held}", flush=True)
    finally:
        await app.close()
    print(f"{name} stopped", flush=True)


# ---- the coordinator: broker, workers, input, result -------------------------------------


class Worker:
    """A worker process and the lines it printed."""

    def __init__(self, name: str, bootstrap: str, work: Path) -> None:
        self.name = name
        self.tasks: set[str] = set()
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(  # noqa: S603  (this file, our arguments)
            [sys.executable, __file__, "--worker", name, "--bootstrap", bootstrap,
             "--state-dir", str(work / f"state-{name}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def poll(self) -> None:
        """Take in what the worker printed so far."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)
            prefix = f"{self.name} tasks "
            if line.startswith(prefix):
                self.tasks = set(line.removeprefix(prefix).split()) - {"-"}

    def stop(self) -> None:
        """SIGTERM, then wait for the final commit and the report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        deadline = time.monotonic() + 5
        while not (self.lines and self.lines[-1].endswith("stopped")):
            if time.monotonic() > deadline:
                break
            self.poll()
            time.sleep(0.05)


def wait_for(condition: object, what: str, workers: list[Worker]) -> None:
    """Poll the workers until ``condition()`` holds."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        for worker in workers:
            worker.poll()
        if callable(condition) and condition():
            return
        for worker in workers:
            if worker.proc.poll() is not None:
                raise SystemExit(f"worker {worker.name} exited early:\n" + "\n".join(worker.lines))
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def read_counts(bootstrap: str, want: Counter[str]) -> dict[str, int]:
    """The latest count per page in ``page-counts`` once they match ``want`` (or time is up)."""
    latest: dict[str, int] = {}
    partitions = [TopicPartition("page-counts", p) for p in range(PARTITIONS)]
    with SyncConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        deadline = time.monotonic() + TIMEOUT
        while latest != want and time.monotonic() < deadline:
            for records in consumer.getmany(timeout_ms=200).values():
                for r in records:
                    latest[r.key.decode()] = int.from_bytes(r.value, "big")
    return latest


def coordinate(work: Path) -> bool:
    views = generate_views(VIEWS)
    want = Counter(page for _, page in views)
    with EmbeddedBroker.sync(work / "broker") as broker:
        bootstrap = broker.bootstrap_servers
        print(f"broker on {bootstrap}")
        with SyncAdminClient(bootstrap_servers=bootstrap) as admin:
            admin.create_topics([NewTopic(t, PARTITIONS) for t in ("page-views", "page-counts")])
        all_tasks = {f"{sub}_{p}" for sub in (0, 1) for p in range(PARTITIONS)}
        workers = [Worker(name, bootstrap, work) for name in ("A", "B")]
        try:
            wait_for(
                lambda: (
                    all(w.tasks for w in workers)
                    and set.union(*(w.tasks for w in workers)) == all_tasks
                    and not set.intersection(*(w.tasks for w in workers))
                ),
                "both workers to hold tasks",
                workers,
            )
            for worker in workers:
                print(f"worker {worker.name} runs tasks {' '.join(sorted(worker.tasks))}")

            with SyncProducer(bootstrap_servers=bootstrap) as producer:
                for user, page in views:
                    producer.send("page-views", page.encode(), user.encode())
                producer.flush()
            print(f"wrote {len(views)} page views to 'page-views'")
            latest = read_counts(bootstrap, want)
        finally:
            for worker in workers:
                worker.stop()
    for worker in workers:
        for line in worker.lines:
            if " read " in line:
                print(f"worker {line}")
    print("\nviews per page (latest in 'page-counts'):")
    for page, n in sorted(latest.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {page:<15} {n}")
    ok = latest == dict(want)
    total = sum(latest.values())
    print(f"\ntotal {total} views; {'matches the input' if ok else 'DOES NOT match the input'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work_dir", nargs="?", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(run_worker(args.worker, args.bootstrap, args.state_dir))
        return 0
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        return 0 if coordinate(args.work_dir) else 1
    with tempfile.TemporaryDirectory(prefix="tidal-scale-out-") as tmp:
        return 0 if coordinate(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
