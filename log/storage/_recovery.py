"""Loading a partition directory: finish interrupted swaps, check or rebuild
indexes, and scan unflushed segments after an unclean shutdown.

What a partition directory may hold when it is opened::

    00000000000000000000.log            segment data
    00000000000000000000.index          offset index (rebuilt when corrupt)
    00000000000000000000.timeindex      time index (rebuilt when corrupt)
    00000000000000004096.log.swap       cleaned segment ready to replace 4096.log
    00000000000000004096.log.cleaned    unfinished cleaner output: deleted
    00000000000000000000.log.deleted    retention/compaction leftovers: deleted
    leader-epoch-checkpoint(.tmp)       epoch cache (a .tmp leftover is deleted)

Behaviour on corruption, as Kafka's ``LogLoader``: after an unclean
shutdown every segment from the one holding the recovery point onward is
scanned batch by batch (length, magic, CRC-32C, offsets increasing). The
first bad batch ends the log: its segment is truncated there and every later
segment is deleted, so nothing past the damage is ever served. A bad tail of
the last segment is the ordinary torn write of a crash and is logged as a
warning; damage followed by more data is logged as an error carrying a
``CorruptSegmentError`` (file and byte position) in the ``RecoveryReport``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from tidal.log.storage._config import LogConfig
from tidal.log.storage._errors import CorruptSegmentError
from tidal.log.storage._handles import FileHandleCache
from tidal.log.storage._segment import LogSegment

__all__ = ["RecoveryReport", "load_segments"]

_log = logging.getLogger(__name__)
_LOG_FILE = re.compile(r"^(\d{20})\.log$")
_INDEX_FILE = re.compile(r"^(\d{20})\.(?:index|timeindex)$")
_LEFTOVER_SUFFIXES = (".deleted", ".cleaned", ".tmp")


@dataclass(slots=True)
class RecoveryReport:
    """What opening a partition directory found and did."""

    #: segments scanned batch by batch (unclean shutdown or bad index)
    recovered: list[Path] = field(default_factory=list)
    #: ``(file, position, reason)`` of each cut
    truncations: list[tuple[Path, int, str]] = field(default_factory=list)
    #: segments deleted because they followed a corruption
    deleted: list[Path] = field(default_factory=list)
    #: cleaned segments whose swap was completed
    completed_swaps: list[Path] = field(default_factory=list)
    #: set when a bad batch was followed by more data
    corruption: CorruptSegmentError | None = None


def _finish_swaps(directory: Path, report: RecoveryReport) -> set[int]:
    """Complete every ``.log.swap`` and remove leftovers; returns the base
    offsets whose indexes must be rebuilt."""
    rebuild: set[int] = set()
    for path in sorted(directory.iterdir()):
        name = path.name
        if name.endswith(".log.swap"):
            base = int(name[:20])
            # The .swap was complete before it was named so (see _retention):
            # it replaces the old segment of the same base offset.
            path.replace(directory / name.removesuffix(".swap"))
            report.completed_swaps.append(directory / name.removesuffix(".swap"))
            rebuild.add(base)
    for path in sorted(directory.iterdir()):
        name = path.name
        if name.endswith((".index.swap", ".timeindex.swap", *_LEFTOVER_SUFFIXES)):
            path.unlink(missing_ok=True)
    for base in rebuild:
        for ext in (".index", ".timeindex"):
            (directory / f"{base:020d}{ext}").unlink(missing_ok=True)
    return rebuild


def load_segments(
    directory: Path,
    config: LogConfig,
    handles: FileHandleCache,
    *,
    now_ms: int,
    recovery_point: int,
    had_clean_shutdown: bool,
    log_start_offset: int,
) -> tuple[list[LogSegment], RecoveryReport]:
    """Open every segment of ``directory`` (oldest first), recovering as needed.

    Returns at least one segment: an empty one at ``log_start_offset`` is
    created for an empty directory.
    """
    report = RecoveryReport()
    rebuild = _finish_swaps(directory, report)
    bases = sorted(int(m.group(1)) for p in directory.iterdir() if (m := _LOG_FILE.match(p.name)))
    for path in directory.iterdir():  # indexes without a .log are orphans
        orphan = _INDEX_FILE.match(path.name)
        if orphan and int(orphan.group(1)) not in bases:
            path.unlink(missing_ok=True)
    segments = [LogSegment(directory, b, config, handles, created_ms=now_ms) for b in bases]
    # The segment holding the recovery point and all later ones are unflushed.
    first_unflushed = len(segments)
    if not had_clean_shutdown:
        first_unflushed = 0
        for i, segment in enumerate(segments):
            if segment.base_offset <= recovery_point:
                first_unflushed = i
    previous_next = 0
    for i, segment in enumerate(segments):
        active = i == len(segments) - 1
        needs_scan = i >= first_unflushed or segment.base_offset in rebuild
        if not needs_scan and segment.load(active):
            previous_next = segment.next_offset
            continue
        report.recovered.append(segment.log_path)
        cut = segment.recover(previous_next)
        segment.write_indexes(active=active)
        previous_next = segment.next_offset
        if cut is None:
            continue
        position, reason = cut
        report.truncations.append((segment.log_path, position, reason))
        later = segments[i + 1 :]
        if later:
            report.corruption = CorruptSegmentError(segment.log_path, position, reason)
            _log.error(
                "%s; truncated there and deleting %d later segment(s) as nothing past it "
                "can be served",
                report.corruption,
                len(later),
            )
            for dropped in later:
                report.deleted.append(dropped.log_path)
                dropped.delete_files()
            del segments[i + 1 :]
            segment.write_indexes(active=True)
        else:
            _log.warning(
                "truncated torn tail of %s at position %d: %s", segment.log_path, position, reason
            )
        break
    if not segments:
        segment = LogSegment(directory, log_start_offset, config, handles, created_ms=now_ms)
        segment.create_files()
        segments.append(segment)
    return segments, report
