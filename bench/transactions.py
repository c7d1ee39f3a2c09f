"""Transactions benchmark: librdkafka's transactional producer on Tidal and Apache Kafka::

    python bench/transactions.py [--workloads small=2000x100,large=100x10000]
                                 [--value-size 100] [--partitions 4] [--brokers tidal,kafka]
                                 [--rounds 1] [--profile DIR]

Each broker runs as its own process: Tidal's (``tidal broker start``) and, where Java is
present, Apache Kafka's (``tests/peers/kafka-jvm/kafka.sh``). For each workload
``NAME=TXNSxRECORDS``, a load process of its own (``worker`` subcommand; confluent-kafka,
that is librdkafka, and nothing else) creates a topic of ``--partitions`` partitions, calls
``init_transactions`` once, then runs TXNS transactions of ``begin_transaction``, RECORDS
``produce()`` calls of ``--value-size`` random bytes spread round-robin over the partitions
(every transaction touches every partition), and ``commit_transaction``. The clock runs from
the first ``begin_transaction`` until the last commit returns. Afterwards, untimed, a
``read_committed`` consumer reads every partition to its end and checks that exactly
TXNS x RECORDS records arrived, as many on each partition as were sent there.

Each broker starts fresh, is warmed up with a tenth of the first workload (unreported), runs
every workload and is stopped; with ``--rounds`` above 1 the brokers take turns, the first
rotating. Before each measurement the run waits (``--settle``) for other processes to go
quiet and records the cores they used meanwhile. The ratio is Tidal / Apache Kafka of
records a second (the same as of transactions a second: both sides run the same counts).

``--profile DIR`` runs the workloads against Tidal alone with py-spy attached to the broker
and prints where its time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "transactions.json"
DEFAULT_DIR = ROOT / "build" / "bench-tmp"
BROKERS = ["tidal", "kafka"]
DEFAULT_WORKLOADS = "small=2000x100,large=100x10000"
#: The producer's settings besides ``transactional.id`` (idempotence and acks=all follow
#: from it); everything else is librdkafka's default.
PRODUCER_CONFIG: dict[str, Any] = {"linger.ms": 5, "compression.type": "none"}
PROGRESS_SECONDS = 0.25
STALL_SECONDS = 60.0
TXN_TIMEOUT_S = 60.0


# ---- the load process -------------------------------------------------------------------


def emit(line: str) -> None:
    """One line to the orchestrating process."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _percentile(sorted_values: Sequence[float], share: float) -> float:
    index = min(len(sorted_values) - 1, round(share * (len(sorted_values) - 1)))
    return sorted_values[index]


def produce_transactions(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec["transactions"]`` transactions of ``spec["records"]`` records each, timed;
    then the read_committed check, untimed."""
    from confluent_kafka import Producer  # noqa: PLC0415 - only the load process needs it
    from peers.loadgen import create_topic  # noqa: PLC0415

    bootstrap, topic = spec["bootstrap"], spec["topic"]
    txns, records, partitions = spec["transactions"], spec["records"], spec["partitions"]
    create_topic(bootstrap, topic, partitions)
    failures: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:  # called for failures only
        if err is not None:
            failures.append(str(err))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            **spec["config"],
            "transactional.id": f"bench-{topic}",
            "delivery.report.only.error": True,
            "on_delivery": on_delivery,
        }
    )
    producer.list_topics(topic, timeout=30)
    start_init = time.perf_counter()
    producer.init_transactions(TXN_TIMEOUT_S)
    init_seconds = time.perf_counter() - start_init
    value = os.urandom(spec["value_size"])
    produce, poll = producer.produce, producer.poll
    begin, commit = producer.begin_transaction, producer.commit_transaction
    targets = [i % partitions for i in range(records)]
    commits: list[float] = []
    opens: list[float] = []  # begin_transaction() until the last produce() returned

    emit("ready")
    cpu0, start = os.times(), time.perf_counter()
    next_report = start + PROGRESS_SECONDS
    for done in range(txns):
        began = time.perf_counter()
        begin()
        for partition in targets:
            try:
                produce(topic, value, partition=partition)
            except BufferError:  # librdkafka's queue is full: serve it, then again
                poll(0.01)
                produce(topic, value, partition=partition)
        before_commit = time.perf_counter()
        commit(TXN_TIMEOUT_S)
        now = time.perf_counter()
        opens.append(before_commit - began)
        commits.append(now - before_commit)
        if now >= next_report:
            emit(f"progress {(done + 1) * records}")
            next_report = now + PROGRESS_SECONDS
    seconds, cpu1 = time.perf_counter() - start, os.times()
    producer.flush(10)
    if failures:
        raise RuntimeError(f"{len(failures)} records failed: {failures[:3]}")
    emit(f"progress {txns * records}")
    emit("timed")
    expected = {p: targets.count(p) * txns for p in range(partitions)}
    check_start = time.perf_counter()
    counted = count_committed(bootstrap, topic, spec["value_size"])
    commits.sort()
    opens.sort()
    return {
        "seconds": seconds,
        "client_cpu_seconds": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "init_transactions_seconds": init_seconds,
        "commit_ms": {
            "mean": statistics.fmean(commits) * 1000,
            "p50": _percentile(commits, 0.5) * 1000,
            "p99": _percentile(commits, 0.99) * 1000,
            "max": commits[-1] * 1000,
        },
        "begin_to_commit_ms": {
            "mean": statistics.fmean(opens) * 1000,
            "p50": _percentile(opens, 0.5) * 1000,
            "p99": _percentile(opens, 0.99) * 1000,
            "max": opens[-1] * 1000,
        },
        "read_committed": {str(p): n for p, n in sorted(counted.items())},
        "expected": {str(p): n for p, n in sorted(expected.items())},
        "verified": counted == expected,
        "check_seconds": time.perf_counter() - check_start,
    }


def count_committed(bootstrap: str, topic: str, value_size: int) -> dict[int, int]:
    """Records a ``read_committed`` consumer reads from every partition of ``topic``,
    from the beginning to its end (the last stable offset), by partition."""
    from confluent_kafka import (  # noqa: PLC0415 - only the load process needs it
        OFFSET_BEGINNING,
        Consumer,
        KafkaError,
        TopicPartition,
    )

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.queue.backoff.ms": 10,
        }
    )
    try:
        parts = sorted(consumer.list_topics(topic, timeout=30).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        counts = dict.fromkeys(parts, 0)
        at_end: set[int] = set()
        last_seen = time.monotonic()
        # Every transaction was committed before this started, so each partition's end
        # (its last stable offset) is final: EOF there means everything was read.
        while len(at_end) < len(parts):
            batch = consumer.consume(10_000, 1.0)
            now = time.monotonic()
            if not batch and now - last_seen > STALL_SECONDS:
                raise RuntimeError(f"read_committed check stalled at {counts}")
            for message in batch:
                last_seen = now
                partition = message.partition()
                assert partition is not None
                if (err := message.error()) is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        at_end.add(partition)
                        continue
                    raise RuntimeError(f"consume error: {err}")
                if len(value := message.value() or b"") != value_size:
                    raise RuntimeError(f"a value of {len(value)} bytes")
                counts[partition] += 1
                at_end.discard(partition)
        return counts
    finally:
        consumer.close()


def worker_main(argv: Sequence[str]) -> int:
    """``transactions.py worker SPEC``: one workload, ``result {json}`` or ``error "text"``."""
    try:
        result = produce_transactions(json.loads(argv[0]))
    except Exception as exc:  # noqa: BLE001 - reported to the orchestrator, which goes on
        emit("error " + json.dumps(f"{type(exc).__name__}: {exc}"))
        return 1
    emit("result " + json.dumps(result))
    return 0


# ---- the orchestrator -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """``name=TXNSxRECORDS``."""

    name: str
    transactions: int
    records: int

    @property
    def total(self) -> int:
        """Records the workload produces."""
        return self.transactions * self.records

    def __str__(self) -> str:
        return f"{self.name} ({self.transactions:,} x {self.records:,})"


@dataclass(slots=True)
class Run:
    """One workload against one broker in one round."""

    broker: str
    workload: Workload
    round: int
    value_size: int
    seconds: float = 0.0
    broker_cpu_seconds: float | None = None
    machine_busy_cores: float | None = None
    waited_for_quiet: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def records_per_s(self) -> float:
        """Records a second."""
        return self.workload.total / self.seconds if self.seconds > 0 else 0.0

    @property
    def txns_per_s(self) -> float:
        """Committed transactions a second."""
        return self.workload.transactions / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cores(self) -> float | None:
        """Cores busy meanwhile with neither the broker nor the load process."""
        client = self.result.get("client_cpu_seconds")
        busy, broker = self.machine_busy_cores, self.broker_cpu_seconds
        if busy is None or broker is None or client is None or not self.seconds:
            return None
        ours = broker + float(client)
        return max(0.0, busy - ours / self.seconds)

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON object."""
        entry: dict[str, Any] = {
            "broker": self.broker,
            "workload": self.workload.name,
            "round": self.round,
            "transactions": self.workload.transactions,
            "records_per_transaction": self.workload.records,
            "records": self.workload.total,
            "error": self.error,
        }
        if self.error is not None:
            return entry
        n, seconds = self.workload.total, self.seconds
        entry |= {
            "seconds": round(seconds, 4),
            "records_per_s": round(self.records_per_s, 1),
            "transactions_per_s": round(self.txns_per_s, 2),
            "mb_per_s": round(n * self.value_size / seconds / 1e6, 2),
            "commit_ms": {k: round(v, 2) for k, v in self.result["commit_ms"].items()},
            "begin_to_commit_ms": {
                k: round(v, 2) for k, v in self.result["begin_to_commit_ms"].items()
            },
            "init_transactions_seconds": round(self.result["init_transactions_seconds"], 3),
            "verified": self.result["verified"],
            "read_committed_by_partition": self.result["read_committed"],
            "expected_by_partition": self.result["expected"],
        }
        client = float(self.result["client_cpu_seconds"])
        for side, cpu in (("broker", self.broker_cpu_seconds), ("client", client)):
            if cpu is not None:
                entry[f"{side}_cpu_seconds"] = round(cpu, 3)
                entry[f"{side}_cores_busy"] = round(cpu / seconds, 2)
                entry[f"{side}_cpu_us_per_record"] = round(cpu / n * 1e6, 2)
                entry[f"{side}_cpu_ms_per_transaction"] = round(
                    cpu / self.workload.transactions * 1e3, 3
                )
        if self.machine_busy_cores is not None:
            entry["machine_cores_busy"] = round(self.machine_busy_cores, 2)
        if (other := self.other_cores) is not None:
            entry["other_processes_cores_busy"] = round(other, 2)
        entry["waited_for_quiet_s"] = round(self.waited_for_quiet, 1)
        return entry


def run_worker(
    console: Any, label: str, spec: dict[str, Any], broker_pid: int | None, log: Path
) -> dict[str, Any]:
    """Run one workload in a load process with a progress bar (value bytes); its result,
    with the CPU time the broker and the whole machine used between its ``ready`` and
    ``timed`` lines."""
    from _common import bar  # noqa: PLC0415
    from peers import cpu_seconds, machine_cpu_seconds  # noqa: PLC0415

    command = [sys.executable, str(Path(__file__).resolve()), "worker", json.dumps(spec)]
    size = spec["value_size"]
    total = spec["transactions"] * spec["records"] * size
    result: dict[str, Any] | None = None
    error = None
    window: dict[str, float] = {}
    with log.open("ab") as stderr, bar(console, label, total) as (progress, task):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            word, _, rest = line.rstrip("\n").partition(" ")
            if word == "ready":
                window["broker0"] = (broker_pid and cpu_seconds(broker_pid)) or 0.0
                window["busy0"], window["total0"] = machine_cpu_seconds()
            elif word == "progress":
                progress.update(task, completed=int(rest) * size)
            elif word == "timed":
                window["broker1"] = (broker_pid and cpu_seconds(broker_pid)) or 0.0
                window["busy1"], window["total1"] = machine_cpu_seconds()
            elif word == "result":
                result = json.loads(rest)
            elif word == "error":
                error = json.loads(rest)
        code = proc.wait()
    if result is None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
        raise RuntimeError(error or f"load process exited with {code}: {tail}")
    if broker_pid is not None and "broker1" in window:
        result["broker_cpu_seconds"] = window["broker1"] - window["broker0"]
        wall = (window["total1"] - window["total0"]) / (os.cpu_count() or 1)
        if wall > 0:
            result["machine_busy_cores"] = (window["busy1"] - window["busy0"]) / wall
    return result


@dataclass(slots=True)
class Settings:
    """What every broker runs."""

    workloads: list[Workload]
    value_size: int
    partitions: int
    warmup: bool
    settle: float
    producer: dict[str, Any] = field(default_factory=lambda: dict(PRODUCER_CONFIG))


def spec_for(bootstrap: str, topic: str, workload: Workload, settings: Settings) -> dict[str, Any]:
    """The load process's argument."""
    return {
        "bootstrap": bootstrap,
        "topic": topic,
        "transactions": workload.transactions,
        "records": workload.records,
        "value_size": settings.value_size,
        "partitions": settings.partitions,
        "config": settings.producer,
    }


def broker_turn(
    console: Any,
    broker: Any,
    round_no: int,
    settings: Settings,
    work: Path,
    hooks: dict[str, Callable[[str], Any]] | None = None,
) -> list[Run]:
    """Start ``broker`` fresh, warm it up, run every workload, stop it. ``hooks``
    (profiling) may hold ``before(name)`` and ``after(name)`` around each workload."""
    from broker import step_time, wait_for_quiet  # noqa: PLC0415

    hooks = hooks or {}
    turn_dir = work / f"{broker.name}-round{round_no}"
    turn_dir.mkdir()
    log = turn_dir / "client.log"
    runs: list[Run] = []
    try:
        with step_time(console, f"  starting {broker.label}"):
            broker.start(turn_dir)
        console.print(f"  {broker.label} on {broker.bootstrap_servers}, pid {broker.pid}")
        if settings.warmup:
            first = settings.workloads[0]
            warm = Workload("warm-up", max(1, first.transactions // 10), first.records)
            spec = spec_for(broker.bootstrap_servers, "txn-warmup", warm, settings)
            run_worker(console, f"  warm-up {warm}", spec, None, log)
        for workload in settings.workloads:
            run = Run(broker.name, workload, round_no, settings.value_size)
            runs.append(run)
            run.waited_for_quiet = wait_for_quiet(console, broker.pid, settings.settle)
            spec = spec_for(broker.bootstrap_servers, f"txn-{workload.name}", workload, settings)
            if "before" in hooks:
                hooks["before"](workload.name)
            try:
                result = run_worker(console, f"{broker.label} {workload}", spec, broker.pid, log)
            except RuntimeError as exc:
                run.error = str(exc)
                console.print(f"  [red]{workload.name} failed:[/] {exc}")
                continue
            finally:
                if "after" in hooks:
                    hooks["after"](workload.name)
            run.result = result
            run.seconds = float(result["seconds"])
            run.broker_cpu_seconds = result.get("broker_cpu_seconds")
            run.machine_busy_cores = result.get("machine_busy_cores")
            if not result["verified"]:
                run.error = (
                    f"read_committed read {result['read_committed']}, expected {result['expected']}"
                )
            console.print(f"  → {workload.name}: {describe_run(run)}")
    except Exception as exc:  # noqa: BLE001 - one broker failing must not end the run
        console.print(f"  [red]{broker.label} failed:[/] {exc}")
        done = {run.workload for run in runs}
        for workload in settings.workloads:
            if workload not in done:
                failed = Run(broker.name, workload, round_no, settings.value_size)
                failed.error = f"{type(exc).__name__}: {exc}"
                runs.append(failed)
    finally:
        try:
            broker.stop()
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            console.print(f"  [red]{broker.label} did not stop cleanly:[/] {exc}")
        shutil.rmtree(turn_dir, ignore_errors=True)
        os.sync()
    return runs


def describe_run(run: Run) -> str:
    """``1,234 txns/s, 123,400 records/s; commit p50 1.2 ms; broker 0.80 cores``."""
    if run.error is not None:
        return f"[red]{run.error}[/]"
    text = (
        f"{run.txns_per_s:,.1f} txns/s, {run.records_per_s:,.0f} records/s; "
        f"commit mean {run.result['commit_ms']['mean']:.1f} ms, "
        f"p50 {run.result['commit_ms']['p50']:.1f} ms"
    )
    if run.broker_cpu_seconds is not None and run.seconds:
        text += f"; broker {run.broker_cpu_seconds / run.seconds:.2f} cores"
    if (other := run.other_cores) is not None and other >= 0.2:
        text += f"; [yellow]other processes {other:.2f} cores[/]"
    return text + ("; read_committed count checked" if run.result.get("verified") else "")


def medians(runs: Sequence[Run]) -> dict[str, dict[str, float]]:
    """Median records/s over the rounds that succeeded, by workload then broker."""
    table: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        if run.error is None and run.seconds > 0:
            by_broker = table.setdefault(run.workload.name, {})
            by_broker.setdefault(run.broker, []).append(run.records_per_s)
    return {
        name: {broker: statistics.median(values) for broker, values in by_broker.items()}
        for name, by_broker in table.items()
    }


def ratios(workloads: Sequence[Workload], med: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Tidal / Apache Kafka per workload, where both ran."""
    rows = []
    for workload in workloads:
        tidal, kafka = (med.get(workload.name, {}).get(b) for b in ("tidal", "kafka"))
        if tidal is not None and kafka:
            rows.append(
                {
                    "workload": workload.name,
                    "tidal_records_per_s": round(tidal, 1),
                    "kafka_records_per_s": round(kafka, 1),
                    "ratio_tidal_over_kafka": round(tidal / kafka, 3),
                }
            )
    return rows


def print_summary(console: Any, runs: Sequence[Run], rows: Sequence[dict[str, Any]]) -> None:
    """Every run, then the ratios."""
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="transactional produce (librdkafka), every run")
    for name in (
        "workload", "broker", "round", "txns/s", "records/s", "commit mean ms", "p50", "p99",
        "broker µs/record", "client cores", "others' cores", "read_committed",
    ):  # fmt: skip
        table.add_column(name, justify="left" if name in ("workload", "broker") else "right")
    for run in runs:
        if run.error is not None:
            table.add_row(run.workload.name, run.broker, str(run.round), "failed", run.error[:40])
            continue
        entry = run.to_json()
        table.add_row(
            str(run.workload),
            run.broker,
            str(run.round),
            f"{run.txns_per_s:,.1f}",
            f"{run.records_per_s:,.0f}",
            f"{entry['commit_ms']['mean']:.1f}",
            f"{entry['commit_ms']['p50']:.1f}",
            f"{entry['commit_ms']['p99']:.1f}",
            f"{entry.get('broker_cpu_us_per_record', float('nan')):.1f}",
            f"{entry.get('client_cores_busy', float('nan')):.2f}",
            f"{entry.get('other_processes_cores_busy', float('nan')):.2f}",
            "ok" if entry["verified"] else "[red]WRONG[/]",
        )
    console.print(table)
    if rows:
        ratio_table = Table(title="Tidal / Apache Kafka, records/s (= transactions/s)")
        for name in ("workload", "Tidal", "Apache Kafka", "ratio"):
            ratio_table.add_column(name, justify="left" if name == "workload" else "right")
        for row in rows:
            ratio_table.add_row(
                row["workload"],
                f"{row['tidal_records_per_s']:,.0f}",
                f"{row['kafka_records_per_s']:,.0f}",
                f"{row['ratio_tidal_over_kafka']:.2f}",
            )
        console.print(ratio_table)


# ---- profiling ----------------------------------------------------------------------


def run_profile(args: argparse.Namespace, console: Any, work: Path, settings: Settings) -> int:
    """Tidal alone, py-spy attached to the broker during each workload."""
    from _common import write_json  # noqa: PLC0415
    from peers import TidalBroker  # noqa: PLC0415
    from peers.profiler import PySpy, print_profile, summarize_profile  # noqa: PLC0415

    bindir = str(Path(sys.executable).parent)
    executable = shutil.which("py-spy", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    if executable is None:
        console.print("[red]py-spy is not installed:[/] pip install py-spy")
        return 2
    out: Path = args.profile
    out.mkdir(parents=True, exist_ok=True)
    broker = TidalBroker()
    spy = PySpy(executable, out, args.profile_rate, broker)
    runs = broker_turn(
        console, broker, 1, settings, work, {"before": spy.before, "after": spy.after}
    )
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/transactions.py", *sys.argv[1:]]),
        "rate_hz": args.profile_rate,
        "tidal": broker.describe(),
        "workloads": {},
    }
    for run in runs:
        path = spy.files.get(run.workload.name)
        if run.error is not None or path is None or not path.exists():
            console.print(f"[red]{run.workload.name}: no profile[/] ({run.error})")
            continue
        summary = summarize_profile(path, 30)
        summary["run"] = run.to_json()
        report["workloads"][run.workload.name] = summary
        print_profile(console, str(run.workload), summary, args.profile_top)
    write_json(out / "profile.json", report)
    console.print(f"folded stacks and profile.json in {out}")
    return 0 if all(run.error is None for run in runs) else 1


# ---- the run -------------------------------------------------------------------------


def _workloads(text: str) -> list[Workload]:
    result = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, size = part.partition("=")
        txns, _, records = size.partition("x")
        try:
            workload = Workload(name, int(txns), int(records))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not NAME=TXNSxRECORDS: {part!r}") from None
        if not name or workload.transactions < 1 or workload.records < 1:
            raise argparse.ArgumentTypeError(f"not NAME=TXNSxRECORDS: {part!r}")
        result.append(workload)
    if not result or len({w.name for w in result}) != len(result):
        raise argparse.ArgumentTypeError(f"need distinct workload names: {text!r}")
    return result


def _brokers(text: str) -> list[str]:
    names = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not names or any(n not in BROKERS for n in names):
        raise argparse.ArgumentTypeError(f"brokers are among {', '.join(BROKERS)}; got {text!r}")
    return names


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads",
        type=_workloads,
        default=_workloads(DEFAULT_WORKLOADS),
        help=f"NAME=TXNSxRECORDS, comma-separated (default {DEFAULT_WORKLOADS})",
    )
    parser.add_argument("--value-size", type=int, default=100, help="value bytes (default 100)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of each topic")
    parser.add_argument("--brokers", type=_brokers, default=list(BROKERS), help="among tidal,kafka")
    parser.add_argument("--rounds", type=int, default=1, help="turns of every broker")
    parser.add_argument("--no-warmup", action="store_true", help="skip the unreported warm-up")
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="before each workload, wait up to this many seconds for other processes "
        "to quieten (default 30; 0 does not wait)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="a run directory is made (and removed) inside it (default: build/bench-tmp)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="instead of comparing: profile Tidal's broker with py-spy, results into DIR",
    )
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples a second")
    parser.add_argument("--profile-top", type=int, default=15, help="rows per profile table")
    args = parser.parse_args(argv)
    if args.value_size < 1 or args.partitions < 1 or args.rounds < 1:
        parser.error("--value-size, --partitions and --rounds must be at least 1")
    return args


def run_benchmark(args: argparse.Namespace, argv: Sequence[str], console: Any, work: Path) -> int:
    """Every round of every broker; writes the JSON; 1 when a run failed."""
    import confluent_kafka  # noqa: PLC0415
    from _common import git_state, machine_facts, now_iso, write_json  # noqa: PLC0415
    from peers import KafkaBroker, TidalBroker  # noqa: PLC0415

    import tidal  # noqa: PLC0415

    started, load_at_start = now_iso(), os.getloadavg()
    settings = settings_from(args)
    classes = {"tidal": TidalBroker, "kafka": KafkaBroker}
    brokers, skipped, described = {}, {}, {}
    for name in args.brokers:
        broker = classes[name]()
        with console.status(f"checking {broker.label} (Apache Kafka may fetch its jars)"):
            reason = broker.unavailable()
        if reason is None:
            brokers[name] = broker
            described[name] = broker.describe()
            console.print(f"{broker.label}: {described[name].get('version')}")
        else:
            skipped[name] = reason
            console.print(f"[yellow]{broker.label} skipped:[/] {reason}")
    client = {
        "confluent_kafka": confluent_kafka.__version__,
        "librdkafka": confluent_kafka.libversion()[0],
    }
    runs: list[Run] = []
    names = list(brokers)
    for round_no in range(1, args.rounds + 1):
        shift = (round_no - 1) % max(1, len(names))
        order = names[shift:] + names[:shift]
        console.rule(f"round {round_no}/{args.rounds}: {' → '.join(order)}")
        for name in order:
            console.print(f"[bold]{brokers[name].label}[/]")
            runs += broker_turn(console, brokers[name], round_no, settings, work)
    med = medians(runs)
    rows = ratios(settings.workloads, med)
    console.rule("results")
    print_summary(console, runs, rows)
    failed = [run for run in runs if run.error is not None]
    payload = {
        "benchmark": "transactions",
        "command": " ".join(["python", "bench/transactions.py", *argv]),
        "started_at": started,
        "finished_at": now_iso(),
        "tidal_version": tidal.__version__,
        "git": git_state(ROOT, ["log", "src", "bench"]),
        "machine": {
            **machine_facts(work),
            "note": f"{os.cpu_count()} CPUs shared by the broker, the load process and "
            "whatever else runs on the machine; compare the ratios of one run",
        },
        "client": client,
        "settings": {
            "workloads": [
                {
                    "name": w.name,
                    "transactions": w.transactions,
                    "records_per_transaction": w.records,
                }
                for w in settings.workloads
            ],
            "value_size": settings.value_size,
            "partitions": settings.partitions,
            "rounds": args.rounds,
            "warmup": "a tenth of the first workload's transactions after each start, unreported"
            if settings.warmup
            else None,
            "producer": {**settings.producer, "transactional.id": "bench-<topic>"},
            "records_to_partitions": "round-robin within each transaction: every "
            "transaction adds every partition",
            "timing": "first begin_transaction() until the last commit_transaction() returned; "
            "init_transactions() once before, timed apart. Per transaction, begin_to_commit_ms "
            "is begin_transaction() and the produce() calls (which only queue, and wait when "
            "librdkafka's queue is full) and commit_ms is commit_transaction(): waiting for "
            "AddPartitionsToTxn (with its retries), the Produce requests and EndTxn",
            "check": "afterwards, untimed: a read_committed consumer reads every partition "
            "to its end; the per-partition counts must equal what was sent",
            "settle_seconds": settings.settle,
            "cpu_accounting": "broker: /proc/PID/stat; client: os.times() in the load process; "
            "machine: /proc/stat; all over the timed window",
        },
        "brokers": described,
        "skipped": skipped,
        "runs": [run.to_json() for run in runs],
        "medians_records_per_s": {
            k: {b: round(v, 1) for b, v in d.items()} for k, d in med.items()
        },
        "ratios": rows,
        "failures": len(failed),
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    write_json(args.output, payload)
    console.print(f"results: {args.output}")
    return 1 if failed else 0


def settings_from(args: argparse.Namespace) -> Settings:
    """The load every broker gets."""
    return Settings(
        workloads=args.workloads,
        value_size=args.value_size,
        partitions=args.partitions,
        warmup=not args.no_warmup,
        settle=args.settle,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``worker``, one load process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    from rich.console import Console  # noqa: PLC0415

    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="transactions-", dir=args.dir))
    try:
        if args.profile is not None:
            return run_profile(args, console, work, settings_from(args))
        workloads = ", ".join(map(str, args.workloads))
        console.print(
            f"transactional produce benchmark: {workloads} records of {args.value_size} B "
            f"over {args.partitions} partitions, {args.rounds} round(s)"
        )
        return run_benchmark(args, argv, console, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
