"""Connect benchmark: FileStreamSource → topic → FileStreamSink, Tidal Connect vs Kafka Connect.

::

    python bench/connect.py [--records 1000000] [--line-size 100] [--warm-up 1000000]
                            [--warm-up-runs 1] [--tidal-task-processes 2]
                            [--brokers tidal,kafka] [--frameworks tidal,kafka] [--rounds 1]

One input file of ``--records`` lines is written once. For each broker (Tidal's, and
Apache Kafka's when Java and Maven are there), each framework in turn runs one standalone
worker with two connectors, exactly as a user would start it:

- Tidal Connect: ``python -m tidal connect standalone worker.properties source.properties
  sink.properties``, with ``task.processes=2`` in worker.properties
  (``--tidal-task-processes``): Kafka Connect runs each task on a thread of its own and so
  uses both cores, Tidal runs each task in a task process for the same reason;
- Kafka Connect: ``java ... org.apache.kafka.connect.cli.ConnectStandalone`` with the same
  three files, its jars (connect-runtime, connect-file and their dependencies, 4.1.1) from
  Maven Central through ``tests/peers/kafka-connect/fetch.sh``.

Before the timed runs on a broker, ``--warm-up`` records are sent through it and read back
with librdkafka (neither framework), so that the first framework to run does not pay for the
broker's warm-up alone: a JVM broker spends about three times the CPU a record on its first
million records as on its third. That is not enough for the JVM broker, which keeps speeding
up for several million records more, and less so for the request shapes of each framework:
``--warm-up-runs`` (default 1) untimed runs of every framework follow on each broker. They
are in the results file (``warm_up_runs``) and left out of the medians.

The source reads the input file into a fresh one-partition topic, the sink writes the
topic into a new output file. Timed from the worker's start until the output file holds
every line (end to end, the goal's figure); from the first record in the topic until the
topic's end offset reaches the record count (source); and from the first bytes in the
output file until it is complete (sink, once its consumer group is joined). The output file
is then compared with the input byte for byte, and the worker stopped with SIGTERM.
Ratios are Tidal Connect / Kafka Connect on the same broker in the same round; the goal
(issue 7) is >= 1.0.

``--profile DIR`` runs Tidal Connect alone on Tidal's broker with py-spy attached to the
worker and prints where its time goes.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import MB, git_state, machine_facts, now_iso, write_json
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from peers import KafkaBroker, TidalBroker, cpu_seconds, free_port, machine_cpu_seconds
from peers.profiler import PySpy, summarize_profile
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "connect.json"
DEFAULT_DIR = ROOT / "build" / "bench-tmp"
CONNECT_PEER = ROOT / "tests" / "peers" / "kafka-connect"
GOAL = 1.0
BROKERS: dict[str, type[TidalBroker] | type[KafkaBroker]] = {
    "tidal": TidalBroker,
    "kafka": KafkaBroker,
}
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
#: How often the run looks at the output file and the topic's end offset.
FILE_POLL_S = 0.005
OFFSET_POLL_S = 0.05


# ---- the two frameworks -----------------------------------------------------------------


class Framework:
    """A Connect worker run as its own process, with the same three properties files."""

    name = ""
    label = ""
    #: Exit codes of a clean stop on SIGTERM (the JVM's is 128 + 15).
    clean_exit_codes: tuple[int, ...] = (0,)

    def unavailable(self) -> str | None:
        """Why it cannot run here, with how to fix it; ``None`` when it can."""
        return None

    def command(self, files: Sequence[Path]) -> list[str]:
        """The command line of a standalone worker."""
        raise NotImplementedError

    def worker_settings(self) -> dict[str, str]:
        """Worker settings of this framework alone (none by default)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Version and command line, for the results file."""
        raise NotImplementedError


class TidalConnect(Framework):
    """``python -m tidal connect standalone worker.properties connector.properties...``."""

    name = "tidal"
    label = "Tidal Connect"

    def __init__(self) -> None:
        #: ``task.processes``: Kafka Connect runs each task on a thread of its own and so
        #: uses every core; Tidal's tasks get cores through task processes.
        self.task_processes = 2

    def worker_settings(self) -> dict[str, str]:
        """``task.processes``."""
        return {"task.processes": str(self.task_processes)}

    def command(self, files: Sequence[Path]) -> list[str]:
        """Tidal's CLI, as users start it."""
        return [sys.executable, "-m", "tidal", "connect", "standalone", *map(str, files)]

    def describe(self) -> dict[str, Any]:
        """Tidal's version, Python's, whether the compiled record code is in use."""
        import tidal.log.records  # noqa: PLC0415

        return {
            "version": tidal.__version__,
            "python": sys.version.split()[0],
            "record_speedups": tidal.log.records.SPEEDUPS,
            "worker_settings": self.worker_settings(),
            "command": "python -m tidal connect standalone worker.properties "
            "source.properties sink.properties",
        }


class KafkaConnect(Framework):
    """``ConnectStandalone`` from Maven Central's connect-runtime and connect-file."""

    name = "kafka"
    label = "Kafka Connect"
    clean_exit_codes = (0, 143)
    heap = "1g"
    fetch_timeout = 1800.0

    def __init__(self) -> None:
        self.libs: str | None = None

    def unavailable(self) -> str | None:
        """Java, and the jars (fetched now into the cache if missing)."""
        if shutil.which("java") is None:
            return "Kafka Connect needs Java 17 (apt-get install openjdk-17-jre-headless)"
        fetch = CONNECT_PEER / "fetch.sh"
        try:
            fetched = subprocess.run(
                [str(fetch)],
                capture_output=True,
                text=True,
                check=False,
                timeout=self.fetch_timeout,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"cannot fetch the Kafka Connect jars with {fetch}: {exc}"
        if fetched.returncode != 0 or not Path(fetched.stdout.strip()).is_dir():
            tail = "\n".join(fetched.stderr.splitlines()[-5:])
            return f"cannot fetch the Kafka Connect jars with {fetch} (needs Maven): {tail}"
        self.libs = fetched.stdout.strip()
        return None

    def java_options(self) -> list[str]:
        """Heap, collector and a quiet log4j2 configuration."""
        log4j = CONNECT_PEER / "log4j2.properties"
        return [f"-Xmx{self.heap}", "-XX:+UseG1GC", f"-Dlog4j2.configurationFile={log4j}"]

    def command(self, files: Sequence[Path]) -> list[str]:
        """``java -cp 'JARS/*' org.apache.kafka.connect.cli.ConnectStandalone FILES``."""
        assert self.libs is not None, "unavailable() finds the jars first"
        return [
            "java", *self.java_options(), "-cp", f"{self.libs}/*",
            "org.apache.kafka.connect.cli.ConnectStandalone", *map(str, files),
        ]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """Kafka's version from the pom, Java's version, the command line."""
        pom = (CONNECT_PEER / "pom.xml").read_text()
        match = re.search(r"<kafka.version>(.*?)</kafka.version>", pom)
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=False, timeout=60
        ).stderr.splitlines()
        return {
            "version": match.group(1) if match else None,
            "java": java[0] if java else None,
            "jars": self.libs,
            "command": "java " + " ".join(self.java_options()).replace(str(ROOT) + "/", "")
            + " -cp 'JARS/*' org.apache.kafka.connect.cli.ConnectStandalone "
            "worker.properties source.properties sink.properties",
        }  # fmt: skip


FRAMEWORKS: dict[str, type[Framework]] = {"tidal": TidalConnect, "kafka": KafkaConnect}


# ---- settings and files -----------------------------------------------------------------


@dataclass(slots=True)
class Settings:
    """What every run of every framework uses."""

    records: int
    line_size: int
    timeout: float
    worker: dict[str, str]
    source: dict[str, str]
    sink: dict[str, str]


def default_worker_settings(args: argparse.Namespace) -> dict[str, str]:
    """Worker settings both frameworks get; the ones that shape throughput are pinned
    to the same values rather than left to each framework's defaults."""
    settings = {
        "key.converter": STRING_CONVERTER,
        "value.converter": STRING_CONVERTER,
        "offset.flush.interval.ms": str(args.flush_interval_ms),
        "producer.acks": "all",
        "producer.batch.size": str(args.producer_batch_size),
        "producer.linger.ms": str(args.linger_ms),
        # Kafka Connect's own default for its producers (Worker.baseProducerConfigs).
        "producer.max.in.flight.requests.per.connection": "1",
        "consumer.max.poll.records": str(args.max_poll_records),
        # Kafka Connect's own advice at start-up when every plugin has a ServiceLoader
        # manifest: finds plugins without scanning every jar (about 4 s less start-up
        # here). Tidal keeps the setting and does nothing with it.
        "plugin.discovery": "service_load",
    }
    for item in args.worker_setting:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--worker-setting wants KEY=VALUE, got {item!r}")
        settings[key.strip()] = value.strip()
    return settings


def write_properties(path: Path, props: dict[str, str]) -> Path:
    """A Java properties file (values here hold no characters that need escaping)."""
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return path


def write_input(path: Path, records: int, line_size: int) -> int:
    """``records`` distinct ASCII lines of ``line_size`` bytes plus ``\\n``; the file's size."""
    filler = "".join(chr(33 + (i * 7) % 94) for i in range(997)) * 4
    body = max(0, line_size - 13)
    chunk: list[str] = []
    with path.open("w", encoding="ascii", newline="\n") as out:
        for i in range(records):
            start = (i * 31) % 997
            chunk.append(f"{i:012d} {filler[start : start + body]}"[:line_size] + "\n")
            if len(chunk) == 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return path.stat().st_size


def warm_up(bootstrap: str, records: int, line_size: int) -> float:
    """Send ``records`` lines through a fresh broker and read them back (librdkafka, neither
    framework), untimed: the first timed run must not pay the broker's warm-up (a JVM broker
    spends about three times the CPU a record on its first million). Seconds taken."""
    started = time.monotonic()
    topic = f"bench-connect-warm-up-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "log_level": 3})
    line = b"w" * line_size
    for _ in range(records):
        while True:
            try:
                producer.produce(topic, line)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError(f"warm-up: {topic} did not take every record within 120 s")
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"{topic}-reader",
        "auto.offset.reset": "earliest", "enable.auto.commit": False, "log_level": 3,
    })  # fmt: skip
    try:
        consumer.subscribe([topic])
        seen, deadline = 0, time.monotonic() + 120
        while seen < records:
            if time.monotonic() > deadline:
                raise RuntimeError(f"warm-up: read {seen:,} of {records:,} records back")
            seen += sum(1 for m in consumer.consume(10_000, 1.0) if m.error() is None)
    finally:
        consumer.close()
    return time.monotonic() - started


def create_topic(bootstrap: str, topic: str) -> None:
    """A one-partition topic, so neither worker's auto-creation decides its layout."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(60)


class EndOffsets:
    """The topic's end offset (ListOffsets latest), for the source's progress."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": "bench-connect-watch", "log_level": 3}
        )

    def end(self, topic: str) -> int:
        """The end offset of partition 0, 0 when it cannot be read yet."""
        try:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(topic, 0), timeout=5, cached=False
            )
        except KafkaException:
            return 0
        return int(max(high, 0))

    def close(self) -> None:
        """Close the client."""
        self._consumer.close()


# ---- one run ------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One framework moving the input file through one broker once."""

    broker: str
    framework: str
    round: int
    records: int
    total_seconds: float = 0.0  # worker start -> output file complete
    first_record_s: float | None = None  # worker start -> first record in the topic
    source_done_s: float | None = None  # worker start -> end offset reached the count
    first_output_s: float | None = None  # worker start -> first bytes in the output file
    worker_cpu_seconds: float | None = None
    broker_cpu_seconds: float | None = None
    machine_busy_cores: float | None = None
    output_matches_input: bool = False
    worker_exit_code: int | None = None
    error: str | None = None
    topic: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def rate(self, seconds: float | None) -> float | None:
        """Records a second over ``seconds``; None when the phase was too short to time
        (begun and ended between two looks at the topic or the file)."""
        return None if not seconds or seconds <= 0 else self.records / seconds

    @property
    def end_to_end(self) -> float | None:
        """Records a second from the worker's start to the complete output file."""
        return None if self.error else self.rate(self.total_seconds)

    @property
    def sink(self) -> float | None:
        """Records a second from the first bytes in the output file to the complete file
        (the sink's pace once its consumer group is joined; the source may still be
        producing meanwhile)."""
        if self.error or self.first_output_s is None:
            return None
        return self.rate(self.total_seconds - self.first_output_s)

    @property
    def source(self) -> float | None:
        """Records a second from the first record in the topic to the last."""
        if self.error or self.first_record_s is None or self.source_done_s is None:
            return None
        return self.rate(self.source_done_s - self.first_record_s)

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON object."""
        entry: dict[str, Any] = {
            "broker": self.broker,
            "framework": self.framework,
            "round": self.round,
            "records": self.records,
            "topic": self.topic,
        }
        if self.error is not None:
            return {**entry, "error": self.error, **self.extra}

        def r(x: float | None, digits: int = 3) -> float | None:
            return None if x is None else round(x, digits)

        entry |= {
            "seconds_to_complete_output": r(self.total_seconds),
            "seconds_to_first_record_in_topic": r(self.first_record_s),
            "seconds_to_all_records_in_topic": r(self.source_done_s),
            "seconds_to_first_output": r(self.first_output_s),
            "end_to_end_records_per_s": r(self.end_to_end, 1),
            "sink_records_per_s": r(self.sink, 1),
            "source_records_per_s": r(self.source, 1),
            "output_matches_input": self.output_matches_input,
            "worker_exit_code": self.worker_exit_code,
        }
        for side, cpu in (("worker", self.worker_cpu_seconds), ("broker", self.broker_cpu_seconds)):
            if cpu is not None:
                entry[f"{side}_cpu_seconds"] = round(cpu, 3)
                entry[f"{side}_cpu_us_per_record"] = round(cpu / self.records * 1e6, 2)
        if self.machine_busy_cores is not None:
            entry["machine_cores_busy"] = round(self.machine_busy_cores, 2)
            ours = (self.worker_cpu_seconds or 0.0) + (self.broker_cpu_seconds or 0.0)
            others = self.machine_busy_cores - ours / self.total_seconds
            # Other processes on the machine (and this script's own polling).
            entry["other_cores_busy"] = round(max(0.0, others), 2)
        return {**entry, **self.extra}


class RunError(RuntimeError):
    """The worker failed, exited or did not finish in time."""


def first_difference(expected: Path, actual: Path) -> str:
    """Where ``actual`` first departs from ``expected``, in words."""
    with expected.open("rb") as a, actual.open("rb") as b:
        for number, (x, y) in enumerate(zip(a, b, strict=False), 1):
            if x != y:
                return f"line {number}: expected {x[:60]!r}, got {y[:60]!r}"
    sizes = (expected.stat().st_size, actual.stat().st_size)
    return f"sizes differ: expected {sizes[0]:,} bytes, got {sizes[1]:,}"


def run_once(
    console: Console,
    framework: Framework,
    broker: Any,
    round_no: int,
    settings: Settings,
    input_file: Path,
    work: Path,
    profiler: PySpy | None = None,
) -> Run:
    """Start a standalone worker with the source and sink, wait for the complete output
    file, check it, stop the worker."""
    run = Run(broker.name, framework.name, round_no, settings.records)
    run_dir = work / f"{broker.name}-{framework.name}-round{round_no}"
    run_dir.mkdir()
    tag = f"{framework.name}-{round_no}-{uuid.uuid4().hex[:8]}"
    run.topic = f"bench-connect-{tag}"
    output = run_dir / "output.txt"
    worker = {
        **settings.worker,
        **framework.worker_settings(),
        "bootstrap.servers": broker.bootstrap_servers,
        "listeners": f"http://127.0.0.1:{free_port()}",
        "offset.storage.file.filename": str(run_dir / "connect.offsets"),
    }
    source = {
        "name": f"bench-source-{tag}",
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": str(input_file),
        "topic": run.topic,
        **settings.source,
    }
    sink = {
        "name": f"bench-sink-{tag}",
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "file": str(output),
        "topics": run.topic,
        **settings.sink,
    }
    files = [
        write_properties(run_dir / "worker.properties", worker),
        write_properties(run_dir / "source.properties", source),
        write_properties(run_dir / "sink.properties", sink),
    ]
    create_topic(broker.bootstrap_servers, run.topic)
    expected = input_file.stat().st_size
    watch = EndOffsets(broker.bootstrap_servers)
    log_path = run_dir / "worker.log"
    label = f"{framework.label} on {broker.label}" + (" (warm-up, untimed)" if round_no < 1 else "")
    console.print(f"  {label}: {settings.records:,} records → {run.topic}")
    proc: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            broker_cpu_start = cpu_seconds(broker.pid)
            machine_start = machine_cpu_seconds()
            started = time.monotonic()
            proc = subprocess.Popen(
                framework.command(files), cwd=run_dir, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            if profiler is not None:
                profiler.broker = proc
                profiler.before(f"{framework.name}-round{round_no}")
            wait_for_output(proc, run, settings, output, expected, watch, started)
            run.worker_cpu_seconds = cpu_seconds(proc.pid)
            broker_cpu_end = cpu_seconds(broker.pid)
            busy, total = machine_cpu_seconds()
            if broker_cpu_start is not None and broker_cpu_end is not None:
                run.broker_cpu_seconds = broker_cpu_end - broker_cpu_start
            wall = (total - machine_start[1]) / (os.cpu_count() or 1)
            run.machine_busy_cores = (busy - machine_start[0]) / wall if wall > 0 else None
            if profiler is not None:
                profiler.after(framework.name)
            run.worker_exit_code = stop_worker(proc)
        run.output_matches_input = filecmp.cmp(input_file, output, shallow=False)
        if not run.output_matches_input:
            raise RunError(f"output differs from input: {first_difference(input_file, output)}")
        if run.worker_exit_code not in framework.clean_exit_codes:
            raise RunError(f"worker exited with {run.worker_exit_code} on SIGTERM")
        console.print(
            f"    {run.total_seconds:.2f} s from start ({run.end_to_end:,.0f} records/s), "
            f"source {run.source or 0:,.0f} records/s, sink {run.sink or 0:,.0f} records/s; "
            "output matches input"
        )
    except Exception as exc:  # noqa: BLE001 - one framework failing must not end the run
        if proc is not None and proc.poll() is None:
            run.worker_exit_code = stop_worker(proc)
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        run.error = f"{type(exc).__name__}: {exc}"
        run.extra["worker_log_tail"] = tail
        console.print(f"    [red]{label} failed:[/] {run.error}\n{tail}")
    finally:
        watch.close()
    return run


def wait_for_output(
    proc: subprocess.Popen[bytes],
    run: Run,
    settings: Settings,
    output: Path,
    expected: int,
    watch: EndOffsets,
    started: float,
) -> None:
    """Follow the topic's end offset and the output file's size until the file holds
    as many bytes as the input (its content is checked afterwards)."""
    deadline = started + settings.timeout
    next_offset_check = started
    while True:
        now = time.monotonic()
        if run.source_done_s is None and now >= next_offset_check:
            end = watch.end(run.topic)
            now = time.monotonic()
            if end > 0 and run.first_record_s is None:
                run.first_record_s = now - started
            if end >= settings.records:
                run.source_done_s = now - started
            next_offset_check = now + OFFSET_POLL_S
        try:
            size = output.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and run.first_output_s is None:
            run.first_output_s = time.monotonic() - started
        if size >= expected:
            run.total_seconds = time.monotonic() - started
            if run.source_done_s is None:  # finished between two looks at the offset
                run.source_done_s = run.total_seconds
                if run.first_record_s is None:
                    run.first_record_s = run.total_seconds
            return
        if proc.poll() is not None:
            raise RunError(f"worker exited with {proc.returncode} before the output was complete")
        if now > deadline:
            raise RunError(
                f"output incomplete after {settings.timeout:.0f} s: {size:,} of {expected:,} bytes"
            )
        time.sleep(FILE_POLL_S)


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout``; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# ---- the orchestration ------------------------------------------------------------------


def rotated(items: Sequence[str], by: int) -> list[str]:
    """``items`` starting at ``by`` (mod its length)."""
    n = len(items)
    return [items[(i + by) % n] for i in range(n)] if n else []


def median_or_none(values: Sequence[float | None]) -> float | None:
    """The median of the values that are there."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(runs: Sequence[Run], brokers: Sequence[str]) -> list[dict[str, Any]]:
    """Per broker: each framework's median rates and the ratios Tidal / Kafka Connect."""
    rows = []
    for broker in brokers:
        row: dict[str, Any] = {"broker": broker}
        for fw in FRAMEWORKS:
            mine = [r for r in runs if r.broker == broker and r.framework == fw]
            if not mine:
                continue
            row[fw] = {
                "end_to_end_records_per_s": median_or_none([r.end_to_end for r in mine]),
                "source_records_per_s": median_or_none([r.source for r in mine]),
                "sink_records_per_s": median_or_none([r.sink for r in mine]),
                "worker_cpu_us_per_record": median_or_none(
                    [
                        r.worker_cpu_seconds / r.records * 1e6
                        if r.worker_cpu_seconds and not r.error
                        else None
                        for r in mine
                    ]
                ),
                "runs_failed": sum(1 for r in mine if r.error),
            }
        for metric in ("end_to_end", "source", "sink"):
            t = row.get("tidal", {}).get(f"{metric}_records_per_s")
            k = row.get("kafka", {}).get(f"{metric}_records_per_s")
            row[f"ratio_{metric}"] = round(t / k, 3) if t and k else None
        ratio = row["ratio_end_to_end"]
        row["goal"] = f"Tidal Connect / Kafka Connect ≥ {GOAL:g} (end to end)"
        row["met"] = None if ratio is None else ratio >= GOAL
        rows.append(row)
    return rows


def print_summary(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """Records a second per broker and framework, and the ratios."""
    table = Table(title="FileStreamSource → topic → FileStreamSink (medians, records/s)")
    for column in ("broker", "framework", "end to end", "source", "sink", "worker CPU µs/rec"):
        table.add_column(column, justify="left" if column in ("broker", "framework") else "right")

    def fmt(x: float | None, spec: str = ",.0f") -> str:
        return "-" if x is None else format(x, spec)

    for row in rows:
        for fw, cls in FRAMEWORKS.items():
            if fw in row:
                v = row[fw]
                table.add_row(
                    row["broker"], cls.label, fmt(v["end_to_end_records_per_s"]),
                    fmt(v["source_records_per_s"]), fmt(v["sink_records_per_s"]),
                    fmt(v["worker_cpu_us_per_record"], ",.1f"),
                )  # fmt: skip
        if row["ratio_end_to_end"] is not None:
            met = "[green]yes[/]" if row["met"] else "[red]NO[/]"
            table.add_row(
                row["broker"], f"ratio (goal ≥ {GOAL:g}: {met})",
                fmt(row["ratio_end_to_end"], ".2f"), fmt(row["ratio_source"], ".2f"),
                fmt(row["ratio_sink"], ".2f"), "",
            )  # fmt: skip
    console.print(table)


def run_benchmark(args: argparse.Namespace, console: Console, work: Path) -> dict[str, Any]:
    """Every available broker, every available framework, ``--rounds`` times."""
    settings = settings_from(args)
    input_file = work / "input.txt"
    size = write_input(input_file, settings.records, settings.line_size)
    console.print(f"input: {settings.records:,} lines, {size / MB:,.1f} MB")
    frameworks: dict[str, Framework] = {}
    skipped: dict[str, str] = {}
    for name in args.frameworks:
        fw = FRAMEWORKS[name]()
        if isinstance(fw, TidalConnect):
            fw.task_processes = args.tidal_task_processes
        if (reason := fw.unavailable()) is None:
            frameworks[name] = fw
        else:
            skipped[f"framework {name}"] = reason
            console.print(f"[yellow]{fw.label} skipped:[/] {reason}")
    runs: list[Run] = []
    warm_ups: list[Run] = []
    described: dict[str, Any] = {}
    brokers_run: list[str] = []
    for broker_name in args.brokers:
        broker = BROKERS[broker_name]()
        if (reason := broker.unavailable()) is not None:
            skipped[f"broker {broker_name}"] = reason
            console.print(f"[yellow]{broker.label} skipped:[/] {reason}")
            continue
        broker_dir = work / f"broker-{broker_name}"
        broker_dir.mkdir()
        console.print(f"[bold]{broker.label}[/]: starting")
        broker.start(broker_dir)
        brokers_run.append(broker_name)
        described[f"broker_{broker_name}"] = broker.describe()
        try:
            if args.warm_up:
                took = warm_up(broker.bootstrap_servers, args.warm_up, settings.line_size)
                console.print(f"  warm-up: {args.warm_up:,} records through it in {took:.1f} s")
            for number in range(1, args.warm_up_runs + 1):
                # Round 0, -1, ...: untimed, kept in the results file, left out of the medians.
                round_no = 1 - number
                warm_ups.extend(
                    run_once(console, fw, broker, round_no, settings, input_file, work)
                    for fw in frameworks.values()
                )
            for round_no in range(1, args.rounds + 1):
                order = rotated(list(frameworks), round_no - 1)
                runs.extend(
                    run_once(console, frameworks[n], broker, round_no, settings, input_file, work)
                    for n in order
                )
        finally:
            broker.stop()
    for name, fw in frameworks.items():
        described[f"framework_{name}"] = fw.describe()
    rows = summarize(runs, brokers_run)
    print_summary(console, rows)
    return {
        "benchmark": "connect",
        "date": now_iso(),
        "command": "python bench/connect.py " + " ".join(args.argv),
        "git": git_state(ROOT, ["connectors", "log", "src", "bench"]),
        # Where the measured package came from: this checkout (editable install), or a
        # clean export of a commit put first on PYTHONPATH (see bench/README.md).
        "tidal_package": tidal_package(),
        "machine": machine_facts(work),
        "settings": {
            "records": settings.records,
            "line_size": settings.line_size,
            "input_bytes": size,
            "rounds": args.rounds,
            "warm_up_records": args.warm_up,
            "warm_up_runs": args.warm_up_runs,
            "worker": settings.worker,
            "source_connector": {"connector.class": "FileStreamSource", **settings.source},
            "sink_connector": {"connector.class": "FileStreamSink", **settings.sink},
            "topic": "a new one-partition topic per run, created before the worker starts",
        },
        "peers": described,
        "skipped": skipped,
        "runs": [r.to_json() for r in runs],
        "warm_up_runs": [r.to_json() for r in warm_ups],
        "summary": rows,
        "failures": sum(1 for r in [*runs, *warm_ups] if r.error),
    }


def tidal_package() -> str:
    """The folder ``import tidal`` loads (the workers inherit this process's PYTHONPATH)."""
    import tidal  # noqa: PLC0415

    return str(Path(tidal.__file__).parent)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings of this run from the command line."""
    return Settings(
        records=args.records,
        line_size=args.line_size,
        timeout=args.timeout,
        worker=default_worker_settings(args),
        source={"batch.size": str(args.source_batch_size)},
        sink={},
    )


# ---- profiling ----------------------------------------------------------------------------

#: Where a leaf frame's file puts a sample of the worker, first match wins.
AREAS = (
    ("connectors/builtin/", "file connectors (reading and writing lines)"),
    ("connectors/runtime/", "runtime: task loops, offsets, error handling"),
    ("connectors/converters/", "converters"),
    ("connectors/transforms/", "transforms"),
    ("connectors/api/", "connector API: records, schemas"),
    ("connectors/", "connectors: other"),
    ("log/client/", "client: producer and consumer"),
    ("log/protocol/", "protocol: framing, encoding, decoding"),
    ("log/records/", "records: batch encoding and decoding"),
    ("asyncio/", "asyncio: event loop, sockets, threads"),
    ("selectors.py", "asyncio: event loop, sockets, threads"),
    ("concurrent/futures/", "asyncio: event loop, sockets, threads"),
    ("threading.py", "threads"),
)


def areas_of(path: Path) -> list[dict[str, Any]]:
    """Busy samples by the area of the code running (leaf frame)."""
    counts: Counter[str] = Counter()
    idle_leaves = ("EpollSelector.select", "_worker (", "Condition.wait", "Event.wait")
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")[1:]
        if not n.isdigit() or not frames or frames[-1].startswith(idle_leaves):
            continue
        leaf = frames[-1]
        area = next((a for prefix, a in AREAS if prefix in leaf), "other")
        counts[area] += int(n)
    total = sum(counts.values()) or 1
    return [{"area": a, "share": round(c / total, 4)} for a, c in counts.most_common()]


def run_profile(args: argparse.Namespace, console: Console, work: Path) -> int:
    """Tidal Connect alone on Tidal's broker, py-spy attached to the worker."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        console.print("[red]py-spy not found:[/] pip install py-spy")
        return 2
    args.profile.mkdir(parents=True, exist_ok=True)
    settings = settings_from(args)
    input_file = work / "input.txt"
    write_input(input_file, settings.records, settings.line_size)
    broker = TidalBroker()
    broker_dir = work / "broker-tidal"
    broker_dir.mkdir()
    broker.start(broker_dir)
    # The worker's task processes (--tidal-task-processes) are where the tasks run.
    profiler = PySpy(spy, args.profile, args.profile_rate, None, subprocesses=True)
    framework = TidalConnect()
    framework.task_processes = args.tidal_task_processes
    try:
        run = run_once(console, framework, broker, 1, settings, input_file, work, profiler)
    finally:
        broker.stop()
    if run.error:
        return 1
    report: dict[str, Any] = {"run": run.to_json()}
    for name, path in profiler.files.items():
        summary = summarize_profile(path, args.profile_top)
        summary["self_by_area"] = areas_of(path)
        report[name] = summary
        for key, title in (("self_by_area", "area"), ("self", "self time"),
                           ("inclusive_tidal", "inclusive, Tidal's functions")):  # fmt: skip
            table = Table(title=f"{name}: {title}; {summary['busy_samples']:,} busy samples")
            table.add_column("share", justify="right")
            table.add_column("where")
            for row in summary[key][: args.profile_top]:
                table.add_row(f"{row['share']:.1%}", row.get("name") or row.get("area"))
            console.print(table)
    write_json(args.profile / "profile.json", report)
    console.print(f"folded stacks and profile.json in {args.profile}")
    return 0


# ---- command line -----------------------------------------------------------------------


def names(choices: Sequence[str]) -> Any:
    """An argparse type: a comma-separated list of some of ``choices``."""

    def parse(text: str) -> list[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        if not items or any(x not in choices for x in items):
            raise argparse.ArgumentTypeError(f"a list among {', '.join(choices)}; got {text!r}")
        return items

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="lines in the input file")
    parser.add_argument("--line-size", type=int, default=100, help="bytes a line, without \\n")
    parser.add_argument("--brokers", type=names(list(BROKERS)), default=["tidal", "kafka"])
    parser.add_argument("--frameworks", type=names(list(FRAMEWORKS)), default=["tidal", "kafka"])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each framework per broker")
    parser.add_argument("--warm-up", type=int, default=1_000_000, metavar="RECORDS",
                        help="records sent through each broker and read back before the timed "
                        "runs (0: none)")  # fmt: skip
    parser.add_argument(
        "--warm-up-runs",
        type=int,
        default=1,
        metavar="N",
        help="untimed runs of each framework on each broker before the timed "
        "rounds (a JVM broker keeps speeding up for millions of records)",
    )
    parser.add_argument(
        "--tidal-task-processes",
        type=int,
        default=2,
        metavar="N",
        help="task.processes of the Tidal Connect worker (0: tasks on the worker's event loop)",
    )
    parser.add_argument("--flush-interval-ms", type=int, default=1000,
                        help="offset.flush.interval.ms")  # fmt: skip
    parser.add_argument("--producer-batch-size", type=int, default=16384,
                        help="producer.batch.size (Kafka's default)")  # fmt: skip
    parser.add_argument("--linger-ms", type=int, default=5, help="producer.linger.ms")
    parser.add_argument("--max-poll-records", type=int, default=500,
                        help="consumer.max.poll.records (Kafka's default)")  # fmt: skip
    parser.add_argument("--source-batch-size", type=int, default=2000,
                        help="FileStreamSource batch.size (Kafka's default)")  # fmt: skip
    parser.add_argument("--worker-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="another worker setting for both frameworks")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where to make a run folder")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="profile Tidal Connect instead; results into DIR")  # fmt: skip
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples a second")
    parser.add_argument("--profile-top", type=int, default=15, help="rows per profile table")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.records < 1 or args.line_size < 1 or args.rounds < 1:
        parser.error("--records, --line-size and --rounds must be positive")
    if args.warm_up < 0:
        parser.error("--warm-up must be 0 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or the profile) and write the results."""
    args = parse_args(argv)
    console = Console()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="connect-", dir=args.dir))
    try:
        if args.profile is not None:
            return run_profile(args, console, work)
        report = run_benchmark(args, console, work)
        write_json(args.output, report)
        console.print(f"results in {args.output}")
        return 1 if report["failures"] else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
