"""Errors raised by the storage engine.

Each carries the Kafka error code a broker answers with, like the errors of
``tidal.log.records``. Bad batches themselves are refused with the records
layer's errors (``CorruptRecordError``, ``RecordTooLargeError``, ...).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CorruptIndexError",
    "CorruptSegmentError",
    "InvalidTopicError",
    "LogClosedError",
    "OffsetOutOfRangeError",
    "OffsetsOutOfOrderError",
    "StorageError",
]


class StorageError(Exception):
    """Base class of the storage engine's errors."""

    #: Kafka error code (``KAFKA_STORAGE_ERROR`` unless a subclass says otherwise).
    kafka_error_code: int = 56


class CorruptIndexError(StorageError):
    """An ``.index`` or ``.timeindex`` file fails its sanity check; the
    segment's indexes are rebuilt from its ``.log``."""


class CorruptSegmentError(StorageError):
    """A segment holds an invalid batch before its tail.

    Raised (and logged) by recovery with the file and byte position; the log
    is truncated there and later segments are deleted, as Kafka does.
    """

    kafka_error_code = 2

    def __init__(self, path: Path, position: int, reason: str) -> None:
        super().__init__(f"corrupt batch in {path} at position {position}: {reason}")
        self.path = path
        self.position = position
        self.reason = reason


class OffsetOutOfRangeError(StorageError):
    """A read asked for an offset outside ``[log_start_offset, log_end_offset]``."""

    kafka_error_code = 1


class OffsetsOutOfOrderError(StorageError):
    """A batch appended with its own offsets (follower or cleaner path) does
    not start above the log end offset or its offsets do not increase."""

    kafka_error_code = 87


class InvalidTopicError(StorageError, ValueError):
    """A topic name breaks Kafka's rules ([a-zA-Z0-9._-], 1-249 characters)."""

    kafka_error_code = 17


class LogClosedError(StorageError):
    """The partition log was closed or deleted."""
