"""``tidal produce``: send the lines of stdin to a topic, one record per line.

Like ``kafka-console-producer.sh``: each line (without its line ending) is a
value, or ``key<SEP>value`` with ``--key-separator``. Stdin is read on a
thread so that, typed interactively, each line goes out while the next is
being typed. A record that fails (too large, no key separator, rejected by
the broker) is reported on stderr and the others still go; the command then
exits 1. Anything fatal (no broker, unknown partition) stops it at once.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import IO, Any

import click

from tidal.cli._common import connection, connection_options, run, stop_on_signals
from tidal.log.client import RecordTooLargeError
from tidal.log.client.producer import Producer, RecordFuture

__all__ = ["ACKS", "COMPRESSION", "header_pairs", "produce", "producer_settings"]

ACKS = ["all", "-1", "0", "1"]
COMPRESSION = ["none", "gzip", "snappy", "lz4", "zstd"]
_CHUNK = 1 << 16
_SHOWN_FAILURES = 10


def header_pairs(values: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """``--header k=v`` values in order (a key may repeat, as Kafka allows)."""
    out = []
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--header")
        out.append((key, value.encode()))
    return out


def producer_settings(acks: str, compression: str) -> dict[str, object]:
    """Producer settings with every wait bounded by ``--timeout``."""
    conn = connection()
    ms = conn.timeout_ms
    linger = 5
    return {
        **conn.client_settings(),
        "acks": acks,
        "compression_type": compression,
        "linger_ms": linger,
        "max_block_ms": ms,
        "delivery_timeout_ms": ms + linger,
    }


class _Lines:
    """Lines of a binary stream, read in chunks on a daemon thread (a thread
    blocked on a terminal must not keep the process alive after Ctrl-C)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._loop = asyncio.get_running_loop()
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
        self._rest = b""
        threading.Thread(target=self._read, name="tidal-stdin", daemon=True).start()

    def _read(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        while True:
            try:
                chunk = read(_CHUNK)
            except (OSError, ValueError):
                chunk = b""
            if self._loop.is_closed():
                return
            try:
                asyncio.run_coroutine_threadsafe(self._chunks.put(chunk), self._loop).result()
            except RuntimeError:  # the loop closed meanwhile
                return
            if not chunk:
                return

    async def next_batch(self) -> list[bytes] | None:
        """Complete lines read so far (line endings removed); None at the end."""
        chunk = await self._chunks.get()
        if not chunk:
            if not self._rest:
                return None
            last, self._rest = self._rest, b""
            return [last.removesuffix(b"\r")]
        *lines, self._rest = (self._rest + chunk).split(b"\n")
        return [line.removesuffix(b"\r") for line in lines]


class _Report:
    def __init__(self) -> None:
        self.sent = 0
        self.failed = 0

    def fail(self, line: int, reason: str) -> None:
        self.failed += 1
        if self.failed <= _SHOWN_FAILURES:
            click.echo(f"line {line}: record failed: {reason}", err=True)


@click.command()
@click.argument("topic")
@click.option("--key-separator", metavar="SEP", help="Split each line into key SEP value.")
@click.option(
    "--header", "headers", multiple=True, metavar="KEY=VALUE", help="A header on every record."
)
@click.option("--acks", type=click.Choice(ACKS), default="all", show_default=True)
@click.option("--compression", type=click.Choice(COMPRESSION), default="none", show_default=True)
@click.option("--partition", type=click.IntRange(min=0), help="Send every record here.")
@connection_options
def produce(
    topic: str,
    key_separator: str | None,
    headers: tuple[str, ...],
    acks: str,
    compression: str,
    partition: int | None,
) -> None:
    """Send each line of stdin to TOPIC as one record."""
    if key_separator == "":
        raise click.BadParameter("must not be empty", param_hint="--key-separator")
    sep = key_separator.encode() if key_separator is not None else None
    header_list = header_pairs(headers)
    settings = producer_settings(acks, compression)
    stdin: IO[bytes] = sys.stdin.buffer
    report = _Report()
    fields: dict[str, Any] = {"partition": partition, "headers": header_list}

    async def main() -> None:
        stop = asyncio.Event()
        async with Producer(settings) as producer:
            lines = _Lines(stdin)
            pending: list[tuple[int, RecordFuture]] = []
            number = 0
            with stop_on_signals(stop):
                while (batch := await _next(lines, stop)) is not None:
                    for line in batch:
                        number += 1
                        fut = await _send(producer, topic, line, number, sep, report, **fields)
                        if fut is not None:
                            pending.append((number, fut))
                    pending = _settle(pending, report)
                await producer.flush()
        for number, _fut in _settle(pending, report):
            report.fail(number, "not acknowledged before the producer closed")

    try:
        run(main())
    except click.ClickException:
        if report.sent or report.failed:  # otherwise the error says it all
            _summary(topic, report)
        raise
    _summary(topic, report)
    if report.failed:
        raise SystemExit(1)


async def _send(
    producer: Producer,
    topic: str,
    line: bytes,
    number: int,
    sep: bytes | None,
    report: _Report,
    **fields: Any,
) -> RecordFuture | None:
    """Queue one line; None (and the failure reported) when it cannot go."""
    key: bytes | None = None
    value = line
    if sep is not None:
        key, found, value = line.partition(sep)
        if not found:
            report.fail(number, f"no key separator {sep.decode()!r}")
            return None
    try:
        return await producer.send(topic, value, key, **fields)
    except RecordTooLargeError as exc:
        report.fail(number, str(exc))
        return None


async def _next(lines: _Lines, stop: asyncio.Event) -> list[bytes] | None:
    reading = asyncio.ensure_future(lines.next_batch())
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([reading, stopping], return_when=asyncio.FIRST_COMPLETED)
    for task in (reading, stopping):
        task.cancel()
    # A stop leaves the read pending: the lines it would return are dropped.
    return reading.result() if reading in done else None


def _settle(
    pending: list[tuple[int, RecordFuture]], report: _Report
) -> list[tuple[int, RecordFuture]]:
    """Count the completed records; keep the rest."""
    left = []
    for number, fut in pending:
        if not fut.done():
            left.append((number, fut))
        elif (exc := fut.exception()) is not None:
            report.fail(number, str(exc) or type(exc).__name__)
        else:
            report.sent += 1
    return left


def _summary(topic: str, report: _Report) -> None:
    if report.failed > _SHOWN_FAILURES:
        click.echo(f"... and {report.failed - _SHOWN_FAILURES} more failures", err=True)
    line = f"{report.sent} {'record' if report.sent == 1 else 'records'} sent to {topic}"
    if report.failed:
        line += f", {report.failed} failed"
    click.echo(line, err=True)
