"""Spooling directory sources: CSV and JSON-lines files dropped into a folder, into a topic.

::

    connector.class=SpoolDirCsvSource          # or SpoolDirJsonSource (JSON lines)
    input.path=/data/in
    finished.path=/data/done
    error.path=/data/bad
    input.file.pattern=.*\\.csv
    topic=orders
    schema.generation.enabled=true

Files whose name matches ``input.file.pattern`` (and unchanged for ``file.minimum.age.ms``)
are read one at a time, in name order. A file that cannot be read whole (bad CSV, bad JSON,
bad encoding) moves to ``error.path`` before any of its records is sent. A read file is
finished (``cleanup.policy``: MOVE to ``finished.path``, DELETE, or NONE to leave it) only
once Kafka acknowledged all of its records, so a crash never loses one.

Offsets: partition ``{"filename": name}``, offset ``{"line": n, "total": count, "size": bytes,
"mtime_ns": ns}`` where ``n`` counts the records sent so far; a restarted task skips the
first ``n`` records of the same file (same size and modification time), so a restart
mid-file sends no duplicates of committed records.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tidal._version import __version__
from tidal.connectors.api import (
    DataError,
    ExactlyOnceSupport,
    RecordMetadata,
    SourceConnector,
    SourceRecord,
    SourceTask,
)
from tidal.connectors.config import (
    ConfigDef,
    ConfigError,
    ConfigType,
    ConfigValue,
    Importance,
    NonEmptyString,
    Range,
    ValidString,
)

from ._checks import validate_with
from ._spooldir_files import FileLayout, read, scan

__all__ = [
    "SpoolDirCsvSourceConnector",
    "SpoolDirCsvSourceTask",
    "SpoolDirJsonSourceConnector",
    "SpoolDirJsonSourceTask",
    "spooldir_config",
]

_log = logging.getLogger(__name__)


def spooldir_config(fmt: str) -> ConfigDef:
    """The settings of the CSV (``fmt="csv"``) or JSON-lines source."""
    config = (
        ConfigDef()
        .define("input.path", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Folder the files are read from.")
        .define("input.file.pattern", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE,
                NonEmptyString(), Importance.HIGH, "Regular expression the whole file name "
                "must match.")
        .define("finished.path", ConfigType.STRING, "", None, Importance.HIGH,
                "Folder read files move to (cleanup.policy=MOVE).")
        .define("error.path", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Folder unreadable files move to.")
        .define("topic", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Topic to write to.")
        .define("cleanup.policy", ConfigType.STRING, "MOVE", ValidString.in_("MOVE", "DELETE",
                "NONE"), Importance.MEDIUM, "What happens to a file once all its records are "
                "in Kafka: MOVE to finished.path, DELETE, or NONE (left in place, never reread).")
        .define("schema.generation.enabled", ConfigType.BOOLEAN, False, None, Importance.MEDIUM,
                "Infer field types from the file; otherwise CSV fields are strings and JSON "
                "values schemaless maps.")
        .define("key.fields", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Fields that make up the record key (default: no key).")
        .define("batch.size", ConfigType.INT, 1000, Range.at_least(1), Importance.LOW,
                "Most records returned by one poll.")
        .define("empty.poll.wait.ms", ConfigType.LONG, 500, Range.at_least(0), Importance.LOW,
                "Wait before looking again when no file is ready, in milliseconds.")
        .define("file.minimum.age.ms", ConfigType.LONG, 0, Range.at_least(0), Importance.LOW,
                "Only read files unchanged for this long (still being written otherwise).")
        .define("file.encoding", ConfigType.STRING, "UTF-8", NonEmptyString(), Importance.LOW,
                "Character encoding of the files.")
    )  # fmt: skip
    if fmt == "csv":
        config.define("csv.separator.char", ConfigType.STRING, ",", NonEmptyString(),
                      Importance.LOW, "Column separator of the CSV files.")  # fmt: skip
    return config


@dataclass(slots=True)
class _Pending:
    """A file whose records were sent but not all acknowledged yet."""

    path: Path
    expected: int
    acked: int = 0
    sent_all: bool = False


class _SpoolDirConnector(SourceConnector):
    fmt: ClassVar[str]

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check and keep the configuration."""
        _checked(spooldir_config(self.fmt).parse(props))
        self.props = dict(props)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """One task: files move between folders, so two tasks would race for them."""
        return [dict(self.props)]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """The folder, pattern, topic, cleanup and schema settings."""
        return spooldir_config(self.fmt)

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        """Each setting, then the folders and the pattern."""
        return validate_with(spooldir_config(self.fmt), props, _checked)

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport:
        """Supported: a file stays in place until its records are in Kafka, and is reread
        from its committed offset."""
        return ExactlyOnceSupport.SUPPORTED


class _SpoolDirTask(SourceTask):
    fmt: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # guards _pending (commit_record runs elsewhere)
        self._reading = threading.Lock()  # one of poll() and stop() at a time
        self._pending: dict[str, _Pending] = {}
        self._current: Generator[tuple[int, Any, Any], None, None] | None = None
        self._ignored: set[str] = set()  # cleanup.policy=NONE: read, left in place
        self._current_name = ""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Read the settings."""
        self._config = config = _checked(spooldir_config(self.fmt).parse(props))
        self._input = Path(config["input.path"])
        self._pattern = re.compile(config["input.file.pattern"])
        self._key_fields: list[str] = config["key.fields"]
        self._sep = config.get("csv.separator.char", ",")

    def poll(self) -> list[SourceRecord]:
        """Records of the current file, opening the next one when it is done."""
        with self._reading:  # stop() may run meanwhile, in another thread
            if self._stopping.is_set():
                return []
            self._finish_acked()
            if self._current is not None or self._open_next():
                return self._read_batch()
        self._stopping.wait(self._config["empty.poll.wait.ms"] / 1000)
        return []

    def _read_batch(self) -> list[SourceRecord]:
        assert self._current is not None
        records = []
        for number, key, value in self._current:
            records.append(self._record(number, key, value))
            if len(records) >= self._config["batch.size"]:
                break
        else:
            self._current = None
            with self._lock:
                self._pending[self._current_name].sent_all = True
        return records

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """Count the acknowledgement; a fully acknowledged file is finished by ``poll``."""
        name = (record.source_partition or {}).get("filename")
        with self._lock:
            if name in self._pending:
                self._pending[name].acked += 1

    def stop(self) -> None:
        """Close the open file and finish what is fully acknowledged."""
        self._stopping.set()
        with self._reading:
            if self._current is not None:
                self._current.close()
                self._current = None
            self._finish_acked()

    def _record(self, number: int, key: Any, value: Any) -> SourceRecord:
        layout, stat = self._layout, self._stat
        return SourceRecord(
            topic=self._config["topic"], key_schema=layout.key_schema, key=key,
            value_schema=layout.value_schema, value=value,
            source_partition={"filename": self._current_name},
            source_offset={"line": number, "total": layout.count, "size": stat[0],
                           "mtime_ns": stat[1]},
        )  # fmt: skip

    def _candidates(self) -> list[Path]:
        min_age = self._config["file.minimum.age.ms"] / 1000
        now = time.time()
        found = []
        for path in sorted(self._input.iterdir()):
            if path.name in self._pending or path.name in self._ignored or not path.is_file():
                continue
            if self._pattern.fullmatch(path.name) and now - path.stat().st_mtime >= min_age:
                found.append(path)
        return found

    def _open_next(self) -> bool:
        for path in self._candidates():
            stat = path.stat()
            self._stat = (stat.st_size, stat.st_mtime_ns)
            stored = self._stored(path.name)
            if stored is not None and stored.get("line", 0) >= stored.get("total", -1):
                self._finish(path)  # sent and committed before a restart; only cleanup is left
                continue
            try:
                layout = self._scan(path)
            except (DataError, ValueError, OSError) as exc:  # UnicodeError is a ValueError
                self._reject(path, exc)
                continue
            skip = int(stored["line"]) if stored is not None else 0
            self._layout = layout
            self._current_name = path.name
            with self._lock:
                self._pending[path.name] = _Pending(path, layout.count - skip)
            self._current = read(path, self.fmt, layout, self._key_fields,
                                 self._config["file.encoding"], self._sep, skip)  # fmt: skip
            return True
        return False

    def _scan(self, path: Path) -> FileLayout:
        return scan(path, self.fmt, self._config["schema.generation.enabled"], self._key_fields,
                    self._config["file.encoding"], self._sep)  # fmt: skip

    def _stored(self, name: str) -> Mapping[str, Any] | None:
        if self.context is None:
            return None
        offset: Mapping[str, Any] | None = self.context.offset_storage_reader.offset(
            {"filename": name}
        )
        if offset is None or (offset.get("size"), offset.get("mtime_ns")) != self._stat:
            return None  # another file under the same name
        return offset

    def _finish_acked(self) -> None:
        with self._lock:
            done = [p for p in self._pending.values() if p.sent_all and p.acked >= p.expected]
            for item in done:
                del self._pending[item.path.name]
        for item in done:
            self._finish(item.path)

    def _finish(self, path: Path) -> None:
        policy = self._config["cleanup.policy"]
        if policy == "DELETE":
            path.unlink(missing_ok=True)
        elif policy == "MOVE":
            _move(path, Path(self._config["finished.path"]))
        else:
            self._ignored.add(path.name)

    def _reject(self, path: Path, error: BaseException) -> None:
        _log.error("moving %s to %s: %s", path.name, self._config["error.path"], error)
        _move(path, Path(self._config["error.path"]))


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    suffix = 1
    while target.exists():
        target = folder / f"{path.name}.{suffix}"
        suffix += 1
    shutil.move(path, target)


def _checked(config: dict[str, Any]) -> dict[str, Any]:
    if config["cleanup.policy"] == "MOVE" and not config["finished.path"]:
        raise ConfigError("finished.path", "", "cleanup.policy=MOVE needs finished.path")
    if not Path(config["input.path"]).is_dir():
        raise ConfigError("input.path", config["input.path"], "not a folder")
    try:
        re.compile(config["input.file.pattern"])
    except re.error as exc:
        raise ConfigError("input.file.pattern", config["input.file.pattern"], str(exc)) from None
    if len(config.get("csv.separator.char", ",")) != 1:
        raise ConfigError("csv.separator.char", config["csv.separator.char"], "one character")
    return config


class SpoolDirCsvSourceConnector(_SpoolDirConnector):
    """CSV files with a header row, from a spooling folder (Confluent's names)."""

    fmt = "csv"

    def task_class(self) -> type[SourceTask]:
        """:class:`SpoolDirCsvSourceTask`."""
        return SpoolDirCsvSourceTask


class SpoolDirJsonSourceConnector(_SpoolDirConnector):
    """JSON-lines files (one object per line) from a spooling folder."""

    fmt = "json"

    def task_class(self) -> type[SourceTask]:
        """:class:`SpoolDirJsonSourceTask`."""
        return SpoolDirJsonSourceTask


class SpoolDirCsvSourceTask(_SpoolDirTask):
    """Reads CSV files."""

    fmt = "csv"


class SpoolDirJsonSourceTask(_SpoolDirTask):
    """Reads JSON-lines files."""

    fmt = "json"
