"""A tour of Tidal's log: partitions, offsets, timestamps, compaction, recovery.

Run it with ``python examples/log_tour.py [DATA_DIR]``. It writes into a fresh
temporary directory unless one is given, and prints what it does at each step.
Everything here is on disk in Apache Kafka's layout: look at the files with
``tidal dump-log``.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from tidal.log.records import Compression, Header, SimpleRecord, decode_batch, encode_batch
from tidal.log.storage import LogConfig, LogManager, PartitionLog
from tidal.log.storage._faults import abandon

PARTITIONS = 3
NOW = int(time.time() * 1000)


def partition_for(key: bytes) -> int:
    """A toy partitioner; Tidal's client uses Kafka's murmur2."""
    return sum(key) % PARTITIONS


def records_in(log: PartitionLog, start: int = 0) -> list[tuple[int, bytes | None, bytes | None]]:
    """Every (offset, key, value) from ``start`` to the log end offset."""
    found: list[tuple[int, bytes | None, bytes | None]] = []
    offset = start
    while offset < log.log_end_offset:
        data = log.read_bytes(offset, 1 << 20)
        pos = 0
        while pos < len(data):
            batch = decode_batch(data, pos)
            found += [(r.offset, r.key, r.value) for r in batch.records if r.offset >= offset]
            pos += batch.header.size
        offset = found[-1][0] + 1
    return found


def write_orders(manager: LogManager) -> None:
    print(f"1. Writing 300 orders to topic 'orders' ({PARTITIONS} partitions, zstd batches)")
    for batch_no in range(10):
        by_partition: dict[int, list[SimpleRecord]] = {}
        for i in range(30):
            n = batch_no * 30 + i
            key = f"customer-{n % 7}".encode()
            record = SimpleRecord(
                value=f'{{"order": {n}, "amount": {n * 3 % 100}}}'.encode(),
                key=key,
                timestamp=NOW + n * 1000,
                headers=[Header("source", b"log-tour")],
            )
            by_partition.setdefault(partition_for(key), []).append(record)
        for partition, records in sorted(by_partition.items()):
            log = manager.get_or_create_log("orders", partition)
            log.append(encode_batch(records, compression=Compression.ZSTD))
            log.high_watermark = log.log_end_offset
    for partition in range(PARTITIONS):
        log = manager.get_or_create_log("orders", partition)
        print(f"   orders-{partition}: offsets {log.log_start_offset}..{log.log_end_offset - 1}")


def read_back(manager: LogManager) -> None:
    log = manager.get_or_create_log("orders", 0)
    first = records_in(log)[:2]
    print("2. Reading orders-0 from offset 0:")
    for offset, key, value in first:
        print(f"   offset {offset}: {key!r} -> {value!r}")
    target = NOW + 150_000
    found = log.offset_for_timestamp(target)
    assert found is not None
    print(f"3. First record of orders-0 at or after t+150s: offset {found.offset}")


def compact_customers(manager: LogManager, data_dir: Path) -> None:
    config = LogConfig.from_properties(
        {"cleanup.policy": "compact", "segment.bytes": "400", "min.cleanable.dirty.ratio": "0.01"}
    )
    log = manager.get_or_create_log("customers", 0, config)
    updates = [(f"c{i % 4}", f"v{i}") for i in range(20)] + [("c3", None)]
    for n, (key, value) in enumerate(updates):
        record = SimpleRecord(None if value is None else value.encode(), key=key.encode())
        log.append(encode_batch([SimpleRecord(record.value, record.key, NOW + n)]))
    log.roll()
    log.high_watermark = log.log_end_offset
    before = len(records_in(log, log.log_start_offset))
    manager.run_cleaner()
    after = records_in(log, log.log_start_offset)
    print(f"4. Compacted 'customers': {before} records -> {len(after)} (latest per key):")
    for offset, key, value in after:
        print(f"   offset {offset}: {key!r} -> {value!r}")
    print("   (the tombstone for c3 stays until delete.retention.ms has passed)")
    sizes = [p.stat().st_size for p in sorted((data_dir / "customers-0").glob("*.log"))]
    print(f"   segment sizes after cleaning: {sizes} bytes")


def crash_and_recover(data_dir: Path) -> None:
    manager = LogManager(data_dir, start_scheduler=False)
    log = manager.get_or_create_log("orders", 1)
    end_before = log.log_end_offset
    segment = log.active_segment.log_path
    # No shutdown: this manager "crashes" as a kill -9 would (descriptors dropped,
    # nothing written, the directory's lock released with it). Tear the last batch in half.
    abandon(manager)
    size = segment.stat().st_size
    with segment.open("r+b") as f:
        f.truncate(size - 20)
    print(f"5. Tore the last 20 bytes off {segment.name} without a clean shutdown")
    with LogManager(data_dir, start_scheduler=False) as reopened:
        log = reopened.get_or_create_log("orders", 1)
        report = log.recovery_report
        for path, position, reason in report.truncations:
            print(f"   recovery truncated {path.name} at byte {position}: {reason}")
        print(f"   log end offset {end_before} -> {log.log_end_offset}; appends continue:")
        info = log.append(encode_batch([SimpleRecord(b"after the crash", timestamp=NOW)]))
        print(f"   appended at offset {info.first_offset}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="   [log %(levelname)s] %(message)s")
    if len(sys.argv) > 1:
        data_dir = Path(sys.argv[1])
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="tidal-tour-"))
    print(f"Tidal log tour in {data_dir}")
    with LogManager(data_dir, start_scheduler=False) as manager:
        write_orders(manager)
        read_back(manager)
        compact_customers(manager, data_dir)
    crash_and_recover(data_dir)
    print(f"Done. Inspect a segment: tidal dump-log --print-data-log {data_dir}/orders-0/*.log")


if __name__ == "__main__":
    main()
