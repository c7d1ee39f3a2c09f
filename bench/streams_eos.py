"""What exactly-once costs a Tidal Streams app: the same per-key aggregate under
``exactly_once_v2`` and ``at_least_once``, on Tidal's broker, in one run::

    python bench/streams_eos.py [--records 1000000] [--keys 10000] [--partitions 4]
                                [--commit-interval-ms MS] [--dir DIR] [--output FILE]

1. A Tidal broker starts in its own process (``tidal broker start``).
2. The input topic is filled once, before anything is timed: ``--records`` JSON values
   ``{"user": "user-00042", "amount": 37, "seq": 12}`` keyed by ``user`` (``--keys``
   users, a fixed seed), the input of ``bench/streams.py``.
3. Three runs, each a fresh worker process (``worker`` subcommand; new group, state
   directory and output topic) that keeps ``count`` and ``sum`` of ``amount`` per key in
   RocksDB (with its changelog) and sends the updated aggregate for every record:
   at-least-once at its default commit interval (30 s), at-least-once at 100 ms, and
   exactly-once at its default, 100 ms (Kafka Streams' defaults).
   ``--commit-interval-ms`` runs only the two guarantees, both at that interval.
4. A ``read_committed`` watcher reads the output topic. Throughput is ``--records``
   over the time from the worker's first record to the last output being readable
   (under exactly-once: committed). The final aggregate of every key is checked.

The cost of exactly-once is ``1 - exactly_once / at_least_once`` records/s at the same
commit interval: what the transactions cost (goal: at most 0.20). Against at-least-once
at its own default it also includes committing 300 times as often (every update of a
key within 100 ms becomes a changelog record, where 30 s folds them into one).
Results go to ``bench/results/streams_eos.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _streams_input import expected_totals, generate  # noqa: E402
from peers import cpu_seconds, free_port, machine_cpu_seconds  # noqa: E402

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "streams_eos.json"
GUARANTEES = ["at_least_once", "exactly_once_v2"]
GOAL = 0.20  # exactly-once costs at most 20% of the throughput (issue 6)
READY = "tidal broker ready on "


# ---- the worker: one guarantee, a process of its own ------------------------------------


def worker_main(argv: Sequence[str]) -> int:
    """``streams_eos.py worker GUARANTEE ...``: the aggregate app, until SIGTERM."""
    parser = argparse.ArgumentParser(prog="streams_eos.py worker")
    parser.add_argument("guarantee", choices=GUARANTEES)
    for name in ("--bootstrap", "--input", "--output", "--group"):
        parser.add_argument(name, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--started", type=Path, required=True)
    parser.add_argument("--commit-interval-ms", type=int, default=None)
    ns = parser.parse_args(argv)

    from tidal.streams import App  # noqa: PLC0415  (the harness needs no streams import)

    app = App(
        ns.group,
        bootstrap_servers=ns.bootstrap,
        state_dir=ns.state_dir,
        processing_guarantee=ns.guarantee,
        commit_interval_ms=ns.commit_interval_ms,
    )
    seen = [False]

    def initial() -> dict[str, int]:
        return {"count": 0, "sum": 0}

    def add(_key: str, value: dict[str, Any], total: dict[str, int]) -> dict[str, int]:
        if not seen[0]:
            seen[0] = True
            ns.started.write_text(repr(time.time()))
        return {"count": total["count"] + 1, "sum": total["sum"] + value["amount"]}

    (
        app.stream(ns.input, key_serde="str", value_serde="json")
        .group_by_key()
        .aggregate(initial, add, "totals", value_serde="json")
        .to_stream()
        .to(ns.output, key_serde="str", value_serde="json")
    )
    app.run()
    return 0


# ---- the harness ------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One guarantee's measured run."""

    guarantee: str
    records: int
    commit_interval_ms: int
    seconds: float | None = None
    outputs: int = 0
    worker_cpu_seconds: float | None = None
    broker_cpu_seconds: float | None = None
    other_cores: float | None = None
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def records_per_s(self) -> float | None:
        if self.seconds is None or self.seconds <= 0 or self.error is not None:
            return None
        return self.records / self.seconds

    def to_json(self) -> dict[str, Any]:
        rate = self.records_per_s

        def per_record(cpu: float | None) -> float | None:
            return None if cpu is None else round(cpu / self.records * 1e6, 2)

        return {
            "guarantee": self.guarantee,
            "commit_interval_ms": self.commit_interval_ms,
            "records": self.records,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "records_per_s": None if rate is None else round(rate, 1),
            "outputs_received": self.outputs,
            "verified": self.error is None and not self.mismatches,
            "mismatches": self.mismatches[:10],
            "worker_cpu_us_per_record": per_record(self.worker_cpu_seconds),
            "broker_cpu_us_per_record": per_record(self.broker_cpu_seconds),
            "other_cores": None if self.other_cores is None else round(self.other_cores, 2),
            "error": self.error,
        }


class Broker:
    """``tidal broker start`` in a process of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        args = [
            sys.executable, "-m", "tidal", "broker", "start",
            "--data-dir", str(data_dir), "--listen", self.bootstrap,
            "--set", "group.initial.rebalance.delay.ms=0",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(READY):
                return
        raise RuntimeError("the broker did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int) -> None:
    from tidal.log.client.admin import AdminClient, NewTopic  # noqa: PLC0415

    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])


async def fill_input(
    bootstrap: str, topic: str, keys: Sequence[str], values: Sequence[bytes]
) -> None:
    from tidal.log.client.producer import Producer  # noqa: PLC0415

    async with Producer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=65_536
    ) as producer:
        for key, value in zip(keys, values, strict=True):
            await producer.send(topic, value, key.encode())
        await producer.flush()


async def watch(
    broker: Broker, topic: str, partitions: int, run: Run, proc: Any, started: Path, timeout: float
) -> dict[bytes, bytes]:
    """Read ``topic`` (read_committed) until every output arrived; the last value per key."""
    from tidal.log.client.consumer import Consumer, TopicPartition  # noqa: PLC0415

    last: dict[bytes, bytes] = {}
    cpu0: tuple[float | None, float | None] | None = None
    machine0 = (0.0, 0.0)
    async with Consumer(
        bootstrap_servers=broker.bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    ) as consumer:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        deadline = time.monotonic() + timeout
        while run.outputs < run.records:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                run.outputs += len(records)
                for record in records:
                    last[record.key or b""] = record.value or b""
            if cpu0 is None and started.exists():
                cpu0 = (cpu_seconds(proc.pid), cpu_seconds(broker.proc.pid))
                machine0 = machine_cpu_seconds()
            if proc.returncode is not None:
                run.error = f"the worker exited with {proc.returncode} before the end"
                return last
            if time.monotonic() > deadline:
                run.error = f"timed out: {run.outputs:,} of {run.records:,} outputs"
                return last
        end = time.time()
        cpu1 = (cpu_seconds(proc.pid), cpu_seconds(broker.proc.pid))
        machine1 = machine_cpu_seconds()
    run.seconds = end - float(started.read_text())
    if cpu0 is not None and None not in cpu0 and None not in cpu1:
        run.worker_cpu_seconds = (cpu1[0] or 0.0) - (cpu0[0] or 0.0)
        run.broker_cpu_seconds = (cpu1[1] or 0.0) - (cpu0[1] or 0.0)
        wall = (machine1[1] - machine0[1]) / (os.cpu_count() or 1)
        if wall > 0:
            ours = run.worker_cpu_seconds + run.broker_cpu_seconds
            run.other_cores = max(0.0, (machine1[0] - machine0[0] - ours) / wall)
    return last


async def run_guarantee(
    guarantee: str,
    interval: int,
    broker: Broker,
    args: argparse.Namespace,
    expected: dict[str, tuple[int, int]],
    work: Path,
) -> Run:
    run = Run(guarantee, args.records, interval)
    name = f"{guarantee.replace('_', '-')}-{interval}"
    where = work / name
    where.mkdir(parents=True)
    output = f"out-{name}"
    await create_topics(broker.bootstrap, [output], args.partitions)
    started = where / "started"
    command = [
        sys.executable, str(Path(__file__).resolve()), "worker", guarantee,
        "--bootstrap", broker.bootstrap, "--input", "input", "--output", output,
        "--group", f"bench-{name}", "--commit-interval-ms", str(interval),
        "--state-dir", str(where / "state"), "--started", str(started),
    ]  # fmt: skip
    log = where / "worker.log"
    with log.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            last = await watch(broker, output, args.partitions, run, proc, started, args.timeout)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    got = {k.decode(): json.loads(v) for k, v in last.items()}
    for key, (count, total) in sorted(expected.items()):
        value = got.get(key)
        if value is None or (value["count"], value["sum"]) != (count, total):
            run.mismatches.append(f"{key}: expected {(count, total)}, got {value}")
    if run.error is None and run.mismatches:
        run.error = f"wrong result for {len(run.mismatches)} keys"
    if run.error is not None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        print(f"{guarantee} failed: {run.error}\n{tail}", file=sys.stderr)
    return run


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    keys, values = generate(args.records, args.keys)
    expected = expected_totals(keys, values)
    base = Path(args.dir) if args.dir else None
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="streams-eos-", dir=base))
    broker = Broker(work / "broker")
    try:
        await create_topics(broker.bootstrap, ["input"], args.partitions)
        await fill_input(broker.bootstrap, "input", keys, values)
        plan = (
            [
                ("at_least_once", args.commit_interval_ms),
                ("exactly_once_v2", args.commit_interval_ms),
            ]
            if args.commit_interval_ms
            else [("at_least_once", 30_000), ("at_least_once", 100), ("exactly_once_v2", 100)]
        )
        runs = [await run_guarantee(g, i, broker, args, expected, work) for g, i in plan]
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    eos = runs[-1]
    same = next(
        r
        for r in runs
        if r.guarantee == "at_least_once" and r.commit_interval_ms == eos.commit_interval_ms
    )
    default = (
        next(r for r in runs if r.guarantee == "at_least_once" and r.commit_interval_ms == 30_000)
        if not args.commit_interval_ms
        else None
    )
    cost = _cost(eos, same)
    cost_default = None if default is None else _cost(eos, default)
    return {
        "benchmark": "streams_eos",
        "command": " ".join(["python", "bench/streams_eos.py", *sys.argv[1:]]),
        "records": args.records,
        "keys": args.keys,
        "partitions": args.partitions,
        "runs": [r.to_json() for r in runs],
        "exactly_once_cost": None if cost is None else round(cost, 3),
        "exactly_once_cost_vs_default_at_least_once": (
            None if cost_default is None else round(cost_default, 3)
        ),
        "goal_max_cost": GOAL,
        "goal_met": None if cost is None else cost <= GOAL,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cost(eos: Run, alos: Run) -> float | None:
    if eos.records_per_s is None or alos.records_per_s is None:
        return None
    return 1 - eos.records_per_s / alos.records_per_s


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--commit-interval-ms", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--dir", default=None, help="where the broker and state live")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args))
    for run in result["runs"]:
        rate = run["records_per_s"]
        shown = "failed" if rate is None else f"{rate:>10,.0f} records/s"
        print(f"{run['guarantee']:<16} commit {run['commit_interval_ms']:>6} ms  {shown}")
    cost = result["exactly_once_cost"]
    if cost is not None:
        verdict = "met" if result["goal_met"] else "missed"
        print(
            f"exactly-once costs {cost:.1%} of at-least-once's throughput at the same commit "
            f"interval (goal <= {GOAL:.0%}: {verdict})"
        )
    against_default = result["exactly_once_cost_vs_default_at_least_once"]
    if against_default is not None:
        print(f"and {against_default:.1%} against at-least-once at its default interval")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(r["error"] is None for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
