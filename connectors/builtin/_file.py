"""FileStreamSource and FileStreamSink: Kafka's file connectors, with Kafka's config names.

Source (``org.apache.kafka.connect.file.FileStreamSourceConnector``)::

    connector.class=FileStreamSource
    file=/var/log/app.log      # standard input when missing
    topic=app-log              # required
    batch.size=2000            # most lines per poll

Each line becomes a record with a STRING value and no key. The source partition is
``{"filename": <file>}`` and the offset ``{"position": <bytes read up to the end of the
line>}``; a restarted task seeks to the committed position, so nothing is read twice after
a clean stop. Only complete lines (ending in ``\\n``; a ``\\r`` before it is dropped) are
sent. Positions count bytes, where Kafka's count characters: they agree on ASCII files.

Sink (``org.apache.kafka.connect.file.FileStreamSinkConnector``)::

    connector.class=FileStreamSink
    file=/tmp/out.txt          # standard output when missing
    topics=app-log             # or topics.regex

Each record's value is appended as one line (strings as UTF-8, bytes as they are, other
values as Java's ``toString`` prints them); ``flush`` fsyncs the file before the runtime
commits the consumer offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, BinaryIO

from tidal._version import __version__
from tidal.connectors._java import java_to_string
from tidal.connectors.api import (
    ExactlyOnceSupport,
    OffsetAndMetadata,
    Schema,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
    TopicPartition,
)
from tidal.connectors.api._records import make_source_record
from tidal.connectors.config import (
    ConfigDef,
    ConfigError,
    ConfigType,
    Importance,
    NonEmptyString,
    Range,
)

__all__ = [
    "FileStreamSinkConnector",
    "FileStreamSinkTask",
    "FileStreamSourceConnector",
    "FileStreamSourceTask",
]

FILENAME_FIELD = "filename"
POSITION_FIELD = "position"
_IDLE_WAIT_S = 0.2
_READ_SIZE = 1 << 20


def _source_config() -> ConfigDef:
    return (
        ConfigDef()
        .define("file", ConfigType.STRING, None, None, Importance.HIGH,
                "Source filename. If not specified, the standard input will be used")
        .define("topic", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "The topic to publish data to")
        .define("batch.size", ConfigType.INT, 2000, Range.at_least(1), Importance.LOW,
                "The maximum number of records the source task can read from the file each "
                "time it is polled")
    )  # fmt: skip


def _sink_config() -> ConfigDef:
    return ConfigDef().define(
        "file", ConfigType.STRING, None, None, Importance.HIGH,
        "Destination filename. If not specified, the standard output will be used",
    )  # fmt: skip


class FileStreamSourceConnector(SourceConnector):
    """Reads lines from one file into one topic (always one task)."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check and keep the configuration."""
        self.props = dict(props)
        _source_config().parse(props)

    def task_class(self) -> type[SourceTask]:
        """:class:`FileStreamSourceTask`."""
        return FileStreamSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """A single task reads the file."""
        keys = ("file", "topic", "batch.size")
        return [{k: self.props[k] for k in keys if k in self.props}]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """``file``, ``topic``, ``batch.size``."""
        return _source_config()

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        """Supported when reading a file (standard input cannot be re-read)."""
        supported = bool(props.get("file"))
        return ExactlyOnceSupport.SUPPORTED if supported else ExactlyOnceSupport.UNSUPPORTED

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, Mapping[str, Any] | None]
    ) -> bool:
        """Accept ``{"filename": ...}`` → ``{"position": <long >= 0>}`` (or null)."""
        for partition, offset in offsets.items():
            if FILENAME_FIELD not in partition:
                raise ConfigError(f"Partition objects must contain the key '{FILENAME_FIELD}'")
            if offset is None:
                continue
            position = offset.get(POSITION_FIELD)
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                raise ConfigError(
                    f"The value for the '{POSITION_FIELD}' key in the offset must be a "
                    "non-negative integer"
                )
        return True


class FileStreamSourceTask(SourceTask):
    """Reads complete lines from a file, resuming at the committed position."""

    #: ``start`` and ``stop`` only parse settings and close the file: called inline.
    blocking = False

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Read the configuration; the file is opened on the first poll."""
        parsed = _source_config().parse(props)
        self.filename: str | None = parsed["file"] or None
        self.topic: str = parsed["topic"]
        self.batch_size: int = parsed["batch.size"]
        self._wakeup = asyncio.Event()
        self._stream: BinaryIO | None = None
        self._buffer = b""
        self._position = 0
        # One partition dict shared by every record (the runtime never changes it).
        self._partition = {FILENAME_FIELD: self.filename} if self.filename else None

    def _open(self) -> bool:
        if self.filename is None:
            self._stream = sys.stdin.buffer
            return True
        try:
            stream = open(self.filename, "rb")  # noqa: SIM115 (kept open across polls)
        except FileNotFoundError:
            return False
        offset = self.context.offset_storage_reader.offset({FILENAME_FIELD: self.filename})
        if offset is not None:
            position = offset.get(POSITION_FIELD)
            if not isinstance(position, int) or position < 0:
                stream.close()
                raise ConfigError(f"Offset position is the incorrect type: {position!r}")
            stream.seek(position)
            self._position = position
        self._stream = stream
        return True

    async def poll(self) -> list[SourceRecord] | None:
        """Up to ``batch.size`` new lines; waits briefly when there are none.

        A ``async def`` on the worker's loop: reading a local file does not block for long,
        and the thread hop a plain ``poll`` costs per call is saved. Standard input, which
        may block indefinitely, is still read in a thread.
        """
        if self._stream is None and not self._open():
            await self._idle()
            return None
        stream = self._stream
        assert stream is not None
        if self._buffer.count(b"\n") < self.batch_size:
            if self.filename is not None:
                chunk = stream.read(_READ_SIZE)
            else:
                chunk = await asyncio.to_thread(stream.readline)
            self._buffer += chunk
        records = self._take_lines()
        if not records:
            await self._idle()
            return None
        return records

    async def _idle(self) -> None:
        """Wait for more of the file, up to :data:`_IDLE_WAIT_S`; ``stop`` cuts it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), _IDLE_WAIT_S)

    def _take_lines(self) -> list[SourceRecord]:
        """Records for the complete lines in the buffer, at most ``batch.size`` of them."""
        if self._partition is not None and self._buffer.isascii():
            return self._take_ascii_lines()
        records: list[SourceRecord] = []
        append = records.append
        now = int(time.time() * 1000)
        topic, partition, batch_size = self.topic, self._partition, self.batch_size
        schema = Schema.STRING_SCHEMA
        from_file = self.filename is not None
        buffer, start, position = self._buffer, 0, self._position
        find = buffer.find
        while len(records) < batch_size:
            end = find(b"\n", start)
            if end < 0:
                break
            position += end + 1 - start
            line = buffer[start:end].removesuffix(b"\r")
            append(
                make_source_record(
                    topic, None, None, None, schema, line.decode("utf-8", "replace"), now,
                    None, partition, {POSITION_FIELD: position} if from_file else None,
                )
            )  # fmt: skip
            start = end + 1
        self._position = position
        self._buffer = buffer[start:]  # one copy per poll, not one per line
        return records

    def _take_ascii_lines(self) -> list[SourceRecord]:
        """:meth:`_take_lines` for a file buffer of ASCII: one decode and one split per poll.

        A character is then a byte, so positions count the characters of each line.
        """
        buffer = self._buffer
        text = buffer.decode("ascii")
        lines = text.split("\n", self.batch_size)
        rest = lines.pop()  # the incomplete last line, or the lines beyond batch.size
        self._buffer = buffer[len(text) - len(rest) :]
        records: list[SourceRecord] = []
        append = records.append
        now = int(time.time() * 1000)
        topic, partition, position = self.topic, self._partition, self._position
        schema = Schema.STRING_SCHEMA
        for line in lines:
            position += len(line) + 1
            append(
                make_source_record(
                    topic, None, None, None, schema, line.removesuffix("\r"), now,
                    None, partition, {POSITION_FIELD: position},
                )
            )  # fmt: skip
        self._position = position
        return records

    def stop(self) -> None:
        """Wake a waiting poll and close the file."""
        self._wakeup.set()
        stream, self._stream = self._stream, None
        if stream is not None and self.filename is not None:
            stream.close()


class FileStreamSinkConnector(SinkConnector):
    """Appends the values of the records of ``topics`` to a file, one per line."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Keep the configuration."""
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        """:class:`FileStreamSinkTask`."""
        return FileStreamSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """One task per requested task, all writing to the same file."""
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """``file``."""
        return _sink_config()

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[TopicPartition, int | None]
    ) -> bool:
        """Nothing kept outside Kafka: any offsets are fine."""
        return True


def _line(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value) + b"\n"
    text = value if isinstance(value, str) else java_to_string(value)
    return text.encode("utf-8") + b"\n"


class FileStreamSinkTask(SinkTask):
    """Writes record values as lines; flush makes them durable.

    ``put`` writes to a local file on the worker's loop, saving a thread hop per batch;
    the fsyncs of ``flush`` and ``stop``, which may wait on the disk, run in a thread.
    """

    blocking = False

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Open the file for appending (or use standard output)."""
        self.filename: str | None = _sink_config().parse(props)["file"] or None
        if self.filename is None:
            self._stream: BinaryIO = sys.stdout.buffer
        else:
            self._stream = open(self.filename, "ab")  # noqa: SIM115 (closed in stop)

    def put(self, records: list[SinkRecord]) -> None:
        """Append one line per record."""
        if not records:
            return
        values = [r.value for r in records]
        try:  # the common case, text values: one join, one encode
            data = ("\n".join(values) + "\n").encode("utf-8")
        except TypeError:  # some value is not a string
            data = b"".join(_line(v) for v in values)
        self._stream.write(data)
        # Hand the lines to the OS now, as Kafka's PrintStream does: readers of
        # the file see them at once, not at the next offset flush (fsync waits
        # for that).
        self._stream.flush()

    async def flush(self, current_offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        """Flush and fsync, so committed offsets never run ahead of the file."""
        self._stream.flush()
        if self.filename is not None:
            await asyncio.to_thread(os.fsync, self._stream.fileno())

    async def stop(self) -> None:
        """Flush, fsync and close the file."""
        if self.filename is not None and not self._stream.closed:
            self._stream.flush()
            await asyncio.to_thread(os.fsync, self._stream.fileno())
            self._stream.close()
