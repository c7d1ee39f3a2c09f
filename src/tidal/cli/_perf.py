"""``tidal perf produce|consume``: throughput and latency of a cluster.

In the manner of ``kafka-producer-perf-test.sh`` and
``kafka-consumer-perf-test.sh``: a progress bar on stderr while it runs (on a
terminal), then one summary line on stdout in Kafka's wording, so results of
the two tools can be set side by side. Produce latency is measured per record,
from ``send()`` to its acknowledgement.
"""

from __future__ import annotations

import asyncio
import random
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from tidal.cli._common import connection, connection_options, run, stop_on_signals
from tidal.cli._consume import topic_partitions
from tidal.cli._produce import ACKS, COMPRESSION, producer_settings
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer, RecordFuture

__all__ = ["percentile", "perf"]

_MB = 1024 * 1024
_YIELD_EVERY = 256


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` lie (0 when empty)."""
    if not sorted_values:
        return 0.0
    index = min(int(len(sorted_values) * fraction), len(sorted_values) - 1)
    return sorted_values[index]


@contextmanager
def _progress(total: int, what: str) -> Iterator[Progress]:
    """A progress bar on stderr, drawn only when stderr is a terminal."""
    progress = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        disable=not sys.stderr.isatty(),
        transient=True,
    )
    with progress:
        progress.add_task(what, total=total)
        yield progress


@click.group()
def perf() -> None:
    """Measure produce and consume throughput, like Kafka's perf-test tools."""


class _Stats:
    def __init__(self) -> None:
        self.acked = 0
        self.failed = 0
        self.first_error: BaseException | None = None
        self.latencies: list[float] = []  # ms

    def callback(self, started: float) -> Callable[[RecordFuture], None]:
        def done(fut: RecordFuture) -> None:
            exc = fut.exception()
            if exc is None:
                self.acked += 1
                self.latencies.append((time.perf_counter() - started) * 1000)
            else:
                self.failed += 1
                self.first_error = self.first_error or exc

        return done


@perf.command("produce")
@click.option("--topic", required=True)
@click.option("--num-records", type=click.IntRange(min=1), required=True)
@click.option("--record-size", type=click.IntRange(min=0), required=True, help="Value bytes.")
@click.option(
    "--throughput",
    type=float,
    default=-1,
    show_default=True,
    help="Records per second at most; -1 for no limit.",
)
@click.option("--acks", type=click.Choice(ACKS), default="all", show_default=True)
@click.option("--compression", type=click.Choice(COMPRESSION), default="none", show_default=True)
@connection_options
def produce(
    topic: str, num_records: int, record_size: int, throughput: float, acks: str, compression: str
) -> None:
    """Send NUM_RECORDS values of RECORD_SIZE bytes and report throughput and latency."""
    settings = producer_settings(acks, compression)
    payload = "".join(random.choices(string.ascii_uppercase, k=record_size)).encode()
    stats = _Stats()

    async def main() -> float:
        stop = asyncio.Event()
        async with Producer(settings) as producer:
            await producer.partitions_for(topic)  # a new topic is created before the clock starts
            start = time.perf_counter()
            with _progress(num_records, "produce") as bar, stop_on_signals(stop):
                for i in range(num_records):
                    if stop.is_set():
                        break
                    fut = await producer.send(topic, payload)
                    fut.add_done_callback(stats.callback(time.perf_counter()))
                    if throughput > 0 or i % _YIELD_EVERY == 0:
                        bar.update(bar.task_ids[0], completed=stats.acked + stats.failed)
                        await _throttle(i + 1, start, throughput)
                await producer.flush()
                bar.update(bar.task_ids[0], completed=stats.acked + stats.failed)
            return time.perf_counter() - start

    elapsed = run(main())
    lat = sorted(stats.latencies)
    rate = stats.acked / elapsed if elapsed > 0 else 0.0
    mb = rate * record_size / _MB
    avg = sum(lat) / len(lat) if lat else 0.0
    click.echo(
        f"{stats.acked} records sent, {rate:.1f} records/sec ({mb:.2f} MB/sec), "
        f"{avg:.2f} ms avg latency, {lat[-1] if lat else 0:.2f} ms max latency, "
        f"{percentile(lat, 0.5):.0f} ms 50th, {percentile(lat, 0.95):.0f} ms 95th, "
        f"{percentile(lat, 0.99):.0f} ms 99th, {percentile(lat, 0.999):.0f} ms 99.9th."
    )
    if stats.failed:
        click.echo(f"{stats.failed} records failed; the first: {stats.first_error}", err=True)
        raise SystemExit(1)


async def _throttle(sent: int, start: float, throughput: float) -> None:
    """Sleep so that ``sent`` records take at least ``sent / throughput`` s;
    always yield so the sender runs."""
    wait = 0.0
    if throughput > 0:
        wait = sent / throughput - (time.perf_counter() - start)
    await asyncio.sleep(max(wait, 0.0))


@perf.command("consume")
@click.option("--topic", required=True)
@click.option("--messages", type=click.IntRange(min=1), required=True, help="Records to read.")
@click.option("--group", help="Read as this group (default: assign every partition).")
@click.option(
    "--timeout-idle",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up after this long without a record.",
)
@connection_options
def consume(topic: str, messages: int, group: str | None, timeout_idle: float) -> None:
    """Read MESSAGES records of TOPIC from the beginning and report throughput."""
    settings: dict[str, object] = {
        **connection().client_settings(),
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 10_000,
    }
    result = {"records": 0, "bytes": 0, "stopped": 0}

    async def main() -> float:
        partitions = await topic_partitions(topic)
        stop = asyncio.Event()
        async with Consumer(settings) as consumer:
            if group is None:
                tps = [TopicPartition(topic, p) for p in partitions]
                consumer.assign(tps)
                consumer.seek_to_beginning(*tps)
            else:
                consumer.subscribe([topic])
            start = last = time.perf_counter()
            with _progress(messages, "consume") as bar, stop_on_signals(stop):
                while result["records"] < messages and not stop.is_set():
                    batch = await consumer.getmany(
                        timeout_ms=200, max_records=messages - result["records"]
                    )
                    now = time.perf_counter()
                    for records in batch.values():
                        last = now
                        result["records"] += len(records)
                        result["bytes"] += sum(
                            len(r.value or b"") + len(r.key or b"") for r in records
                        )
                    bar.update(bar.task_ids[0], completed=result["records"])
                    if now - last >= timeout_idle:
                        break
            result["stopped"] = int(stop.is_set())
            return last - start

    elapsed = run(main())
    count, size = result["records"], result["bytes"] / _MB
    rate = count / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"{count} records consumed, {size:.2f} MB, {elapsed:.2f} s, "
        f"{rate:.1f} records/sec ({size / elapsed if elapsed > 0 else 0:.2f} MB/sec)."
    )
    if count < messages:
        reason = "interrupted" if result["stopped"] else f"{timeout_idle:g} s without a record"
        click.echo(
            f"Exiting before consuming the expected number of records ({messages}): {reason}",
            err=True,
        )
        raise SystemExit(1)
