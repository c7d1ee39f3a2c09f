"""Broker benchmark: librdkafka produce and consume rates on Tidal, Tansu and Apache Kafka.

Each broker runs as its own process and the load generator (confluent-kafka,
that is librdkafka, driven from Python) as another, in one run::

    python bench/broker.py [--messages N] [--value-sizes 100,1024]
                           [--peers tidal,tansu,kafka] [--rounds 2]

Per round, the brokers take turns (the order rotates from round to round, so
machine noise hits all alike). Each turn starts the broker fresh, warms it up
with unreported traffic, then for each value size produces N records
(acks=all, linger.ms=5, librdkafka's default batch.size, no compression) to a
new one-partition topic and consumes them back from the beginning with one
assigned consumer. The broker is stopped at the end of its turn. Medians over
the rounds give the ratios Tidal / peer; the goals (issue 3) are >= 1.0x Tansu
and >= 0.7x Apache Kafka for produce and consume.

Broker and load generator share the machine's CPUs (two, where this was
written), so each measurement records the CPU the broker, the load generator and
everything else used meanwhile. Before each measurement the run waits (up to
``--settle`` seconds) for other processes to go quiet, and a measurement during
which they kept 0.3 cores or more busy is taken again (``--retries``), keeping
the cleanest attempt.

``--profile DIR`` instead runs the same load against Tidal alone with py-spy
attached to the broker and prints where its time goes.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import confluent_kafka
from _common import MB, bar, git_state, machine_facts, now_iso, write_json
from peers import PEERS, TidalBroker, cpu_seconds, free_port, machine_cpu_seconds
from peers.profiler import PySpy, print_profile, summarize_profile
from rich.console import Console
from rich.table import Table

import tidal

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "broker.json"
DEFAULT_DIR = ROOT / "build" / "bench-tmp"
LOADGEN = ROOT / "bench" / "peers" / "loadgen.py"
#: Minimum ratio Tidal / peer, for produce and consume alike (issue 3).
GOALS = {"tansu": 1.0, "kafka": 0.7}
#: The load generator's client settings, the same against every broker. Anything
#: not named is librdkafka's default (batch.size 1,000,000, batch.num.messages
#: 10,000, queue.buffering.max.messages 100,000, fetch.max.bytes 50 MiB, ...).
PRODUCER_CONFIG: dict[str, Any] = {
    "acks": "all",
    "linger.ms": 5,
    "compression.type": "none",
    "enable.idempotence": False,
}
CONSUMER_CONFIG: dict[str, Any] = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": False,
    # librdkafka stops fetching for this long once its local queue holds
    # queued.min.messages (100,000) records; at the default (1,000 ms) the consumer
    # sits idle most of the time and measures that pause, not the broker.
    "fetch.queue.backoff.ms": 10,
}
CEILING_MESSAGES = 300_000
#: Cores other processes may keep busy before a measurement starts anyway.
QUIET_CORES = 0.2
#: Cores other processes may keep busy during a measurement before it is taken again.
NOISY_CORES = 0.3


@dataclass(frozen=True, slots=True)
class Scenario:
    """Produce or consume of records with ``value_size``-byte values."""

    kind: str
    value_size: int

    @property
    def name(self) -> str:
        """``produce 100 B``, ``consume 1 KiB``."""
        size = self.value_size
        text = f"{size // 1024} KiB" if size >= 1024 and size % 1024 == 0 else f"{size} B"
        return f"{self.kind} {text}"


@dataclass(slots=True)
class Measurement:
    """One scenario against one broker in one round."""

    peer: str
    scenario: Scenario
    round: int
    messages: int
    seconds: float = 0.0
    broker_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None
    machine_busy_cores: float | None = None
    waited_for_quiet: float = 0.0
    error: str | None = None
    discarded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def other_cores(self) -> float | None:
        """Cores busy meanwhile with neither the broker nor the load generator
        (other processes on the machine, the kernel's own threads)."""
        if None in (self.machine_busy_cores, self.broker_cpu_seconds, self.client_cpu_seconds):
            return None
        ours = (self.broker_cpu_seconds or 0.0) + (self.client_cpu_seconds or 0.0)
        return max(0.0, (self.machine_busy_cores or 0.0) - ours / self.seconds)

    @property
    def msgs_per_s(self) -> float:
        """Records a second."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The measurement as a JSON object."""
        entry: dict[str, Any] = {
            "peer": self.peer,
            "scenario": self.scenario.name,
            "round": self.round,
            "messages": self.messages,
        }
        if self.error is not None:
            return {**entry, "error": self.error, "discarded_noisy_attempts": self.discarded}
        value_bytes = self.messages * self.scenario.value_size
        entry |= {
            "value_bytes": value_bytes,
            "seconds": round(self.seconds, 4),
            "msgs_per_s": round(self.msgs_per_s, 1),
            "mb_per_s": round(value_bytes / self.seconds / MB, 2),
        }
        for side, cpu in (("broker", self.broker_cpu_seconds), ("client", self.client_cpu_seconds)):
            if cpu is not None:
                entry[f"{side}_cpu_seconds"] = round(cpu, 3)
                entry[f"{side}_cpu_us_per_msg"] = round(cpu / self.messages * 1e6, 3)
                entry[f"{side}_cores_busy"] = round(cpu / self.seconds, 2)
        if self.machine_busy_cores is not None:
            entry["machine_cores_busy"] = round(self.machine_busy_cores, 2)
        if (other := self.other_cores) is not None:
            entry["other_processes_cores_busy"] = round(other, 2)
        entry["waited_for_quiet_s"] = round(self.waited_for_quiet, 1)
        if self.discarded:
            entry["discarded_noisy_attempts"] = self.discarded
        return entry


# ---- the orchestrator -------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    """A load for one worker process."""

    role: str
    bootstrap: str
    topic: str
    messages: int
    value_size: int
    partitions: int
    config: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> str:
        """The load generator's argument."""
        return json.dumps(
            {
                "role": self.role,
                "bootstrap": self.bootstrap,
                "topic": self.topic,
                "messages": self.messages,
                "value_size": self.value_size,
                "partitions": self.partitions,
                "config": self.config,
            }
        )


class LoadError(RuntimeError):
    """The load generator failed."""


def run_load(
    console: Console,
    label: str,
    load: Load,
    broker_pid: int | None,
    log: Path,
) -> dict[str, Any]:
    """Run ``load`` in a load generator process with a progress bar; its result, with
    the CPU time ``broker_pid`` and the whole machine used between the load
    generator's ``ready`` and ``result`` lines."""
    command = [sys.executable, str(LOADGEN), load.spec()]
    result: dict[str, Any] | None = None
    error = None
    cpu_start: float | None = None
    machine_start = (0.0, 0.0)
    with (
        log.open("ab") as stderr,
        bar(console, label, load.messages * load.value_size) as (progress, task),
    ):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            word, _, rest = line.rstrip("\n").partition(" ")
            if word == "ready":
                cpu_start = None if broker_pid is None else cpu_seconds(broker_pid)
                machine_start = machine_cpu_seconds()
            elif word == "progress":
                progress.update(task, completed=int(rest) * load.value_size)
            elif word == "result":
                cpu_end = None if broker_pid is None else cpu_seconds(broker_pid)
                busy, total = machine_cpu_seconds()
                result = json.loads(rest)
                if cpu_start is not None and cpu_end is not None:
                    result["broker_cpu_seconds"] = cpu_end - cpu_start
                wall = (total - machine_start[1]) / (os.cpu_count() or 1)
                if wall > 0:
                    result["machine_busy_cores"] = (busy - machine_start[0]) / wall
                progress.update(task, completed=load.messages * load.value_size)
            elif word == "error":
                error = json.loads(rest)
        code = proc.wait()
    if result is None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
        raise LoadError(error or f"load generator exited with {code}: {tail}")
    return result


def client_ceiling(console: Console, work: Path, value_size: int, config: dict[str, Any]) -> float:
    """``produce()`` calls a second into librdkafka's queue, no broker involved."""

    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    load = Load("ceiling", bootstrap, "ceiling", CEILING_MESSAGES, value_size, 1, config)
    result = run_load(console, "client produce() ceiling", load, None, work / "client.log")
    return CEILING_MESSAGES / float(result["seconds"])


@dataclass(slots=True)
class Settings:
    """What every turn of every broker runs."""

    messages: int
    value_sizes: list[int]
    partitions: int
    warmup_messages: int
    producer: dict[str, Any]
    consumer: dict[str, Any]
    settle: float = 0.0
    retries: int = 0


def scenarios(settings: Settings) -> list[Scenario]:
    """Produce then consume, for each value size."""
    kinds = ("produce", "consume")
    return [Scenario(kind, size) for size in settings.value_sizes for kind in kinds]


def broker_turn(
    console: Console,
    broker: Any,
    round_no: int,
    settings: Settings,
    work: Path,
    hooks: dict[str, Callable[[str], Any]] | None = None,
) -> list[Measurement]:
    """Start ``broker`` fresh, warm it up, measure every scenario, stop it.

    A measurement during which other processes kept ``NOISY_CORES`` or more busy
    is taken again (``settings.retries`` times at most) and the cleanest attempt
    kept, the others listed as discarded. ``hooks`` (profiling) may hold
    ``before(name)`` and ``after(name)``, called around each measured load."""
    turn_dir = work / f"{broker.name}-round{round_no}"
    turn_dir.mkdir()
    log = turn_dir / "client.log"
    results: list[Measurement] = []
    try:
        with step_time(console, f"  starting {broker.label}"):
            broker.start(turn_dir)
        console.print(f"  {broker.label} on {broker.bootstrap_servers}, pid {broker.pid}")
        for size in settings.value_sizes:
            if settings.warmup_messages:
                warm_up(console, broker, size, settings, log)
        written: dict[int, str] = {}  # value size -> topic holding the kept produce
        for scenario in scenarios(settings):
            size = scenario.value_size
            if scenario.kind == "consume" and size not in written:
                failed = Measurement(broker.name, scenario, round_no, settings.messages)
                failed.error = "not run: its produce failed"
                results.append(failed)
                continue
            attempts: list[tuple[Measurement, str]] = []
            for attempt in range(1, settings.retries + 2):
                topic = written[size] if scenario.kind == "consume" else f"bench-{size}-{attempt}"
                m = measure(console, broker, scenario, round_no, settings, log, topic, hooks or {})
                attempts.append((m, topic))
                other = m.other_cores
                if m.error is not None or other is None or other < NOISY_CORES:
                    break
                if attempt <= settings.retries:
                    console.print(
                        f"  [yellow]other processes kept {other:.2f} cores busy: measuring again[/]"
                    )
            kept, topic = min(attempts, key=_noise)
            kept.discarded = [m.to_json() for m, _ in attempts if m is not kept]
            results.append(kept)
            if scenario.kind == "produce" and kept.error is None:
                written[size] = topic
    except Exception as exc:  # noqa: BLE001 - one broker failing must not end the run
        console.print(f"  [red]{broker.label} failed:[/] {exc}")
        done = {m.scenario for m in results}
        for scenario in scenarios(settings):
            if scenario not in done:
                failed = Measurement(broker.name, scenario, round_no, settings.messages)
                failed.error = f"{type(exc).__name__}: {exc}"
                results.append(failed)
    finally:
        try:
            broker.stop()
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            console.print(f"  [red]{broker.label} did not stop cleanly:[/] {exc}")
        shutil.rmtree(turn_dir, ignore_errors=True)
        os.sync()  # no dirty pages left to write back during the next turn
    return results


def _noise(attempt: tuple[Measurement, str]) -> tuple[int, float]:
    """Sort key: measured before failed, then the fewest cores used by others."""
    m = attempt[0]
    return (m.error is not None, m.other_cores if m.other_cores is not None else 0.0)


def measure(
    console: Console,
    broker: Any,
    scenario: Scenario,
    round_no: int,
    settings: Settings,
    log: Path,
    topic: str,
    hooks: dict[str, Callable[[str], Any]],
) -> Measurement:
    """One attempt at ``scenario`` on ``topic``, once the machine is quiet."""
    m = Measurement(broker.name, scenario, round_no, settings.messages)
    load = Load(
        scenario.kind,
        broker.bootstrap_servers,
        topic,
        settings.messages,
        scenario.value_size,
        settings.partitions,
        settings.producer if scenario.kind == "produce" else settings.consumer,
    )
    m.waited_for_quiet = wait_for_quiet(console, broker.pid, settings.settle)
    if "before" in hooks:
        hooks["before"](scenario.name)
    try:
        outcome = run_load(console, f"{broker.label} {scenario.name}", load, broker.pid, log)
    except LoadError as exc:
        m.error = str(exc)
        console.print(f"  [red]{scenario.name} failed:[/] {exc}")
        return m
    finally:
        if "after" in hooks:
            hooks["after"](scenario.name)
    m.seconds = float(outcome["seconds"])
    m.client_cpu_seconds = outcome.get("client_cpu_seconds")
    m.broker_cpu_seconds = outcome.get("broker_cpu_seconds")
    m.machine_busy_cores = outcome.get("machine_busy_cores")
    console.print(
        f"  → {scenario.name}: {m.msgs_per_s:,.0f} msgs/s, "
        f"{m.msgs_per_s * scenario.value_size / MB:,.1f} MB/s" + cpu_note(m)
    )
    return m


def wait_for_quiet(console: Console, broker_pid: int, limit: float) -> float:
    """Wait (at most ``limit`` seconds) until processes other than the broker keep
    fewer than ``QUIET_CORES`` cores busy over half a second; seconds waited.

    Other work on a shared machine (a test run, a build) takes CPU from whichever
    broker is being measured; waiting it out keeps the turns comparable."""
    start = time.monotonic()
    others = 0.0
    with console.status("") as status:
        while True:
            busy0, total0 = machine_cpu_seconds()
            broker0 = cpu_seconds(broker_pid) or 0.0
            time.sleep(0.5)
            busy1, total1 = machine_cpu_seconds()
            broker1 = cpu_seconds(broker_pid) or 0.0
            wall = (total1 - total0) / (os.cpu_count() or 1)
            others = ((busy1 - busy0) - (broker1 - broker0)) / wall if wall > 0 else 0.0
            waited = time.monotonic() - start
            if others < QUIET_CORES or waited >= limit:
                break
            status.update(
                f"  waiting for other processes to quieten: {others:.2f} cores busy "
                f"({waited:.0f}/{limit:.0f} s)"
            )
    if waited >= 1:
        state = "quiet" if others < QUIET_CORES else f"still {others:.2f} cores busy"
        console.print(f"  waited {waited:.0f} s for other processes ({state})")
    return waited


def warm_up(console: Console, broker: Any, size: int, settings: Settings, log: Path) -> None:
    """Produce and consume ``warmup_messages`` unreported records (JIT, caches)."""
    topic, count = f"warmup-{size}", settings.warmup_messages
    for role, config in (("produce", settings.producer), ("consume", settings.consumer)):
        load = Load(role, broker.bootstrap_servers, topic, count, size, settings.partitions, config)
        run_load(console, f"  warm-up {role} {size} B", load, None, log)


def cpu_note(m: Measurement) -> str:
    """`` (broker 1.00 cores, 4.1 µs/msg; client ...)``."""
    parts = []
    for side, cpu in (("broker", m.broker_cpu_seconds), ("client", m.client_cpu_seconds)):
        if cpu is not None and m.seconds > 0:
            parts.append(
                f"{side} {cpu / m.seconds:.2f} cores, {cpu / m.messages * 1e6:.1f} µs/msg CPU"
            )
    if (other := m.other_cores) is not None and other >= QUIET_CORES:
        parts.append(f"[yellow]other processes {other:.2f} cores[/]")
    return f"  ({'; '.join(parts)})" if parts else ""


@contextmanager
def step_time(console: Console, text: str) -> Iterator[None]:
    """Print ``text`` and, after the block, how long it took."""
    start = time.monotonic()
    with console.status(text):
        yield
    console.print(f"{text}: {time.monotonic() - start:.1f} s")


# ---- summary -------------------------------------------------------------------------


@dataclass(slots=True)
class Goal:
    """Tidal / peer on one scenario against its minimum."""

    scenario: str
    peer: str
    min_ratio: float
    ratio: float | None

    @property
    def met(self) -> bool | None:
        """``None`` when the ratio could not be measured."""
        return None if self.ratio is None else self.ratio >= self.min_ratio

    def to_json(self) -> dict[str, Any]:
        """The goal as a JSON object."""
        return {
            "scenario": self.scenario,
            "peer": self.peer,
            "goal": f"Tidal / {self.peer} >= {self.min_ratio:g}",
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "met": self.met,
        }


def medians(measurements: Sequence[Measurement]) -> dict[str, dict[str, float]]:
    """Median msgs/s over the rounds that succeeded, by scenario then peer."""
    table: dict[str, dict[str, list[float]]] = {}
    for m in measurements:
        if m.error is None and m.seconds > 0:
            table.setdefault(m.scenario.name, {}).setdefault(m.peer, []).append(m.msgs_per_s)
    return {
        scenario: {peer: statistics.median(values) for peer, values in by_peer.items()}
        for scenario, by_peer in table.items()
    }


def goals(
    all_scenarios: Sequence[Scenario], peers: Sequence[str], med: dict[str, dict[str, float]]
) -> list[Goal]:
    """Every goal that applies to the peers of this run."""
    result = []
    for scenario in all_scenarios:
        by_peer = med.get(scenario.name, {})
        for peer, minimum in GOALS.items():
            if peer not in peers or "tidal" not in peers:
                continue
            tidal, other = by_peer.get("tidal"), by_peer.get(peer)
            ratio = None if tidal is None or not other else tidal / other
            result.append(Goal(scenario.name, peer, minimum, ratio))
    return result


def print_throughput(
    console: Console,
    all_scenarios: Sequence[Scenario],
    labels: dict[str, str],
    measurements: Sequence[Measurement],
    med: dict[str, dict[str, float]],
    rounds: int,
) -> None:
    """Median msgs/s and MB/s per scenario and broker, each round, CPU used."""
    table = Table(title=f"throughput, median of {rounds} round(s); MB = 10^6 value bytes")
    for name, justify in (
        ("scenario", "left"),
        ("broker", "left"),
        ("msgs/s", "right"),
        ("MB/s", "right"),
        ("rounds", "right"),
        ("broker CPU µs/msg", "right"),
        ("client CPU µs/msg", "right"),
        ("others' cores (max)", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for scenario in all_scenarios:
        for peer, label in labels.items():
            runs = [m for m in measurements if m.peer == peer and m.scenario == scenario]
            median = med.get(scenario.name, {}).get(peer)
            ok = [m for m in runs if m.error is None]
            each = " ".join("failed" if m.error else f"{m.msgs_per_s / 1000:,.0f}k" for m in runs)
            table.add_row(
                scenario.name,
                label,
                "-" if median is None else f"{median:,.0f}",
                "-" if median is None else f"{median * scenario.value_size / MB:,.1f}",
                each,
                _median_cpu(ok, "broker_cpu_seconds"),
                _median_cpu(ok, "client_cpu_seconds"),
                _max_other(ok),
            )
    console.print(table)


def _max_other(runs: Sequence[Measurement]) -> str:
    values = [m.other_cores for m in runs if m.other_cores is not None]
    return f"{max(values):.2f}" if values else "-"


def _median_cpu(runs: Sequence[Measurement], attribute: str) -> str:
    values = [
        getattr(m, attribute) / m.messages * 1e6 for m in runs if getattr(m, attribute) is not None
    ]
    return f"{statistics.median(values):.1f}" if values else "-"


def print_goals(console: Console, all_goals: Sequence[Goal], labels: dict[str, str]) -> None:
    """Ratio Tidal / peer per scenario against its goal."""
    table = Table(title="ratio Tidal / peer, of the medians")
    for name in ("scenario", "peer", "ratio", "goal", "met?"):
        table.add_column(name, justify="right" if name == "ratio" else "left")
    for goal in all_goals:
        met = goal.met
        table.add_row(
            goal.scenario,
            labels.get(goal.peer, goal.peer),
            "-" if goal.ratio is None else f"{goal.ratio:.2f}",
            f"≥ {goal.min_ratio:.1f}",
            "not measured" if met is None else ("[green]yes[/]" if met else "[red]NO[/]"),
        )
    console.print(table)


# ---- profiling Tidal's broker with py-spy ----------------------------------------------


def run_profile(args: argparse.Namespace, console: Console, work: Path, settings: Settings) -> int:
    """Tidal alone, one round, py-spy attached during each measured load (once:
    a profile needs no retry)."""
    settings.retries = 0
    bindir = str(Path(sys.executable).parent)
    executable = shutil.which("py-spy", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    if executable is None:
        console.print("[red]py-spy is not installed:[/] pip install py-spy")
        return 2
    out: Path = args.profile
    out.mkdir(parents=True, exist_ok=True)
    broker = TidalBroker()
    spy = PySpy(executable, out, args.profile_rate, broker)
    console.print(f"profiling Tidal's broker with py-spy at {args.profile_rate} Hz into {out}")
    measurements = broker_turn(
        console, broker, 1, settings, work, {"before": spy.before, "after": spy.after}
    )
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/broker.py", *sys.argv[1:]]),
        "py_spy": subprocess.run(
            [executable, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "rate_hz": args.profile_rate,
        "tidal": broker.describe(),
        "scenarios": {},
    }
    for m in measurements:
        path = spy.files.get(m.scenario.name)
        if m.error is not None or path is None or not path.exists():
            console.print(f"[red]{m.scenario.name}: no profile[/] ({m.error})")
            continue
        summary = summarize_profile(path, 25)
        summary["measurement"] = m.to_json()
        report["scenarios"][m.scenario.name] = summary
        print_profile(console, m.scenario.name, summary, args.profile_top)
    write_json(out / "profile.json", report)
    console.print(f"folded stacks and profile.json in {out}")
    return 0 if all(m.error is None for m in measurements) else 1


# ---- the run -------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"need positive integers: {text!r}")
    return values


def _peer_list(text: str) -> list[str]:

    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in PEERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"peers are among {', '.join(PEERS)}; got {text!r}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="records per scenario")
    parser.add_argument(
        "--value-sizes", type=_int_list, default=[100, 1024], help="value bytes, comma-separated"
    )
    parser.add_argument(
        "--peers",
        type=_peer_list,
        default=["tidal", "tansu", "kafka"],
        help="brokers to run, comma-separated, among tidal,tansu,kafka",
    )
    parser.add_argument("--rounds", type=int, default=2, help="turns of every broker")
    parser.add_argument("--partitions", type=int, default=1, help="partitions per topic")
    parser.add_argument("--linger-ms", type=int, default=5, help="the producer's linger.ms")
    parser.add_argument(
        "--warmup-messages",
        type=int,
        default=None,
        help="unreported records produced and consumed per value size after each start "
        "(default: --messages, at most 100,000)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="a run directory is made (and removed) inside it (default: build/bench-tmp)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="before each measurement, wait up to this many seconds for other processes "
        f"to use less than {QUIET_CORES} cores (default 30; 0 does not wait)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help=f"measure again when other processes kept {NOISY_CORES} cores or more busy "
        "meanwhile, at most this many times; the cleanest attempt is kept (default 2)",
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
    if args.messages < 1 or args.rounds < 1 or args.partitions < 1 or args.linger_ms < 0:
        parser.error("--messages, --rounds and --partitions must be at least 1")
    if args.warmup_messages is None:
        args.warmup_messages = min(args.messages, 100_000)
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    """The load every broker gets."""
    return Settings(
        messages=args.messages,
        value_sizes=args.value_sizes,
        partitions=args.partitions,
        warmup_messages=args.warmup_messages,
        producer={**PRODUCER_CONFIG, "linger.ms": args.linger_ms},
        consumer=dict(CONSUMER_CONFIG),
        settle=args.settle,
        retries=args.retries,
    )


def client_versions() -> dict[str, str]:
    """confluent-kafka's and librdkafka's versions."""

    return {
        "confluent_kafka": confluent_kafka.__version__,
        "librdkafka": confluent_kafka.libversion()[0],
    }


def machine_note() -> str:
    """What sharing the CPUs means for the figures."""
    return (
        f"{os.cpu_count()} CPUs: each broker and the load generator (one Python process "
        "driving librdkafka, whose threads do the network I/O) run side by side and share "
        "them, so no side has a core to itself; the client's CPU use is in the table"
    )


def run_benchmark(
    args: argparse.Namespace, argv: Sequence[str], console: Console, work: Path
) -> tuple[dict[str, Any], bool]:
    """Every round of every broker; the JSON payload and whether nothing failed."""

    started, load_at_start = now_iso(), os.getloadavg()
    settings = settings_from(args)
    brokers, skipped, described = {}, {}, {}
    for name in args.peers:
        broker = PEERS[name]()
        with console.status(f"checking {broker.label} (Apache Kafka may fetch its jars)"):
            reason = broker.unavailable()
        if reason is None:
            brokers[name] = broker
            described[name] = broker.describe()
            console.print(f"{broker.label}: {described[name].get('version')}")
        else:
            skipped[name] = reason
            console.print(f"[yellow]{broker.label} skipped:[/] {reason}")
    labels = {name: broker.label for name, broker in brokers.items()}
    versions = client_versions()
    console.print(
        f"load generator: confluent-kafka {versions['confluent_kafka']} "
        f"(librdkafka {versions['librdkafka']}) in its own process"
    )
    console.print(f"[yellow]note:[/] {machine_note()}")
    ceilings = {
        size: client_ceiling(console, work, size, settings.producer)
        for size in settings.value_sizes
    }
    for size, rate in ceilings.items():
        console.print(f"  client alone, {size} B values: {rate:,.0f} produce() calls/s")

    measurements: list[Measurement] = []
    rounds: list[dict[str, Any]] = []
    names = list(brokers)
    for round_no in range(1, args.rounds + 1):
        shift = (round_no - 1) % max(1, len(names))
        order = names[shift:] + names[:shift]
        console.rule(f"round {round_no}/{args.rounds}: {' → '.join(labels[n] for n in order)}")
        done: list[Measurement] = []
        for name in order:
            console.print(f"[bold]{labels[name]}[/]")
            done += broker_turn(console, brokers[name], round_no, settings, work)
        measurements += done
        rounds.append(
            {"round": round_no, "order": order, "measurements": [m.to_json() for m in done]}
        )

    all_scenarios = scenarios(settings)
    med = medians(measurements)
    all_goals = goals(all_scenarios, names, med)
    console.rule("results")
    print_throughput(console, all_scenarios, labels, measurements, med, args.rounds)
    if all_goals:
        print_goals(console, all_goals, labels)
    met = [goal.met for goal in all_goals]
    verdict = None if not met or None in met else all(met)
    missed = sum(1 for m in met if m is False)
    if all_goals:
        console.print(
            "goals: "
            + (
                "[green]all met[/]"
                if verdict
                else f"[red]{missed} of {len(met)} missed[/]"
                + (f", {met.count(None)} not measured" if None in met else "")
            )
        )
    failed = [m for m in measurements if m.error is not None]
    payload = {
        "benchmark": "broker",
        "command": " ".join(["python", "bench/broker.py", *argv]),
        "started_at": started,
        "finished_at": now_iso(),
        "tidal_version": tidal.__version__,
        "git": git_state(ROOT, ["log", "src", "bench"]),
        "machine": {**machine_facts(work), "note": machine_note()},
        "load_generator": {
            **versions,
            "process": "a separate Python process per load (bench/peers/loadgen.py), "
            "started after the broker is up; timing inside it",
            "produce_call_ceiling_msgs_per_s": {
                str(size): round(rate) for size, rate in ceilings.items()
            },
            "produce_call_ceiling_note": "produce() calls a second into librdkafka's queue "
            "with no broker: the most this client process can offer whatever the broker",
        },
        "settings": {
            "messages": settings.messages,
            "value_sizes": settings.value_sizes,
            "rounds": args.rounds,
            "partitions": settings.partitions,
            "warmup_messages_per_value_size": settings.warmup_messages,
            "producer": settings.producer,
            "consumer": {**settings.consumer, "mode": "assign, every partition from offset 0"},
            "produce_timing": "first produce() until flush() returned (every record acked)",
            "consume_timing": "assign() until the last record was received",
            "order": "brokers take turns, the first rotating each round; each turn starts "
            "the broker fresh, warms it up, measures, stops it",
            "units": "msgs/s = records a second; MB/s = value bytes (10**6) a second",
            "settle_seconds": settings.settle,
            "quiet_cores": QUIET_CORES,
            "retries": settings.retries,
            "noisy_cores": NOISY_CORES,
            "cpu_accounting": "broker: /proc/PID/stat of the broker process; client: "
            "os.times() in the load generator; machine: /proc/stat; all over the timed window",
        },
        "peers": described,
        "skipped": skipped,
        "rounds": rounds,
        "medians": {
            scenario.name: {
                peer: {
                    "msgs_per_s": round(rate, 1),
                    "mb_per_s": round(rate * scenario.value_size / MB, 2),
                }
                for peer, rate in med.get(scenario.name, {}).items()
            }
            for scenario in all_scenarios
        },
        "goals": [goal.to_json() for goal in all_goals],
        "all_goals_met": verdict,
        "failures": len(failed),
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    return payload, not failed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 even when goals are missed, 1 when a load failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    # Not a terminal (CI, a pipe): wide enough that progress lines do not wrap.
    console = Console(width=None if sys.stdout.isatty() else 120)
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="broker-", dir=args.dir))
    try:
        if args.profile is not None:
            return run_profile(args, console, work, settings_from(args))
        console.print(
            f"Tidal broker benchmark: {args.messages:,} records per scenario, "
            f"values of {', '.join(map(str, args.value_sizes))} B, {args.rounds} round(s)"
        )
        payload, ok = run_benchmark(args, argv, console, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json(args.output, payload)
    console.print(f"results: {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
