"""Kafka's checkpoint text files, read and written atomically.

Every checkpoint file (``recovery-point-offset-checkpoint``,
``log-start-offset-checkpoint``, ``cleaner-offset-checkpoint``,
``leader-epoch-checkpoint``) has the same shape::

    0                 <- version line
    2                 <- number of entries
    orders 0 1234     <- one entry per line, fields separated by one space
    orders 1 99

Offset checkpoints hold ``topic partition offset``; the leader epoch
checkpoint holds ``epoch start_offset``. Writes go to ``<name>.tmp``, are
fsynced, then renamed over the old file, and the directory is fsynced, as
Kafka's ``CheckpointFile`` does, so a crash leaves the old or the new file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "CHECKPOINT_VERSION",
    "CorruptCheckpointError",
    "fsync_dir",
    "read_checkpoint",
    "read_offset_checkpoint",
    "write_checkpoint",
    "write_offset_checkpoint",
]

CHECKPOINT_VERSION = 0


class CorruptCheckpointError(ValueError):
    """A checkpoint file does not follow the format; names the file and line."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"malformed checkpoint {path} line {line}: {reason}")
        self.path = path
        self.line = line


def fsync_dir(path: Path) -> None:
    """fsync a directory so renames and creations in it are durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint(path: Path, fields: int) -> list[list[str]]:
    """Entries of a checkpoint file, each split into ``fields`` strings.

    A missing file reads as no entries. Raises ``CorruptCheckpointError``.
    """
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise CorruptCheckpointError(path, 1, f"not UTF-8 text: {exc}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        raise CorruptCheckpointError(path, len(lines) + 1, "missing version or count line")
    if lines[0].strip() != str(CHECKPOINT_VERSION):
        raise CorruptCheckpointError(path, 1, f"unrecognised version {lines[0]!r}")
    try:
        count = int(lines[1])
    except ValueError:
        raise CorruptCheckpointError(path, 2, f"bad entry count {lines[1]!r}") from None
    if count != len(lines) - 2:
        raise CorruptCheckpointError(path, 2, f"expected {count} entries, found {len(lines) - 2}")
    entries: list[list[str]] = []
    for number, line in enumerate(lines[2:], start=3):
        parts = line.split(" ")
        if len(parts) != fields or not all(parts):
            raise CorruptCheckpointError(path, number, f"expected {fields} fields: {line!r}")
        entries.append(parts)
    return entries


def write_checkpoint(path: Path, entries: Iterable[Iterable[object]]) -> None:
    """Atomically replace ``path`` with ``entries`` (fsynced, then renamed)."""
    rows = [" ".join(str(f) for f in entry) for entry in entries]
    body = f"{CHECKPOINT_VERSION}\n{len(rows)}\n" + "".join(r + "\n" for r in rows)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, body.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_offset_checkpoint(path: Path) -> dict[tuple[str, int], int]:
    """A ``topic partition offset`` checkpoint as ``{(topic, partition): offset}``."""
    out: dict[tuple[str, int], int] = {}
    for number, (topic, partition, offset) in enumerate(read_checkpoint(path, 3), start=3):
        try:
            out[(topic, int(partition))] = int(offset)
        except ValueError:
            raise CorruptCheckpointError(
                path, number, "partition and offset must be integers"
            ) from None
    return out


def write_offset_checkpoint(path: Path, offsets: Mapping[tuple[str, int], int]) -> None:
    """Write ``{(topic, partition): offset}`` in Kafka's offset checkpoint format."""
    write_checkpoint(path, ((t, p, o) for (t, p), o in sorted(offsets.items())))
