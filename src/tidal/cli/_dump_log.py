"""``tidal dump-log``: print a segment's batches and records.

The output follows Kafka's ``kafka-dump-log.sh`` line format so that people who
read one can read the other; index files print their entries.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from tidal.log.records import (
    BATCH_HEADER_SIZE,
    BatchHeader,
    EndTransactionMarker,
    Record,
    RecordsError,
    decode_batch,
    read_batch_header,
    validate_batch,
)

__all__ = ["dump_log"]

_INDEX_ENTRY = struct.Struct(">ii")
_TIME_INDEX_ENTRY = struct.Struct(">qi")


@contextmanager
def _mapped(path: Path) -> Iterator[memoryview]:
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            yield memoryview(b"")
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                yield view
            finally:
                view.release()


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _render(data: bytes | None) -> str:
    if data is None:
        return "null"
    return data.decode("utf-8", errors="backslashreplace")


def _batch_line(header: BatchHeader, position: int, crc_valid: bool) -> str:
    horizon = header.delete_horizon_ms
    ts_name = "LogAppendTime" if header.timestamp_type else "CreateTime"
    codec = header.compression.name.lower()
    return (
        f"baseOffset: {header.base_offset} lastOffset: {header.last_offset} "
        f"count: {header.records_count} baseSequence: {header.base_sequence} "
        f"lastSequence: {header.last_sequence} producerId: {header.producer_id} "
        f"producerEpoch: {header.producer_epoch} "
        f"partitionLeaderEpoch: {header.partition_leader_epoch} "
        f"isTransactional: {_bool(header.is_transactional)} "
        f"isControl: {_bool(header.is_control)} "
        f"deleteHorizonMs: {'OptionalLong.empty' if horizon is None else horizon} "
        f"position: {position} {ts_name}: {header.max_timestamp} size: {header.size} "
        f"magic: {header.magic} compresscodec: {codec} crcValid: {_bool(crc_valid)}"
    )


def _record_line(
    header: BatchHeader, record: Record, sequence: int, print_data: bool, marker: str | None
) -> str:
    ts_name = "LogAppendTime" if header.timestamp_type else "CreateTime"
    key_size = -1 if record.key is None else len(record.key)
    value_size = -1 if record.value is None else len(record.value)
    header_keys = ",".join(h.key for h in record.headers)
    line = (
        f"| offset: {record.offset} {ts_name}: {record.timestamp} keySize: {key_size} "
        f"valueSize: {value_size} sequence: {sequence} headerKeys: [{header_keys}]"
    )
    if marker is not None:
        return f"{line} {marker}"
    if print_data:
        headers = ",".join(f"{h.key}={_render(h.value)}" for h in record.headers)
        line += f" key: {_render(record.key)} payload: {_render(record.value)}"
        line += f" headers: [{headers}]"
    return line


def _dump_segment(path: Path, deep: bool, print_data: bool) -> bool:
    """Print a ``.log`` file; returns False when invalid bytes were found."""
    click.echo(f"Dumping {path}")
    base = path.stem
    click.echo(f"Log starting offset: {int(base) if base.isdigit() else 0}")
    with _mapped(path) as data:
        position = 0
        end = len(data)
        while end - position >= BATCH_HEADER_SIZE:
            header = read_batch_header(data, position)
            if header.size < BATCH_HEADER_SIZE or position + header.size > end:
                break
            try:
                validate_batch(data, position, check_records=False)
                crc_valid = True
            except RecordsError:
                crc_valid = False
            try:
                click.echo(_batch_line(header, position, crc_valid))
            except RecordsError as exc:
                click.echo(f"Invalid batch at position {position}: {exc}", err=True)
                return False
            if deep or print_data:
                _dump_records(data, position, header, print_data)
            position += header.size
        if position != end:
            click.echo(
                f"Found {end - position} invalid bytes at the end of {path.name} "
                f"(position {position})",
                err=True,
            )
            return False
    return True


def _dump_records(data: memoryview, position: int, header: BatchHeader, print_data: bool) -> None:
    try:
        batch = decode_batch(data, position, verify_crc=False)
    except RecordsError as exc:
        click.echo(f"| cannot decode records: {exc}")
        return
    marker = None
    if header.is_control:
        try:
            end = EndTransactionMarker.from_batch(batch)
            marker = f"endTxnMarker: {end.type.name} coordinatorEpoch: {end.coordinator_epoch}"
        except RecordsError as exc:
            marker = f"invalid control record: {exc}"
    for record in batch.records:
        if header.base_sequence < 0:
            sequence = -1
        else:
            sequence = (header.base_sequence + record.offset - header.base_offset) & 0x7FFFFFFF
        click.echo(_record_line(header, record, sequence, print_data, marker))


def _dump_index(path: Path, entry: struct.Struct, time_index: bool) -> bool:
    click.echo(f"Dumping {path}")
    base = int(path.stem) if path.stem.isdigit() else 0
    raw = path.read_bytes()
    for pos in range(0, len(raw) - len(raw) % entry.size, entry.size):
        first, second = entry.unpack_from(raw, pos)
        if first == 0 and second == 0 and pos > 0:
            break  # preallocated tail of an active index
        if time_index:
            click.echo(f"timestamp: {first} offset: {base + second}")
        else:
            click.echo(f"offset: {base + first} position: {second}")
    if len(raw) % entry.size:
        click.echo(f"{path.name} has a partial trailing entry", err=True)
        return False
    return True


@click.command("dump-log")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--print-data-log", is_flag=True, help="Print record keys, values and headers.")
@click.option("--deep-iteration", is_flag=True, help="Print every record, not only batches.")
def dump_log(paths: tuple[Path, ...], print_data_log: bool, deep_iteration: bool) -> None:
    """Print the batches of log segments (.log) or the entries of indexes
    (.index, .timeindex), like kafka-dump-log.sh."""
    ok = True
    for path in paths:
        if path.suffix == ".log":
            ok = _dump_segment(path, deep_iteration, print_data_log) and ok
        elif path.suffix == ".index":
            ok = _dump_index(path, _INDEX_ENTRY, time_index=False) and ok
        elif path.suffix == ".timeindex":
            ok = _dump_index(path, _TIME_INDEX_ENTRY, time_index=True) and ok
        else:
            raise click.BadParameter(
                f"{path} is not a .log, .index or .timeindex file", param_hint="PATHS"
            )
    if not ok:
        raise SystemExit(1)
