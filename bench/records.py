"""Records benchmark: the compiled record walk, decoder and encoder next to the Python ones.

One process, one run, the same batches for both::

    python bench/records.py [--seconds 1.0] [--output bench/results/records.json]

For ~1 MiB uncompressed batches of 100-byte and of 1 KiB values (the batches of
``bench/storage.py``), it times

- ``validate_batch(..., from_producer=True)``: what every append runs (header,
  CRC-32C and the walk over every record);
- ``decode_batch``: what consumers and the cleaner run (every record built);
- ``encode_batch_columns``: what the producer runs on each batch it sends
  (the same records from parallel lists, with producer id and sequence);

once through ``tidal.log.records._speedups`` (C) and once through the
pure-Python fallback, and prints MB/s, records/s and the ratio C / Python.
The switch is the one the tests use (``_batch._use_speedups``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import MB, MIB, git_state, machine_facts, now_iso, write_json
from rich.console import Console
from rich.table import Table
from storage import Batch, make_batch

import tidal
from tidal.log.records import (
    SPEEDUPS,
    _batch,
    decode_batch,
    encode_batch_columns,
    validate_batch,
)

ROOT = Path(__file__).resolve().parents[1]
RECORD_SIZES = (100, 1024)
TIMESTAMP = 1_700_000_000_000


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds for one call, the best of several rounds."""

    seconds: float
    calls: int


@dataclass(frozen=True, slots=True)
class Row:
    """One operation on one batch, both implementations."""

    operation: str
    batch: Batch
    python: Timing
    c: Timing | None

    def mb_s(self, timing: Timing) -> float:
        return len(self.batch.data) / timing.seconds / MB

    def records_s(self, timing: Timing) -> float:
        return self.batch.records / timing.seconds

    @property
    def ratio(self) -> float | None:
        return None if self.c is None else self.python.seconds / self.c.seconds

    def to_json(self) -> dict[str, Any]:
        def side(timing: Timing | None) -> dict[str, Any] | None:
            if timing is None:
                return None
            return {
                "seconds_per_batch": round(timing.seconds, 9),
                "calls": timing.calls,
                "mb_per_s": round(self.mb_s(timing), 1),
                "records_per_s": round(self.records_s(timing)),
                "ns_per_record": round(timing.seconds / self.batch.records * 1e9, 1),
            }

        ratio = self.ratio
        return {
            "operation": self.operation,
            "record_size": self.batch.record_size,
            "records_per_batch": self.batch.records,
            "batch_bytes": len(self.batch.data),
            "python": side(self.python),
            "c": side(self.c),
            "ratio_c_over_python": None if ratio is None else round(ratio, 2),
        }


@contextmanager
def implementation(compiled: bool) -> Iterator[None]:
    """Route ``_walk_records``/``_decode_records`` to C or to Python."""
    saved = _batch._use_speedups
    _batch._use_speedups = compiled
    try:
        yield
    finally:
        _batch._use_speedups = saved


def best_time(call: Callable[[], object], seconds: float) -> Timing:
    """The fastest of 5 rounds, each as many calls as fill ``seconds / 5``."""
    call()  # warm-up, and the call count for one round
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-9)
    calls = max(1, int(seconds / 5 / once))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - start) / calls)
    return Timing(best, calls)


def encoder(batch: Batch) -> Callable[[], bytes]:
    """The batch's records re-encoded from parallel lists, as the producer does."""
    records = decode_batch(batch.data).records
    keys = [r.key for r in records]
    values = [r.value for r in records]
    timestamps = [r.timestamp for r in records]
    headers = [r.headers for r in records]
    return lambda: encode_batch_columns(
        keys, values, timestamps, headers, producer_id=1, producer_epoch=0, base_sequence=0
    )


def operations(batch: Batch) -> dict[str, Callable[[], object]]:
    data = batch.data
    return {
        "validate_batch": lambda: validate_batch(data, max_size=2 * MIB, from_producer=True),
        "decode_batch": lambda: decode_batch(data),
        "encode_batch_columns": encoder(batch),
    }


def check_same(batch: Batch) -> None:
    """Both implementations give the same records and the same bytes (a
    benchmark of a wrong answer is void)."""
    encode = encoder(batch)
    with implementation(False):
        expected = decode_batch(batch.data).records
        expected_bytes = encode()
    with implementation(True):
        if decode_batch(batch.data).records != expected:
            raise RuntimeError("the C and Python decoders disagree")
        if encode() != expected_bytes:
            raise RuntimeError("the C and Python encoders disagree")


def run(console: Console, seconds: float) -> list[Row]:
    rows = []
    for size in RECORD_SIZES:
        batch = make_batch(size, TIMESTAMP)
        if SPEEDUPS:
            check_same(batch)
        for name, call in operations(batch).items():
            label = f"{name}, {batch.records:,} x {size} B records"
            with implementation(False):
                python = best_time(call, seconds)
            c = None
            if SPEEDUPS:
                with implementation(True):
                    c = best_time(call, seconds)
            rows.append(Row(name, batch, python, c))
            console.print(f"  {label}: done")
    return rows


def print_rows(console: Console, rows: Sequence[Row]) -> None:
    table = Table(title="records: C accelerator vs pure Python, same batches, one run")
    table.add_column("operation")
    table.add_column("records")
    for column in ("Python MB/s", "C MB/s", "Python rec/s", "C rec/s", "C ns/rec", "C / Python"):
        table.add_column(column, justify="right")
    for row in rows:
        c = row.c
        table.add_row(
            row.operation,
            f"{row.batch.records:,} x {row.batch.record_size} B",
            f"{row.mb_s(row.python):,.0f}",
            "-" if c is None else f"{row.mb_s(c):,.0f}",
            f"{row.records_s(row.python):,.0f}",
            "-" if c is None else f"{row.records_s(c):,.0f}",
            "-" if c is None else f"{c.seconds / row.batch.records * 1e9:,.1f}",
            "-" if row.ratio is None else f"{row.ratio:,.1f}x",
        )
    console.print(table)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="time per operation and implementation"
    )
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 120)
    if not SPEEDUPS:
        console.print(
            "[yellow]tidal.log.records._speedups is not in use (not built, or "
            "TIDAL_NO_SPEEDUPS is set): only the Python column is measured[/]"
        )
    started = now_iso()
    rows = run(console, args.seconds)
    print_rows(console, rows)
    if args.output is not None:
        write_json(
            args.output,
            {
                "benchmark": "records",
                "command": " ".join(["python bench/records.py", *argv]),
                "started_at": started,
                "finished_at": now_iso(),
                "tidal_version": tidal.__version__,
                "speedups": SPEEDUPS,
                "git": git_state(ROOT, ["log", "bench"]),
                "machine": machine_facts(ROOT),
                "results": [row.to_json() for row in rows],
            },
        )
        console.print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
