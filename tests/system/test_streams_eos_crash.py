"""``kill -9`` of an exactly-once Streams app (and of its broker) while it works.

The app (``tidal run``, a subprocess) keeps a per-key running total in a
RocksDB store and sends every new total to ``totals``, under
``processing_guarantee="exactly_once_v2"``. The broker is a ``tidal broker
start`` subprocess. The input arrives in chunks, one before each start of the
app, so the app always has work when it is killed: each run is killed with
SIGKILL at a random moment after it committed something, and every few runs
the broker is killed with SIGKILL and restarted under the working app first.
Finally the app runs until every input offset is committed.

Then the ``read_committed`` output must be exactly what one run without
crashes produces: for each key, the running totals of its values in input
order, each once, none missing; and the changelog holds each final total.

Size: ``TIDAL_EOS_CRASH_RECORDS`` input records (default 100000, the size of
issue 6) and ``TIDAL_EOS_CRASH_KILLS`` app kills (default 24, of which 4 with
the broker killed too); about a minute on two busy cores. Smaller for a slow
machine::

    TIDAL_EOS_CRASH_RECORDS=20000 TIDAL_EOS_CRASH_KILLS=20 \\
        pytest -q tests/system/test_streams_eos_crash.py
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.system.conftest import BrokerProcess
from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.client.producer import Producer

ROOT = Path(__file__).resolve().parents[2]
RECORDS = int(os.environ.get("TIDAL_EOS_CRASH_RECORDS", "100000"))
KILLS = int(os.environ.get("TIDAL_EOS_CRASH_KILLS", "24"))
#: Every how many app runs the broker is killed too.
BROKER_KILL_EVERY = 6
KEYS = 100
PARTITIONS = 3
APP_ID = "eos-crash"
BROKER_SETTINGS = (
    "--set", f"num.partitions={PARTITIONS}",
    "--set", "group.initial.rebalance.delay.ms=0",
    "--set", "group.min.session.timeout.ms=500",
    "--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
)  # fmt: skip

APP_MODULE = """
import asyncio
import signal
import sys

from tidal.streams import App


def _dump_tasks(*_):
    # SIGUSR1 (sent before the harness gives up on a stalled run): where every task waits.
    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:
        return
    for task in tasks:
        print(f"task {task.get_name()}:", file=sys.stderr)
        coro = task.get_coro()
        while coro is not None:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is not None:
                code = frame.f_code
                print(f"    {code.co_filename}:{frame.f_lineno} {code.co_name}", file=sys.stderr)
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)


signal.signal(signal.SIGUSR1, _dump_tasks)

app = App(
    "eos-crash",
    "127.0.0.1:1",  # --bootstrap-server
    state_dir="unused",  # --state-dir
    processing_guarantee="exactly_once_v2",
    client_config={"retry_backoff_ms": 50, "retry_backoff_max_ms": 500},
    consumer_config={
        "session_timeout_ms": 1500,
        "heartbeat_interval_ms": 100,
        "max_poll_interval_ms": 20000,
        "fetch_max_wait_ms": 100,
    },
)
(
    app.stream("numbers", key_serde="str", value_serde="long")
    .group_by_key()
    .reduce(lambda total, n: total + n, "totals", value_serde="long")
    .to_stream()
    .to("totals", key_serde="str", value_serde="long")
)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _input(count: int) -> list[tuple[str, int]]:
    """``(key, value)`` in production order; the values are 1..count, so every
    running total of a key is distinct and a repeat or a gap shows."""
    rng = random.Random(6)
    return [(f"k{rng.randrange(KEYS):03d}", i + 1) for i in range(count)]


def _expected(records: list[tuple[str, int]]) -> dict[str, list[int]]:
    totals: dict[str, list[int]] = {}
    for key, value in records:
        seen = totals.setdefault(key, [])
        seen.append((seen[-1] if seen else 0) + value)
    return totals


class AppProcess:
    """``tidal run crashapp:app`` with its stderr kept in a file."""

    def __init__(self, workdir: Path, bootstrap: str) -> None:
        self.workdir, self.bootstrap = workdir, bootstrap
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "app.log"
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{self.workdir}"}
        env.pop("TIDAL_BOOTSTRAP_SERVERS", None)
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts} at {time.time():.3f}\n".encode())
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tidal",
                    "run",
                    "crashapp:app",
                    "--bootstrap-server",
                    self.bootstrap,
                    "--state-dir",
                    str(self.workdir / "state"),
                ],
                cwd=self.workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def dump(self) -> None:
        """Ask the app to write its tasks' stacks to its log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
            with self.log.open("a") as log:
                log.write(f"--- killed at {time.time():.3f}\n")

    def running(self) -> bool:
        """Whether the last start got as far as running (its SIGTERM handler is in)."""
        last = self.log.read_text().rsplit(f"--- start {self.starts - 1} ", 1)[-1]
        return f"app '{APP_ID}' running against" in last

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


async def _committed_sum(bootstrap: str) -> int:
    """Input offsets the app's group committed (transactions committed); -1 if unknown."""
    try:
        async with AdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, default_api_timeout_ms=4000
        ) as admin:
            offsets = await asyncio.wait_for(admin.list_group_offsets(APP_ID), 5)
    except Exception:  # noqa: BLE001 - the broker may be down or restarting
        return -1
    return sum(om.offset for tp, om in offsets.items() if tp.topic == "numbers")


async def _produce(bootstrap: str, records: list[tuple[str, int]]) -> None:
    async with Producer(bootstrap_servers=bootstrap, linger_ms=5) as producer:
        futures = [
            await producer.send("numbers", value.to_bytes(8, "big", signed=True), key.encode())
            for key, value in records
        ]
        await producer.flush()
        for fut in futures:
            await fut


async def _read(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    async with (
        Consumer(
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        ) as consumer,
        AdminClient(bootstrap_servers=bootstrap) as admin,
    ):
        described = await admin.describe_topics([topic])
        tps = [TopicPartition(topic, p.partition) for p in described[topic].partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        out: list[ConsumerRecord] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                return out
            batch = await consumer.getmany(timeout_ms=200)
            out += [r for records in batch.values() for r in records]
        raise AssertionError(f"could not read {topic} to its end")


@pytest.mark.slow
async def test_exactly_once_survives_kill_9_of_app_and_broker(
    tmp_path: Path, broker_process: type[BrokerProcess]
) -> None:
    started = time.monotonic()
    broker = broker_process(tmp_path / "broker", _free_port(), *BROKER_SETTINGS)
    broker.start()
    bootstrap = broker.bootstrap_servers
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic("numbers", num_partitions=PARTITIONS)])
    (tmp_path / "crashapp.py").write_text(textwrap.dedent(APP_MODULE))
    records = _input(RECORDS)
    chunk = -(-RECORDS // KILLS)
    app = AppProcess(tmp_path, bootstrap)
    rng = random.Random()
    app_kills = broker_kills = stalled = 0

    async def progress(past: int, timeout: float = 60) -> bool:
        """Wait until the committed input offsets reach ``past``, starting the app
        again if it stopped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not app.alive():
                app.start()  # it stopped by itself (fenced, say): a supervisor restarts it
            if await _committed_sum(bootstrap) >= past:
                return True
            await asyncio.sleep(0.1)
        app.dump()
        await asyncio.sleep(0.5)
        return False

    try:
        for run in range(KILLS):
            fed = records[: (run + 1) * chunk]
            await _produce(bootstrap, records[run * chunk : (run + 1) * chunk])
            before = await _committed_sum(bootstrap)
            app.start()
            # Kill it at a random moment once it has committed work of this run.
            stalled += not await progress(min(max(before, 0) + 1, len(fed)))
            if run % BROKER_KILL_EVERY == BROKER_KILL_EVERY - 1:
                await asyncio.sleep(rng.uniform(0, 0.5))
                broker.kill()  # mid-transaction, most likely
                broker_kills += 1
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                broker.start()
                # The app rides the restart (or stops and is started again) and
                # finishes the input it has.
                stalled += not await progress(len(fed))
            await asyncio.sleep(rng.uniform(0, 0.6))
            app.kill()
            app_kills += 1
        app.start()
        deadline = time.monotonic() + 300
        while await _committed_sum(bootstrap) != RECORDS or not app.running():
            assert time.monotonic() < deadline, app.log.read_text()[-6000:]
            if not app.alive():
                app.start()
            await asyncio.sleep(0.2)
        assert app.stop() == 0, app.log.read_text()[-6000:]
    finally:
        app.kill()
    out = await _read(bootstrap, "totals")
    changelog = await _read(bootstrap, f"{APP_ID}-totals-changelog")
    elapsed = time.monotonic() - started
    print(
        f"\n{RECORDS} records, {app_kills} app kills, {broker_kills} broker kills, "
        f"{app.starts} app starts ({app.starts - app_kills - 1} after the app stopped by "
        f"itself), {stalled} runs without progress, {elapsed:.0f} s"
    )
    assert app_kills >= min(KILLS, 20)
    seen: dict[str, list[int]] = {}
    for r in sorted(out, key=lambda r: (r.partition, r.offset)):
        assert r.key is not None
        assert r.value is not None
        seen.setdefault(r.key.decode(), []).append(int.from_bytes(r.value, "big", signed=True))
    expected = _expected(records)
    wrong = {k: (seen.get(k), v) for k, v in expected.items() if seen.get(k) != v}
    assert not wrong, f"{len(wrong)} keys differ, e.g. {next(iter(wrong.items()))}"
    assert set(seen) == set(expected)
    finals: dict[str, int] = {}
    for r in sorted(changelog, key=lambda r: (r.partition, r.offset)):
        assert r.key is not None
        assert r.value is not None
        finals[r.key.decode()] = int.from_bytes(r.value, "big", signed=True)
    assert finals == {k: v[-1] for k, v in expected.items()}
