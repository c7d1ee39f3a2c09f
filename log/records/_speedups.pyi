"""Types of the compiled record walker, decoder and encoder, and of the murmur2 key
hash (``_speedups.c``)."""

from collections.abc import Iterable, Sequence
from typing import Any

from tidal.log.records._batch import Header, Record

def configure(
    corrupt_error: type[Exception],
    invalid_error: type[Exception],
    record_class: type[Record],
    header_class: type[Header],
    /,
) -> None:
    """Set the exception classes raised and the classes built; call once at import."""

def walk_records(
    data: bytes | bytearray | memoryview,
    count: int,
    last_offset_delta: int,
    reject_null_keys: bool = False,
    /,
) -> None:
    """Structural check of a records section, as ``_batch._walk_records_py``."""

def decode_records(
    data: bytes | bytearray | memoryview,
    count: int,
    base_offset: int,
    base_timestamp: int,
    log_append_time: int | None,
    /,
) -> list[Record]:
    """Decode a records section into ``Record`` objects, as ``_batch._decode_records_py``."""

def decode_records_into(
    record_class: type,
    data: bytes | bytearray | memoryview,
    count: int,
    base_offset: int,
    base_timestamp: int,
    log_append_time: int | None,
    min_offset: int,
    topic: str,
    partition: int,
    timestamp_type: object,
    untrack: bool,
    out: list[Any],
    /,
) -> None:
    """Append consumer records of a records section to ``out``, as
    ``_batch._decode_records_into_py``."""

def encode_records(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[Iterable[Header]] | None,
    base_timestamp: int,
    offset_deltas: Sequence[int] | None,
    /,
) -> bytes:
    """Encode a records section from parallel lists, as ``_batch._encode_records_py``."""

def compact_bytes(data: bytes, /) -> bytes:
    """A copy of ``data`` whose allocation fits its length."""

def murmur2(data: bytes | bytearray | memoryview, /) -> int:
    """Kafka's ``Utils.murmur2`` of ``data`` as an unsigned 32-bit int, as
    ``tidal.log.client.producer._partitioner._murmur2_py``."""
