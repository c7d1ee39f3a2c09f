"""Streams benchmark: one stateful per-key aggregate in Tidal Streams, Quix Streams and Faust,
on the same broker and the same input, in one run::

    python bench/streams.py [--records 1000000] [--keys 10000] [--partitions 4]
                            [--frameworks tidal,quix,faust] [--brokers tidal,kafka]

1. The broker starts in its own process: Tidal's (``tidal broker start``) and, where Java is
   present, Apache Kafka's (``tests/peers/kafka-jvm/kafka.sh``).
2. The input topic (``--partitions`` partitions) is filled once per broker, before anything is
   timed, with ``--records`` JSON values ``{"user": "user-00042", "amount": 37, "seq": 12}``
   keyed by ``user`` (``--keys`` users, amounts 1..999, a fixed seed).
3. Each framework then runs as a fresh process of its own (``worker`` subcommand) with a new
   group and state directory, and does the same work: consume the JSON, keep ``count`` and
   ``sum`` of ``amount`` per key in its RocksDB state (with its changelog topic), and produce
   the updated aggregate ``{"count": c, "sum": s}`` for every record to an output topic.
   Commits every 5 s in all three (Quix's default).
4. A watcher in this process reads the output topic from the beginning. Throughput is
   ``--records`` over the time from the worker's first consumed record (the worker writes the
   wall-clock time to a file) to the watcher receiving the last output record. The final
   aggregate of every key in the output topic is checked against the input.

Quix Streams and Faust pin versions of click and confluent-kafka older than Tidal's test
dependencies, so they run in a virtual environment of their own: ``--peer-python`` names its
interpreter; by default ``build/bench-venvs/streams`` is created on first use with
``pip install quixstreams==3.28.1 faust-streaming==0.15.3`` (network needed once).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _streams_input import SEED, expected_totals, generate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "streams.json"
DEFAULT_PEER_VENV = ROOT / "build" / "bench-venvs" / "streams"
PEER_PACKAGES = ["quixstreams==3.28.1", "faust-streaming==0.15.3"]
FRAMEWORKS = ["tidal", "quix", "faust"]
LABELS = {"tidal": "Tidal Streams", "quix": "Quix Streams", "faust": "Faust"}
BROKERS = ["tidal", "kafka"]
GOAL = 2.0  # Tidal / Quix Streams (issue 5)
COMMIT_INTERVAL_S = 5.0
QUIET_CORES = 0.3


# ---- the input ------------------------------------------------------------------------


# ---- workers: one framework, in a process of its own ----------------------------------
#
# A worker imports nothing but its framework (Quix Streams and Faust run in their own
# virtual environment), writes the wall-clock time of its first record to ``started``
# and runs until SIGTERM.


@dataclass(frozen=True, slots=True)
class WorkerArgs:
    bootstrap: str
    input_topic: str
    output_topic: str
    group: str
    state_dir: Path
    started: Path
    partitions: int


class _FirstRecord:
    """Writes the time of the first call to a file; one attribute check afterwards."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = False

    def __call__(self) -> None:
        if not self.seen:
            self.seen = True
            self.path.write_text(repr(time.time()))


def run_tidal_worker(args: WorkerArgs) -> None:
    """Tidal Streams: ``group_by_key().aggregate(...)`` into RocksDB, every update out."""
    from tidal.streams import App  # noqa: PLC0415  (the harness needs no streams import)

    first = _FirstRecord(args.started)
    app = App(
        args.group,
        bootstrap_servers=args.bootstrap,
        state_dir=args.state_dir,
        commit_interval_ms=int(COMMIT_INTERVAL_S * 1000),
    )

    def initial() -> dict[str, int]:
        return {"count": 0, "sum": 0}

    def add(_key: str, value: dict[str, Any], total: dict[str, int]) -> dict[str, int]:
        first()
        return {"count": total["count"] + 1, "sum": total["sum"] + value["amount"]}

    (
        app.stream(args.input_topic, key_serde="str", value_serde="json")
        .group_by_key()
        .aggregate(initial, add, "totals", value_serde="json")
        .to_stream()
        .to(args.output_topic, key_serde="str", value_serde="json")
    )
    app.run()


def run_quix_worker(args: WorkerArgs) -> None:
    """Quix Streams: a stateful ``apply`` keeping the aggregate in its RocksDB state."""
    from quixstreams import Application  # type: ignore[import-not-found]  # noqa: PLC0415

    first = _FirstRecord(args.started)
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=str(args.state_dir),
        commit_interval=COMMIT_INTERVAL_S,
        processing_guarantee="at-least-once",
        auto_create_topics=True,
        loglevel="WARNING",
    )
    source = app.topic(args.input_topic, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output_topic, key_serializer="str", value_serializer="json")

    def add(value: dict[str, Any], state: Any) -> dict[str, int]:
        first()
        total = state.get("total", None)
        if total is None:
            total = {"count": 0, "sum": 0}
        total = {"count": total["count"] + 1, "sum": total["sum"] + value["amount"]}
        state.set("total", total)
        return total

    sdf = app.dataframe(source)
    sdf = sdf.apply(add, stateful=True)
    sdf.to_topic(sink)
    app.run()


def run_faust_worker(args: WorkerArgs) -> None:
    """Faust: an agent over the input topic, a RocksDB-backed ``Table`` (rocksdict)."""
    import faust  # type: ignore[import-not-found]  # noqa: PLC0415
    from faust.worker import Worker  # type: ignore[import-not-found]  # noqa: PLC0415

    first = _FirstRecord(args.started)
    app = faust.App(
        args.group,
        broker=f"kafka://{args.bootstrap}",
        store="rocksdb://",
        datadir=str(args.state_dir),
        topic_partitions=args.partitions,
        broker_commit_interval=COMMIT_INTERVAL_S,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="json",
    )
    source = app.topic(args.input_topic, key_serializer="raw", value_serializer="json")
    sink = app.topic(args.output_topic, key_serializer="raw", value_serializer="json")
    table = app.Table("totals", partitions=args.partitions, key_type=bytes)

    @app.agent(source)  # type: ignore[untyped-decorator]
    async def aggregate(stream: Any) -> None:
        async for key, value in stream.items():
            first()
            total = table.get(key) or {"count": 0, "sum": 0}
            total = {"count": total["count"] + 1, "sum": total["sum"] + value["amount"]}
            table[key] = total
            await sink.send(key=key, value=total)

    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


WORKERS = {"tidal": run_tidal_worker, "quix": run_quix_worker, "faust": run_faust_worker}


def worker_main(argv: Sequence[str]) -> int:
    """``streams.py worker FRAMEWORK --bootstrap ... ``: run one framework until SIGTERM."""
    parser = argparse.ArgumentParser(prog="streams.py worker")
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--started", type=Path, required=True)
    parser.add_argument("--partitions", type=int, required=True)
    ns = parser.parse_args(argv)
    WORKERS[ns.framework](
        WorkerArgs(
            bootstrap=ns.bootstrap,
            input_topic=ns.input,
            output_topic=ns.output,
            group=ns.group,
            state_dir=ns.state_dir,
            started=ns.started,
            partitions=ns.partitions,
        )
    )
    return 0


# ---- the harness ------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One framework's measured run on one broker."""

    framework: str
    broker: str
    records: int
    seconds: float | None = None
    worker_cpu_seconds: float | None = None
    broker_cpu_seconds: float | None = None
    outputs: int = 0
    verified: bool = False
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None
    worker_exit_code: int | None = None
    #: Cores other processes (not the worker, the broker or the watcher) kept busy
    #: during the timed window, and the seconds waited for them to quieten first.
    other_cores: float | None = None
    settled_seconds: float = 0.0

    @property
    def records_per_s(self) -> float | None:
        """Input records a second, ``None`` when the run failed."""
        if self.seconds is None or self.seconds <= 0 or self.error is not None:
            return None
        return self.records / self.seconds

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON object."""
        rate = self.records_per_s

        def per_record(cpu: float | None) -> float | None:
            return None if cpu is None or rate is None else round(cpu / self.records * 1e6, 2)

        return {
            "framework": self.framework,
            "broker": self.broker,
            "records": self.records,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "records_per_s": None if rate is None else round(rate, 1),
            "outputs_received": self.outputs,
            "verified": self.verified,
            "mismatches": self.mismatches[:10],
            "worker_cpu_us_per_record": per_record(self.worker_cpu_seconds),
            "broker_cpu_us_per_record": per_record(self.broker_cpu_seconds),
            "worker_exit_code": self.worker_exit_code,
            "other_cores": None if self.other_cores is None else round(self.other_cores, 2),
            "settled_seconds": round(self.settled_seconds, 1),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Settings:
    records: int
    keys: int
    partitions: int
    timeout: float
    idle_timeout: float
    settle: float = 0.0


def ensure_peer_python(requested: Path | None, console: Any) -> tuple[Path | None, str | None]:
    """The interpreter of the Quix Streams / Faust environment, or why there is none."""
    if requested is not None:
        return (requested, None) if requested.exists() else (None, f"{requested} not found")
    python = DEFAULT_PEER_VENV / "bin" / "python"
    if not python.exists():
        console.print(f"creating {DEFAULT_PEER_VENV} with {' '.join(PEER_PACKAGES)}")
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(DEFAULT_PEER_VENV)], check=True, timeout=300
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES],
                check=True,
                timeout=1800,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(DEFAULT_PEER_VENV, ignore_errors=True)
            return None, f"cannot create the peer environment ({exc}); give --peer-python"
    return python, None


def peer_versions(python: Path) -> dict[str, str]:
    """Versions of the peer frameworks (and their Kafka clients) in their environment."""
    code = (
        "import importlib.metadata as m, json\n"
        "names = ['quixstreams', 'faust-streaming', 'confluent-kafka', 'aiokafka', 'rocksdict']\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    try:
        versions: dict[str, str] = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {}
    return versions


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int) -> None:
    """Create ``names`` with ``partitions`` partitions each."""
    from tidal.log.client.admin import AdminClient, NewTopic  # noqa: PLC0415

    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])


async def fill_input(
    bootstrap: str, topic: str, keys: Sequence[str], values: Sequence[bytes]
) -> float:
    """Produce the input records (not timed against anyone); returns the seconds it took."""
    from tidal.log.client.producer import Producer  # noqa: PLC0415

    start = time.perf_counter()
    async with Producer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=65_536
    ) as producer:
        send = producer.send
        for key, value in zip(keys, values, strict=True):
            await send(topic, value, key.encode())
        await producer.flush()
    return time.perf_counter() - start


async def watch(
    bootstrap: str,
    topic: str,
    partitions: int,
    settings: Settings,
    proc: Any,
    started: Path,
    run: Run,
    broker_pid: int,
) -> dict[bytes, bytes]:
    """Read ``topic`` until ``settings.records`` outputs arrived; fill in ``run``'s timings.

    Returns the last value per key. Stops early when the worker exits or nothing arrives
    for ``settings.idle_timeout`` seconds (``run.error`` says which).
    """
    from peers import cpu_seconds, machine_cpu_seconds  # noqa: PLC0415

    from tidal.log.client.consumer import Consumer, TopicPartition  # noqa: PLC0415

    last: dict[bytes, bytes] = {}
    worker_cpu0 = broker_cpu0 = None
    # Others' cores are measured over the whole watch, start-up included (every term over
    # the same window): a small run can start and finish within one clock tick.
    window0 = (cpu_seconds(proc.pid), cpu_seconds(broker_pid), machine_cpu_seconds(),
               os.times()[:2])  # fmt: skip
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        consumer.seek_to_beginning()
        deadline = time.monotonic() + settings.timeout
        quiet_since = time.monotonic()
        while run.outputs < settings.records:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.monotonic()
            for records in batches.values():
                run.outputs += len(records)
                for record in records:
                    last[record.key] = record.value
            if batches:
                quiet_since = now
            if worker_cpu0 is None and started.exists():
                worker_cpu0 = cpu_seconds(proc.pid)
                broker_cpu0 = cpu_seconds(broker_pid)
            if proc.returncode is not None:
                run.error = f"the worker exited with {proc.returncode} before the end"
                break
            if now - quiet_since > settings.idle_timeout or now > deadline:
                run.error = f"stalled: {run.outputs:,} of {settings.records:,} outputs"
                break
        end = time.time()
        worker_cpu1, broker_cpu1 = cpu_seconds(proc.pid), cpu_seconds(broker_pid)
        machine1, self1 = machine_cpu_seconds(), os.times()[:2]
    if run.error is None:
        run.seconds = end - float(started.read_text())
        if worker_cpu0 is not None and worker_cpu1 is not None:
            run.worker_cpu_seconds = worker_cpu1 - worker_cpu0
        if broker_cpu0 is not None and broker_cpu1 is not None:
            run.broker_cpu_seconds = broker_cpu1 - broker_cpu0
        run.other_cores = _other_cores(window0, (worker_cpu1, broker_cpu1, machine1, self1))
    return last


def _other_cores(start: tuple[Any, ...], end: tuple[Any, ...]) -> float | None:
    """Cores kept busy by processes other than the worker, the broker and this script
    between two ``(worker CPU, broker CPU, machine_cpu_seconds(), os.times()[:2])``."""
    (worker0, broker0, machine0, self0), (worker1, broker1, machine1, self1) = start, end
    wall = (machine1[1] - machine0[1]) / (os.cpu_count() or 1)
    if None in (worker0, broker0, worker1, broker1) or wall <= 0:
        return None
    ours = worker1 - worker0 + broker1 - broker0 + sum(self1) - sum(self0)
    return max(0.0, (machine1[0] - machine0[0] - ours) / wall)


async def wait_for_quiet(broker_pid: int, limit: float, console: Any) -> float:
    """Wait (at most ``limit`` seconds) until processes other than the broker keep fewer
    than ``QUIET_CORES`` cores busy over half a second; the seconds waited.

    Other work on a shared machine takes CPU from whichever framework is measured;
    waiting it out keeps the runs comparable."""
    import asyncio  # noqa: PLC0415

    from peers import cpu_seconds, machine_cpu_seconds  # noqa: PLC0415

    start = time.monotonic()
    with console.status("") as status:
        while True:
            busy0, total0 = machine_cpu_seconds()
            broker0 = cpu_seconds(broker_pid) or 0.0
            await asyncio.sleep(0.5)
            busy1, total1 = machine_cpu_seconds()
            broker1 = cpu_seconds(broker_pid) or 0.0
            wall = (total1 - total0) / (os.cpu_count() or 1)
            others = ((busy1 - busy0) - (broker1 - broker0)) / wall if wall > 0 else 0.0
            waited = time.monotonic() - start
            if others < QUIET_CORES or waited >= limit:
                return waited
            status.update(
                f"  waiting for other processes to quieten: {others:.2f} cores busy "
                f"({waited:.0f}/{limit:.0f} s)"
            )


def verify(last: dict[bytes, bytes], expected: dict[str, tuple[int, int]], run: Run) -> None:
    """Compare the final aggregate of every key with the one computed from the input."""
    got = {}
    for key, value in last.items():
        total = json.loads(value)
        got[key.decode()] = (total["count"], total["sum"])
    for key, want in sorted(expected.items()):
        if got.get(key) != want:
            run.mismatches.append(f"{key}: expected {want}, got {got.get(key)}")
    extra = sorted(set(got) - set(expected))
    run.mismatches.extend(f"{key}: not in the input" for key in extra)
    run.verified = not run.mismatches


async def run_framework(
    framework: str,
    python: Path,
    broker: Any,
    topic: str,
    settings: Settings,
    expected: dict[str, tuple[int, int]],
    work: Path,
    console: Any,
) -> Run:
    """Start the framework's worker, watch its output, stop it, check the result."""
    import asyncio  # noqa: PLC0415

    run = Run(framework, broker.name, settings.records)
    where = work / f"{broker.name}-{framework}"
    where.mkdir(parents=True)
    output = f"out-{framework}"
    group = f"bench-{framework}"
    await create_topics(broker.bootstrap_servers, [output], settings.partitions)
    started = where / "started"
    log = where / "worker.log"
    if settings.settle > 0:
        run.settled_seconds = await wait_for_quiet(broker.pid, settings.settle, console)
    command = [
        str(python), str(Path(__file__).resolve()), "worker", framework,
        "--bootstrap", broker.bootstrap_servers,
        "--input", topic,
        "--output", output,
        "--group", group,
        "--state-dir", str(where / "state"),
        "--started", str(started),
        "--partitions", str(settings.partitions),
    ]  # fmt: skip
    with log.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            with console.status(f"{LABELS[framework]} on {broker.label}: {settings.records:,}"):
                last = await watch(
                    broker.bootstrap_servers,
                    output,
                    settings.partitions,
                    settings,
                    proc,
                    started,
                    run,
                    broker.pid,
                )
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            run.worker_exit_code = proc.returncode
    if run.error is None:
        verify(last, expected, run)
        if not run.verified:
            run.error = f"wrong result for {len(run.mismatches)} keys"
    if run.error is not None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        console.print(f"[red]{LABELS[framework]} failed:[/] {run.error}\n{tail}")
    else:
        rate = run.records_per_s or 0.0
        console.print(
            f"  {LABELS[framework]:<14} {rate:>10,.0f} records/s  "
            f"({run.seconds:.2f} s, {run.outputs:,} outputs, verified)"
        )
    return run


def ratios(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Tidal / peer records a second, per broker."""
    rows = []
    for broker in dict.fromkeys(r.broker for r in runs):
        rates = {r.framework: r.records_per_s for r in runs if r.broker == broker}
        tidal = rates.get("tidal")
        for peer in ("quix", "faust"):
            if peer not in rates:
                continue
            peer_rate = rates[peer]
            ratio = None if tidal is None or not peer_rate else tidal / peer_rate
            goal = GOAL if peer == "quix" else None
            rows.append(
                {
                    "broker": broker,
                    "peer": peer,
                    "tidal_records_per_s": None if tidal is None else round(tidal),
                    "peer_records_per_s": None if peer_rate is None else round(peer_rate),
                    "ratio": None if ratio is None else round(ratio, 2),
                    "goal": None if goal is None else f"ratio ≥ {goal:g}",
                    "met": None if goal is None or ratio is None else ratio >= goal,
                }
            )
    return rows


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_summary(console: Any, runs: Sequence[Run], rows: Sequence[dict[str, Any]]) -> None:
    """Records a second per broker and framework, then the ratios."""
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="stateful per-key aggregate (count + sum), input records a second")
    for column in (
        "broker",
        "framework",
        "records",
        "records/s",
        "seconds",
        "worker µs/rec",
        "broker µs/rec",
        "others' cores",
        "result",
    ):
        table.add_column(column, justify=None if column in ("broker", "framework") else "right")
    for run in runs:
        rate, data = run.records_per_s, run.to_json()
        table.add_row(
            run.broker,
            LABELS[run.framework],
            f"{run.records:,}",
            "-" if rate is None else f"{rate:,.0f}",
            "-" if run.seconds is None else f"{run.seconds:.2f}",
            _number(data["worker_cpu_us_per_record"], ".1f"),
            _number(data["broker_cpu_us_per_record"], ".1f"),
            _number(data["other_cores"], ".2f"),
            "[green]verified[/]" if run.verified else f"[red]{run.error}[/]",
        )  # fmt: skip
    console.print(table)
    for row in rows:
        met = {None: "", True: " [green]met[/]", False: " [red]NOT met[/]"}[row["met"]]
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        goal = f" (goal {row['goal']})" if row["goal"] else ""
        console.print(f"{row['broker']}: Tidal / {LABELS[row['peer']]} = {ratio}{goal}{met}")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="input records")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct keys (users)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic")
    parser.add_argument(
        "--frameworks", default="tidal,quix,faust", help="comma-separated: tidal,quix,faust"
    )
    parser.add_argument("--brokers", default="tidal,kafka", help="comma-separated: tidal,kafka")
    parser.add_argument(
        "--faust-records",
        type=int,
        default=100_000,
        help="Faust reads only the first N of the records, from a topic of their own "
        "(0: all of them)",
    )
    parser.add_argument(
        "--peer-python",
        type=Path,
        help=f"Python with quixstreams and faust-streaming (default: {DEFAULT_PEER_VENV}, "
        "created on first use)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds a framework may take at most"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=120.0,
        help="give a framework up when no output arrives for this many seconds",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for other processes to use "
        f"less than {QUIET_CORES} cores (0: do not wait)",
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "build" / "bench-tmp")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    args = parser.parse_args(argv)
    args.frameworks = [f for f in args.frameworks.split(",") if f]
    args.brokers = [b for b in args.brokers.split(",") if b]
    if unknown := (set(args.frameworks) - set(FRAMEWORKS)) | (set(args.brokers) - set(BROKERS)):
        parser.error(f"unknown framework or broker: {', '.join(sorted(unknown))}")
    if args.records < 1 or args.keys < 1 or args.partitions < 1:
        parser.error("--records, --keys and --partitions must be at least 1")
    return args


async def run_broker(
    broker: Any,
    args: argparse.Namespace,
    pythons: dict[str, Path],
    data: tuple[list[str], list[bytes], dict[str, tuple[int, int]]],
    work: Path,
    console: Any,
) -> list[Run]:
    """Fill the input topic on a running broker and run every framework against it.

    Faust gets a topic of its own holding the first ``--faust-records`` of the same
    records when that is fewer (it processes about a thousand records a second).
    """
    keys, values, expected = data
    bootstrap = broker.bootstrap_servers
    settings = Settings(
        args.records, args.keys, args.partitions, args.timeout, args.idle_timeout, args.settle
    )
    inputs = dict.fromkeys(pythons, ("orders", settings, expected))
    await create_topics(bootstrap, ["orders"], args.partitions)
    seconds = await fill_input(bootstrap, "orders", keys, values)
    console.print(f"  input: {args.records:,} records into 'orders' in {seconds:.1f} s")
    few = args.faust_records
    if "faust" in pythons and 0 < few < args.records:
        await create_topics(bootstrap, ["orders-faust"], args.partitions)
        seconds = await fill_input(bootstrap, "orders-faust", keys[:few], values[:few])
        console.print(f"  input: the first {few:,} into 'orders-faust' in {seconds:.1f} s")
        inputs["faust"] = (
            "orders-faust",
            dataclasses.replace(settings, records=few),
            expected_totals(keys[:few], values[:few]),
        )
    runs = []
    for fw, python in pythons.items():
        topic, fw_settings, fw_expected = inputs[fw]
        runs.append(
            await run_framework(fw, python, broker, topic, fw_settings, fw_expected, work, console)
        )
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``worker``, one framework's worker)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    import asyncio  # noqa: PLC0415

    from _common import git_state, machine_facts, now_iso, write_json  # noqa: PLC0415
    from peers import PEERS  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    import tidal  # noqa: PLC0415

    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 120)
    started_at, load_at_start = now_iso(), os.getloadavg()
    skipped: dict[str, str] = {}
    pythons: dict[str, Path] = {}
    peer_python: Path | None = None
    if {"quix", "faust"} & set(args.frameworks):
        peer_python, reason = ensure_peer_python(args.peer_python, console)
        if reason is not None:
            skipped.update(dict.fromkeys(("quix", "faust"), reason))
    for fw in args.frameworks:
        if fw == "tidal":
            pythons[fw] = Path(sys.executable)
        elif peer_python is not None:
            pythons[fw] = peer_python
    versions = peer_versions(peer_python) if peer_python else {}
    console.print(
        f"Streams benchmark: {args.records:,} records, {args.keys:,} keys, "
        f"{args.partitions} partitions; {', '.join(LABELS[f] for f in pythons)}"
    )
    with console.status("generating the input"):
        keys, values = generate(args.records, args.keys)
        expected = expected_totals(keys, values)

    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="streams-", dir=args.dir))
    runs: list[Run] = []
    described: dict[str, Any] = {}
    try:
        for name in args.brokers:
            broker = PEERS[name]()
            with console.status(f"checking {broker.label}"):
                reason = broker.unavailable()
            if reason is not None:
                skipped[f"broker {name}"] = reason
                console.print(f"[yellow]{broker.label} skipped:[/] {reason}")
                continue
            described[name] = broker.describe()
            console.rule(f"on {broker.label}")
            (work / name).mkdir()
            broker.start(work / name)
            try:
                runs += asyncio.run(
                    run_broker(broker, args, pythons, (keys, values, expected), work, console)
                )
            finally:
                broker.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = ratios(runs)
    console.rule("results")
    print_summary(console, runs, rows)
    payload = {
        "benchmark": "streams",
        "command": " ".join(["python", "bench/streams.py", *argv]),
        "started_at": started_at,
        "finished_at": now_iso(),
        "tidal_version": tidal.__version__,
        "git": git_state(ROOT, ["log", "streams", "src", "bench"]),
        "machine": machine_facts(args.dir),
        "settings": {
            "records": args.records,
            "faust_records": args.faust_records or args.records,
            "keys": args.keys,
            "partitions": args.partitions,
            "seed": SEED,
            "frameworks": list(pythons),
            "brokers": args.brokers,
            "commit_interval_s": COMMIT_INTERVAL_S,
            "settle_seconds": args.settle,
            "quiet_cores": QUIET_CORES,
            "work": "consume JSON, count and sum 'amount' per key in RocksDB state with a "
            "changelog, produce the aggregate per record to an output topic",
            "timing": "the worker's first consumed record (wall clock, written by the worker) "
            "to the last output record received by a watcher reading the output topic",
        },
        "peer_environment": {
            "python": None if peer_python is None else str(peer_python),
            "packages": PEER_PACKAGES,
            "versions": versions,
        },
        "brokers": described,
        "skipped": skipped,
        "runs": [run.to_json() for run in runs],
        "ratios": rows,
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    write_json(args.output, payload)
    console.print(f"results: {args.output}")
    return 0 if all(run.error is None for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
