"""Errors raised while reading or writing record batches.

Each carries the Kafka error code a broker answers with when a client sends
such a batch, so the wire layer can map them without a lookup table of its own.
"""

from __future__ import annotations

__all__ = [
    "CorruptRecordError",
    "InvalidRecordError",
    "RecordTooLargeError",
    "RecordsError",
    "UnsupportedCompressionError",
]


class RecordsError(Exception):
    """Base class of every error raised by ``tidal.log.records``."""

    #: Kafka error code sent to a client whose batch caused this error.
    kafka_error_code: int = 2


class CorruptRecordError(RecordsError):
    """A batch or record fails a structural check: CRC, magic, length, count.

    Maps to Kafka's ``CORRUPT_MESSAGE`` (2). Decoding arbitrary bytes raises
    only this error (or a subclass), never ``struct.error`` or ``IndexError``.
    """

    kafka_error_code = 2


class InvalidRecordError(RecordsError):
    """A well-formed batch that breaks a rule of the log, such as offsets that
    do not increase. Maps to Kafka's ``INVALID_RECORD`` (87)."""

    kafka_error_code = 87


class RecordTooLargeError(RecordsError):
    """A batch larger than the configured maximum (``message.max.bytes`` /
    ``max.message.bytes``). Maps to Kafka's ``MESSAGE_TOO_LARGE`` (10)."""

    kafka_error_code = 10


class UnsupportedCompressionError(CorruptRecordError):
    """A batch names a compression codec id Tidal does not know (not 0-4).
    Maps to Kafka's ``UNSUPPORTED_COMPRESSION_TYPE`` (76)."""

    kafka_error_code = 76
