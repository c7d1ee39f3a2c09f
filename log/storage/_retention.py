"""``cleanup.policy`` at work: deleting old segments and swapping in compacted ones.

Retention (``delete``) removes whole segments from the oldest end, as
Kafka's ``UnifiedLog.deleteOldSegments`` does: segments wholly below the log
start offset, then while the log exceeds ``retention.bytes``, then those whose
largest timestamp is more than ``retention.ms`` old. Only segments wholly
below the high watermark qualify; when every segment qualifies the log rolls
first so the (empty) new active segment remains.

Compaction (``compact``) calls the pure ``compact_segments`` of ``_cleaner``
on the non-active segments below the first uncleanable offset and swaps the
results in with Kafka's file protocol, one cleaned segment per old segment
(same base offset)::

    1. write   <base>.log.cleaned (+ .index.cleaned, .timeindex.cleaned), fsync
    2. rename  every *.cleaned -> *.swap, oldest first; fsync the directory
    3. per segment, oldest first, under the log's lock:
         old <base>.log -> <base>.log.deleted  (removed after file.delete.delay.ms)
         <base>.log.swap -> <base>.log
    recovery: *.cleaned are deleted (step 1 unfinished); every *.log.swap is
    completed (renamed over <base>.log, indexes rebuilt).

Completing swaps oldest first keeps a crash between them correct: a
tombstone can only be gone from a newer segment once the values it deleted
are gone from the older ones.
"""

from __future__ import annotations

import itertools
import logging
import mmap
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tidal.log.storage import _faults
from tidal.log.storage._checkpoint import fsync_dir
from tidal.log.storage._cleaner import CleanerStats
from tidal.log.storage._segment import LogSegment

if TYPE_CHECKING:
    from tidal.log.storage._log import PartitionLog

__all__ = ["Compactor", "clean_log", "cleanable_range", "delete_old_segments"]

_log = logging.getLogger(__name__)

#: ``compact_segments``' signature (see ``_cleaner``).
Compactor = Callable[..., list[bytes]]


def _deletable(
    log: PartitionLog, predicate: Callable[[LogSegment, LogSegment | None], bool]
) -> list[LogSegment]:
    segments = log.segments
    out: list[LogSegment] = []
    for i, segment in enumerate(segments):
        following = segments[i + 1] if i + 1 < len(segments) else None
        upper = following.base_offset if following else log.log_end_offset
        if log.high_watermark < upper or (following is None and segment.size == 0):
            break
        if not predicate(segment, following):
            break
        out.append(segment)
    return out


def delete_old_segments(log: PartitionLog, now_ms: int) -> int:
    """Apply retention to ``log``; returns how many segments were deleted."""
    config = log.config
    deleted = 0
    with log.lock:
        start = log.log_start_offset
        doomed = _deletable(log, lambda s, nxt: nxt is not None and nxt.base_offset <= start)
        log.delete_segments(doomed, "below the log start offset")
        deleted += len(doomed)
        if not config.delete:
            return deleted
        if config.retention_bytes >= 0:
            excess = log.size - config.retention_bytes

            def over_size(segment: LogSegment, _: LogSegment | None) -> bool:
                nonlocal excess
                if excess - segment.size < 0:
                    return False
                excess -= segment.size
                return True

            doomed = _deletable(log, over_size) if excess > 0 else []
            log.delete_segments(doomed, f"retention.bytes {config.retention_bytes} exceeded")
            deleted += len(doomed)
        if config.retention_ms >= 0:
            doomed = _deletable(
                log, lambda s, _: now_ms - s.largest_timestamp > config.retention_ms
            )
            log.delete_segments(doomed, f"older than retention.ms {config.retention_ms}")
            deleted += len(doomed)
    return deleted


def cleanable_range(
    log: PartitionLog, now_ms: int, first_dirty_offset: int
) -> tuple[list[LogSegment], int] | None:
    """The non-active segments to compact and the offset cleaning stops at,
    or ``None`` when the dirty ratio is below ``min.cleanable.dirty.ratio``."""
    config = log.config
    segments = log.segments
    upto = min(segments[-1].base_offset, log.high_watermark)
    if config.min_compaction_lag_ms > 0:
        cutoff = now_ms - config.min_compaction_lag_ms
        young = next((s for s in segments if s.largest_timestamp > cutoff), None)
        if young is not None:
            upto = min(upto, young.base_offset)
    chosen = [s for s, nxt in itertools.pairwise(segments) if nxt.base_offset <= upto]
    if not chosen:
        return None
    end = segments[len(chosen)].base_offset
    first_dirty = max(first_dirty_offset, log.log_start_offset)
    total = sum(s.size for s in chosen)
    dirty = 0
    for segment in chosen:
        if segment.base_offset >= first_dirty:
            dirty += segment.size
        else:
            found = segment.translate_offset(first_dirty)
            dirty += segment.size - found[0] if found else 0
    if total == 0 or dirty / total < config.min_cleanable_dirty_ratio or dirty == 0:
        return None
    return chosen, end


def _read_segments(segments: Sequence[LogSegment]) -> list[bytes]:
    # Whole files are handed to the cleaner; mmap avoids a Python-level copy
    # loop, and bytes() detaches the result from the mapping before it closes.
    out = []
    for segment in segments:
        if segment.size == 0:
            out.append(b"")
            continue
        with (
            segment.handles.lease(segment) as fd,
            mmap.mmap(fd, segment.size, access=mmap.ACCESS_READ) as mm,
        ):
            out.append(mm[:])
    return out


def _write_cleaned(log: PartitionLog, old: LogSegment, data: bytes) -> LogSegment:
    new = LogSegment(
        log.directory, old.base_offset, log.config, log.handles,
        created_ms=old.created_ms, suffix=".cleaned",
    )  # fmt: skip
    fd = os.open(new.log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        written = 0
        while written < len(view):
            written += os.write(fd, view[written:])
        os.fsync(fd)
    finally:
        os.close(fd)
    cut = new.recover(old.base_offset)  # validates the output and builds indexes
    if cut is not None:
        new.delete_files()
        raise ValueError(f"cleaner output for {old.log_path} is invalid at {cut[0]}: {cut[1]}")
    new.on_become_inactive()
    new.fsync()
    return new


def clean_log(
    log: PartitionLog,
    now_ms: int,
    first_dirty_offset: int,
    compactor: Compactor,
    stats: CleanerStats | None = None,
) -> int | None:
    """Compact ``log`` if it is dirty enough; returns the new cleaner
    checkpoint (first dirty offset) or ``None`` when nothing was done.
    The compactor adds its counters to ``stats`` when given."""
    found = cleanable_range(log, now_ms, first_dirty_offset)
    if found is None:
        return None
    chosen, end = found
    outputs = compactor(
        _read_segments(chosen),
        clean_upto_offset=end,
        now_ms=now_ms,
        delete_retention_ms=log.config.delete_retention_ms,
        stats=stats,
    )
    cleaned: list[LogSegment] = []
    try:
        for old, data in zip(chosen, outputs, strict=True):
            cleaned.append(_write_cleaned(log, old, data))
        if _faults.armed():
            _faults.fire("clean.after_cleaned_written")
        with log.lock:
            current = log.segments
            if any(s not in current for s in chosen):
                raise LookupError("segments changed while cleaning")
            for new in cleaned:
                new.rename(".swap")
            fsync_dir(log.directory)
            if _faults.armed():
                _faults.fire("clean.after_swap_renamed")
            for old, new in zip(chosen, cleaned, strict=True):
                old.rename(".deleted")
                if _faults.armed():
                    _faults.fire("clean.after_old_deleted")
                new.rename("")
                log.replace_segments(old, new)
                log.retire_segment(old)
            fsync_dir(log.directory)
    except LookupError:
        for new in cleaned:
            new.delete_files()
        _log.info("abandoned cleaning %s: its segments changed meanwhile", log.directory)
        return None
    except Exception:
        for new in cleaned:
            new.delete_files()
        raise
    before = sum(s.size for s in chosen)
    after = sum(s.size for s in cleaned)
    # The LogManager logs the cleaner's stats at INFO; this is the file view.
    _log.debug("cleaned %s up to offset %d: %d -> %d bytes", log.directory, end, before, after)
    return end
