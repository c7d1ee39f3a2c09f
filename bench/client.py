"""Client benchmark: Tidal's producer and consumer next to aiokafka, kafka-python
and confluent-kafka, on one broker and one workload, in one run::

    python bench/client.py [--rounds 3] [--workload small=200000x100 --workload large=50000x1024]

1. Tidal's broker starts as a subprocess (``tidal broker start``), so the
   broker never shares a process (or a GIL) with the client measured.
2. For each workload and round, every client produces COUNT records of SIZE
   bytes (null keys, ``acks=all``, ``linger.ms`` 5 and ``batch.size`` 64 KiB
   where the client has the setting) to a fresh topic, then reads a topic
   holding the same records from the beginning by manual assignment (no group,
   no commits). Each run is a fresh subprocess of this script
   (``worker`` subcommand); the client order rotates every round.
3. Throughput is records over the time from the first send (or first poll) to
   the last acknowledgement (or record), the best of the rounds; ratios are
   Tidal / peer. Goal (issue 4): >= 2x aiokafka and kafka-python.

``tidal-py`` is Tidal's client again with its compiled record code turned off
(``TIDAL_NO_SPEEDUPS=1``, in the client's process only): the cost of encoding
and decoding records in Python. It has no ratios of its own.

Each measurement also records how many cores other processes kept busy
meanwhile (the machine's busy CPU from /proc/stat, less the broker's and the
worker's own): the machine is shared, and a round taken while a test run or
a build took the CPUs is slower for reasons of its own. The per-round lines
print it, and the JSON keeps it next to each throughput (``others_cores``).

``--profile`` adds cProfile runs of Tidal's producer on the first workload
(compiled and pure-Python record code, each in a worker), the top functions by
self time, and ``encode_batch`` timed alone on the same records, unprofiled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import git_state, machine_facts, now_iso, write_json
from peers import cpu_seconds, machine_cpu_seconds
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "client.json"
CLIENTS = ["tidal", "tidal-py", "aiokafka", "kafka-python", "confluent-kafka"]
#: Tidal with its compiled record code turned off (``TIDAL_NO_SPEEDUPS=1``):
#: what the Python record encoding and decoding cost the clients.
PURE_PYTHON = "tidal-py"
GOAL_PEERS = {"aiokafka": 2.0, "kafka-python": 2.0}  # Tidal / peer goals
LINGER_MS = 5
BATCH_BYTES = 65_536
PARTITIONS = 4


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    count: int
    size: int

    @classmethod
    def parse(cls, text: str) -> Workload:
        """``name=COUNTxSIZE``, e.g. ``small=200000x100``."""
        name, _, spec = text.partition("=")
        count, _, size = spec.partition("x")
        return cls(name, int(count), int(size))


# ---- workers: one client, one job, in a subprocess of its own ---------------------


#: Process CPU seconds (all threads) over the last timed window, for the JSON.
_cpu = {"start": 0.0, "seconds": 0.0}


def _start() -> float:
    """Start the timed window: ``perf_counter()``, noting the process's CPU time."""
    _cpu["start"] = time.process_time()
    return time.perf_counter()


def _stop(start: float) -> float:
    """End the timed window: the wall seconds since ``start``; the CPU seconds
    the process spent meanwhile go to ``_cpu["seconds"]``."""
    wall = time.perf_counter() - start
    _cpu["seconds"] = time.process_time() - _cpu["start"]
    return wall


async def _tidal_produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    from tidal.log.client.producer import Producer  # noqa: PLC0415

    value = b"x" * size
    async with Producer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=LINGER_MS, batch_size=BATCH_BYTES
    ) as producer:
        await producer.send_and_wait(topic, value)  # metadata and connections warm
        start = _start()
        send = producer.send
        for _ in range(count):
            await send(topic, value)
        await producer.flush()
        return _stop(start)


async def _tidal_consume(bootstrap: str, topic: str, count: int) -> float:
    from tidal.log.client.consumer import Consumer, TopicPartition  # noqa: PLC0415

    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        for tp in partitions:  # look the offsets up now, as aiokafka's awaited seek does
            await consumer.position(tp)
        seen = 0
        start = _start()
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(records)
        return _stop(start)


async def _aiokafka_produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    from aiokafka import AIOKafkaProducer  # noqa: PLC0415

    value = b"x" * size
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=LINGER_MS, max_batch_size=BATCH_BYTES
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
        start = _start()
        for _ in range(count):
            await producer.send(topic, value)
        await producer.flush()
        return _stop(start)
    finally:
        await producer.stop()


async def _aiokafka_consume(bootstrap: str, topic: str, count: int) -> float:
    from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: PLC0415

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        seen = 0
        start = _start()
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(records)
        return _stop(start)
    finally:
        await consumer.stop()


def _kafka_python_produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    from kafka import KafkaProducer  # noqa: PLC0415

    value = b"x" * size
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=LINGER_MS, batch_size=BATCH_BYTES
    )
    try:
        producer.send(topic, value).get(timeout=30)
        start = _start()
        for _ in range(count):
            producer.send(topic, value)
        producer.flush()
        return _stop(start)
    finally:
        producer.close()


def _kafka_python_consume(bootstrap: str, topic: str, count: int) -> float:
    from kafka import KafkaConsumer, TopicPartition  # noqa: PLC0415

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        consumer.seek_to_beginning()
        seen = 0
        start = _start()
        while seen < count:
            for records in consumer.poll(timeout_ms=1000).values():
                seen += len(records)
        return _stop(start)
    finally:
        consumer.close()


def _confluent_produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    from confluent_kafka import Producer  # noqa: PLC0415

    value = b"x" * size
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": LINGER_MS,
            "batch.size": BATCH_BYTES,
        }
    )
    producer.produce(topic, value)
    producer.flush(30)
    start = _start()
    produce, poll = producer.produce, producer.poll
    for _ in range(count):
        while True:
            try:
                produce(topic, value)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                poll(0.005)
    if producer.flush(120) != 0:
        raise RuntimeError("confluent-kafka left records undelivered")
    return _stop(start)


def _confluent_consume(bootstrap: str, topic: str, count: int) -> float:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: PLC0415

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "bench", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        seen = 0
        start = _start()
        while seen < count:
            for msg in consumer.consume(num_messages=1000, timeout=1.0):
                if msg.error() is None:
                    seen += 1
        return _stop(start)
    finally:
        consumer.close()


def worker(client: str, job: str, bootstrap: str, topic: str, count: int, size: int) -> float:
    """Run one job of one client; the seconds it took."""
    if job == "encode":
        return _encode_batch_seconds(count, size)
    if client in ("tidal", PURE_PYTHON):
        if job == "produce":
            return asyncio.run(_tidal_produce(bootstrap, topic, count, size))
        return asyncio.run(_tidal_consume(bootstrap, topic, count))
    if client == "aiokafka":
        if job == "produce":
            return asyncio.run(_aiokafka_produce(bootstrap, topic, count, size))
        return asyncio.run(_aiokafka_consume(bootstrap, topic, count))
    if client == "kafka-python":
        if job == "produce":
            return _kafka_python_produce(bootstrap, topic, count, size)
        return _kafka_python_consume(bootstrap, topic, count)
    if client == "confluent-kafka":
        if job == "produce":
            return _confluent_produce(bootstrap, topic, count, size)
        return _confluent_consume(bootstrap, topic, count)
    raise ValueError(f"unknown client {client!r}")


# ---- the broker and topics --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: The benchmark's own broker process, when it started one (its CPU is not "others'").
BROKER_PID: int | None = None


@contextlib.contextmanager
def broker(data_dir: Path, console: Console) -> Iterator[str]:
    """``tidal broker start`` as a subprocess; yields its bootstrap address."""
    global BROKER_PID  # noqa: PLW0603 - one broker per run
    port = _free_port()
    command = [sys.executable, "-m", "tidal", "broker", "start",
               "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
               "--log-level", "warning",
               "--set", "group.initial.rebalance.delay.ms=0"]  # fmt: skip
    console.print(f"  [dim]$ {' '.join(command)}[/]")
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir.parent / "broker.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    BROKER_PID = proc.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the broker exited with {proc.returncode}; see {log.name}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the broker did not listen within 30 s")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.contextmanager
def _broker_for(args: argparse.Namespace, work: Path, console: Console) -> Iterator[str]:
    if args.bootstrap_server:
        console.print(f"  broker: {args.bootstrap_server} (already running)")
        yield args.bootstrap_server
    else:
        with broker(work / "data", console) as bootstrap:
            yield bootstrap


async def _create_topics(bootstrap: str, names: Sequence[str]) -> None:
    from tidal.log.client.admin import AdminClient, NewTopic  # noqa: PLC0415

    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])


# ---- the run ----------------------------------------------------------------------


def run_worker(client: str, job: str, bootstrap: str, topic: str, workload: Workload) -> float:
    """One job of one client in a fresh subprocess; the seconds it took."""
    return float(run_worker_json(client, job, bootstrap, topic, workload)["seconds"])


def run_measured(
    client: str, job: str, bootstrap: str, topic: str, workload: Workload
) -> tuple[float, float, float]:
    """One job of one client in a fresh subprocess: the seconds it took, the CPU
    seconds the client's process spent in that time (every thread), and the
    cores other processes (neither the worker nor our broker) kept busy."""
    busy0, total0 = machine_cpu_seconds()
    broker0 = cpu_seconds(BROKER_PID) if BROKER_PID else None
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    answer = run_worker_json(client, job, bootstrap, topic, workload)
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    broker1 = cpu_seconds(BROKER_PID) if BROKER_PID else None
    busy1, total1 = machine_cpu_seconds()
    worker = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    broker_cpu = broker1 - broker0 if broker0 is not None and broker1 is not None else 0.0
    wall = (total1 - total0) / (os.cpu_count() or 1)
    others = ((busy1 - busy0) - worker - broker_cpu) / wall if wall > 0 else 0.0
    return float(answer["seconds"]), float(answer["cpu_seconds"]), max(others, 0.0)


def run_worker_json(
    client: str, job: str, bootstrap: str, topic: str, workload: Workload, *extra: str
) -> dict[str, Any]:
    command = [sys.executable, __file__, "worker", client, job, bootstrap, topic,
               str(workload.count), str(workload.size), *extra]  # fmt: skip
    env = dict(os.environ)
    if client == PURE_PYTHON:
        env["TIDAL_NO_SPEEDUPS"] = "1"
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"{client} {job} failed:\n{result.stdout}{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def available(clients: Sequence[str]) -> list[str]:
    modules = {
        "tidal": "tidal",
        PURE_PYTHON: "tidal",
        "aiokafka": "aiokafka",
        "kafka-python": "kafka",
        "confluent-kafka": "confluent_kafka",
    }
    out = []
    for client in clients:
        try:
            __import__(modules[client])
        except ImportError:
            continue
        out.append(client)
    return out


def profile_producer(bootstrap: str, topic: str, workload: Workload, top: int) -> dict[str, Any]:
    """cProfile of Tidal's producer on ``workload``, in this process (a worker)."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    seconds = asyncio.run(_tidal_produce(bootstrap, topic, workload.count, workload.size))
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({
            "function": f"{Path(file).name}:{line}({func})",
            "calls": calls,
            "self_s": round(tottime, 4),
            "self_pct": round(100 * tottime / total, 1),
            "cumulative_s": round(cumtime, 4),
            "cumulative_pct": round(100 * cumtime / total, 1),
        })  # fmt: skip
    by_self = sorted(rows, key=lambda r: -r["self_s"])[:top]
    by_cum = sorted(rows, key=lambda r: -r["cumulative_s"])
    watched = ("encode_batch", "_encode", "send", "append", "_run", "select", "crc")
    cumulative = [r for r in by_cum if any(w in r["function"] for w in watched)][:top]
    return {
        "workload": asdict(workload),
        "profiled_seconds": round(seconds, 3),
        "wall_seconds": round(wall, 3),
        "profiled_msgs_per_s": round(workload.count / seconds),
        "total_self_s": round(total, 3),
        "top_by_self_time": by_self,
        "cumulative_of_interest": cumulative,
    }


def _encode_batch_seconds(count: int, size: int) -> float:
    """Encode ``count`` records the way the producer does: ``encode_batch_columns``
    (parallel lists) where the records package has it, else ``encode_batch``."""
    import tidal.log.records as records  # noqa: PLC0415

    value = b"x" * size
    now = int(time.time() * 1000)
    per_batch = max(1, BATCH_BYTES // (size + 10))
    columns = getattr(records, "encode_batch_columns", None)
    if columns is not None:
        keys, values, stamps = [None] * per_batch, [value] * per_batch, [now] * per_batch
        start = time.perf_counter()
        for i in range(0, count, per_batch):
            n = min(per_batch, count - i)
            columns(keys[:n], values[:n], stamps[:n], producer_id=1, producer_epoch=0,
                    base_sequence=i)  # fmt: skip
        return time.perf_counter() - start
    recs = [records.SimpleRecord(value, None, now, []) for _ in range(count)]
    start = time.perf_counter()
    for i in range(0, count, per_batch):
        records.encode_batch(recs[i : i + per_batch], producer_id=1, producer_epoch=0,
                             base_sequence=i)  # fmt: skip
    return time.perf_counter() - start


def encode_batch_alone(workload: Workload) -> dict[str, Any]:
    """Batch encoding unprofiled on the workload's records, cut into batches
    of ``batch.size`` as the producer cuts them: its share of a producer run,
    with the compiled record code (when built) and with the Python one."""
    out: dict[str, Any] = {"records_per_batch": max(1, BATCH_BYTES // (workload.size + 10))}
    for client, label in (("tidal", "default"), (PURE_PYTHON, "pure_python")):
        seconds = run_worker(client, "encode", "-", "-", workload)
        out[label] = {
            "seconds": round(seconds, 4),
            "ns_per_record": round(seconds / workload.count * 1e9),
        }
    return out


def run_profiles(
    console: Console, bootstrap: str, w: Workload, run_id: str, args: argparse.Namespace
) -> dict[str, Any]:
    """cProfile of our producer with and without the compiled record code, and
    ``encode_batch`` alone both ways."""
    out: dict[str, Any] = {"workload": asdict(w)}
    for client, label in (("tidal", "default"), (PURE_PYTHON, "pure_python")):
        topic = f"profile-{w.name}-{label.replace('_', '-')}-{run_id}"
        asyncio.run(_create_topics(bootstrap, [topic]))
        console.print(f"profiling Tidal's producer ({label}): {w.count:,} x {w.size} B")
        profile = run_worker_json(client, "profile", bootstrap, topic, w, str(args.profile_top))
        out[label] = profile
        for r in profile["top_by_self_time"][:12]:
            console.print(f"  {r['self_pct']:>5.1f}%  {r['self_s']:>7.3f} s  "
                          f"{r['calls']:>9,}  {r['function']}")  # fmt: skip
    alone = out["encode_batch_alone"] = encode_batch_alone(w)
    for label in ("default", "pure_python"):
        console.print(f"  encode_batch alone, unprofiled ({label}): "
                      f"{alone[label]['seconds']:.3f} s "
                      f"({alone[label]['ns_per_record']} ns a record)")  # fmt: skip
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best is kept)")
    parser.add_argument(
        "--workload",
        action="append",
        type=Workload.parse,
        help="name=COUNTxSIZE (repeatable; default small=200000x100 and large=50000x1024)",
    )
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated clients")
    parser.add_argument("--profile", action="store_true", help="cProfile Tidal's producer")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument(
        "--bootstrap-server",
        help="use this running broker instead of starting 'tidal broker start'",
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "build" / "bench-tmp")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    args = parser.parse_args(argv)
    args.workload = args.workload or [
        Workload("small", 200_000, 100),
        Workload("large", 50_000, 1024),
    ]
    return args


def summarize(results: dict[str, Any], clients: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for key, runs in results.items():
        workload, job = key.split("/")
        best = {c: max(runs[c]) for c in clients if runs.get(c)}
        tidal = best.get("tidal")
        for peer in clients:
            if peer.startswith("tidal") or peer not in best:
                continue
            ratio = None if tidal is None else tidal / best[peer]
            goal = GOAL_PEERS.get(peer)
            rows.append({
                "workload": workload, "job": job, "peer": peer,
                "tidal_msgs_per_s": None if tidal is None else round(tidal),
                "peer_msgs_per_s": round(best[peer]),
                "ratio": None if ratio is None else round(ratio, 3),
                "goal": None if goal is None else f"ratio >= {goal:g}",
                "met": None if goal is None or ratio is None else ratio >= goal,
            })  # fmt: skip
    return rows


def summarize_cpu(
    cpu: dict[str, Any], counts: dict[str, int], clients: Sequence[str]
) -> list[dict[str, Any]]:
    """Records per CPU second of the client's process (median of the rounds),
    and Tidal's over each peer's: less sensitive than msgs/s to other processes
    taking the machine's CPUs, but blind to time spent waiting."""
    rows = []
    for key, runs in cpu.items():
        workload, job = key.split("/")
        per_cpu = {
            c: statistics.median(counts[workload] / s for s in runs[c])
            for c in clients
            if runs.get(c) and all(s > 0 for s in runs[c])
        }
        tidal = per_cpu.get("tidal")
        for peer in clients:
            if peer.startswith("tidal") or peer not in per_cpu or tidal is None:
                continue
            rows.append({
                "workload": workload, "job": job, "peer": peer,
                "tidal_msgs_per_cpu_s": round(tidal), "peer_msgs_per_cpu_s": round(per_cpu[peer]),
                "ratio": round(tidal / per_cpu[peer], 3),
            })  # fmt: skip
    return rows


def print_cpu_summary(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table(title="Tidal / peer, records per CPU second of the client (median)")
    for col in ("workload", "job", "peer", "Tidal", "peer msgs/CPU-s", "ratio"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["workload"], r["job"], r["peer"], f"{r['tidal_msgs_per_cpu_s']:,}",
                      f"{r['peer_msgs_per_cpu_s']:,}", f"{r['ratio']:.2f}")  # fmt: skip
    console.print(table)


def print_summary(console: Console, results: dict[str, Any], rows: list[dict[str, Any]],
                  clients: Sequence[str]) -> None:  # fmt: skip
    table = Table(title="msgs/s (best of rounds)")
    table.add_column("workload / job")
    for c in clients:
        table.add_column(c, justify="right")
    for key, runs in results.items():
        table.add_row(key, *(f"{max(runs[c]):,.0f}" if runs.get(c) else "-" for c in clients))
    console.print(table)
    ratios = Table(title="Tidal / peer")
    for col in ("workload", "job", "peer", "ratio", "goal", "met?"):
        ratios.add_column(col)
    for r in rows:
        met = r["met"]
        ratios.add_row(
            r["workload"], r["job"], r["peer"],
            "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
            r["goal"] or "report",
            "-" if met is None else ("[green]yes[/]" if met else "[red]NO[/]"),
        )  # fmt: skip
    console.print(ratios)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "worker":
        client, job, bootstrap, topic, count, size = argv[1:7]
        if job == "profile":
            profile = profile_producer(bootstrap, topic, Workload(topic, int(count), int(size)),
                                       int(argv[7]))  # fmt: skip
            print(json.dumps(profile))
            return 0
        seconds = worker(client, job, bootstrap, topic, int(count), int(size))
        print(json.dumps({"seconds": seconds, "cpu_seconds": _cpu["seconds"]}))
        return 0
    args = parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    clients = available([c.strip() for c in args.clients.split(",") if c.strip()])
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="client-", dir=args.dir))
    results: dict[str, dict[str, list[float]]] = {}
    others: dict[str, dict[str, list[float]]] = {}
    cpu: dict[str, dict[str, list[float]]] = {}
    profile = None
    shapes = ", ".join(f"{w.name} {w.count:,} x {w.size} B" for w in args.workload)
    console.print(f"clients: {', '.join(clients)}; {args.rounds} rounds; workloads: {shapes}")
    try:
        with _broker_for(args, work, console) as bootstrap:
            run_id = os.urandom(3).hex()  # fresh topic names on a reused broker
            source = {w.name: f"source-{w.name}-{run_id}" for w in args.workload}
            asyncio.run(_create_topics(bootstrap, list(source.values())))
            for w in args.workload:  # the topic every consumer reads, written once
                run_worker("tidal", "produce", bootstrap, source[w.name], w)
            for w in args.workload:
                for job in ("produce", "consume"):
                    results[f"{w.name}/{job}"] = {c: [] for c in clients}
                    others[f"{w.name}/{job}"] = {c: [] for c in clients}
                    cpu[f"{w.name}/{job}"] = {c: [] for c in clients}
            for rnd in range(args.rounds):
                order = clients[rnd % len(clients) :] + clients[: rnd % len(clients)]
                for w in args.workload:
                    for job in ("produce", "consume"):
                        for client in order:
                            topic = source[w.name]
                            if job == "produce":
                                topic = f"p-{w.name}-{client}-{rnd}-{run_id}"
                                asyncio.run(_create_topics(bootstrap, [topic]))
                            # the consume topic holds count + 1 (the warm-up record)
                            seconds, cpu_s, busy = run_measured(client, job, bootstrap, topic, w)
                            rate = w.count / seconds
                            results[f"{w.name}/{job}"][client].append(rate)
                            others[f"{w.name}/{job}"][client].append(busy)
                            cpu[f"{w.name}/{job}"][client].append(cpu_s)
                            console.print(
                                f"[bold]\\[round {rnd + 1}/{args.rounds}][/] {w.name:<6} {job:<8}"
                                f" {client:<16} {rate:>12,.0f} msgs/s"
                                f" {rate * w.size / 1e6:>8,.1f} MB/s ({seconds:.2f} s,"
                                f" {cpu_s:.2f} s CPU; others kept {busy:.2f} cores busy)"
                            )
            if args.profile:
                profile = run_profiles(console, bootstrap, args.workload[0], run_id, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = summarize(results, clients)
    print_summary(console, results, rows, clients)
    cpu_rows = summarize_cpu(cpu, {w.name: w.count for w in args.workload}, clients)
    print_cpu_summary(console, cpu_rows)
    import tidal  # noqa: PLC0415
    import tidal.log.records  # noqa: PLC0415

    write_json(args.output, {
        "benchmark": "client",
        "created": now_iso(),
        "tidal_version": getattr(tidal, "__version__", None),
        "record_speedups": tidal.log.records.SPEEDUPS,
        "git": git_state(ROOT, ["log", "bench"]),
        "machine": machine_facts(args.dir),
        "settings": {
            "rounds": args.rounds,
            "workloads": [asdict(w) for w in args.workload],
            "clients": clients,
            "partitions": PARTITIONS,
            "acks": "all",
            "linger_ms": LINGER_MS,
            "batch_bytes": BATCH_BYTES,
            "broker": args.bootstrap_server or "tidal broker start (subprocess)",
        },
        "results": {k: {c: [round(r) for r in v] for c, v in runs.items()}
                    for k, runs in results.items()},
        "cpu_seconds": {k: {c: [round(x, 3) for x in v] for c, v in runs.items()}
                        for k, runs in cpu.items()},
        "cpu_ratios": cpu_rows,
        "others_cores": {k: {c: [round(x, 2) for x in v] for c, v in runs.items()}
                         for k, runs in others.items()},
        "ratios": rows,
        "producer_profile": profile,
    })  # fmt: skip
    console.print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    sys.exit(main())
