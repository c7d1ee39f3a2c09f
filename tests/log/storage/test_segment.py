"""LogSegment and the shared file handle cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tidal.log.records import SimpleRecord, encode_batch, read_batch_header
from tidal.log.storage import FileHandleCache, LogConfig, LogSegment
from tidal.log.storage._segment import segment_file_name


def batches(count: int, start: int = 0) -> list[bytes]:
    return [
        encode_batch([SimpleRecord(b"x" * (i % 13), timestamp=100 + i)], base_offset=start + i)
        for i in range(count)
    ]


def new_segment(tmp_path: Path, handles: FileHandleCache, base: int = 0) -> LogSegment:
    config = LogConfig.from_properties({"index.interval.bytes": "64"})
    segment = LogSegment(tmp_path, base, config, handles, created_ms=0)
    segment.create_files()
    return segment


def append_all(segment: LogSegment, data: list[bytes]) -> None:
    for raw in data:
        segment.append(raw, [read_batch_header(raw)])


def test_file_names_are_twenty_digits() -> None:
    assert segment_file_name(1234, ".log") == "00000000000000001234.log"


def test_translate_offset_and_walk(tmp_path: Path) -> None:
    segment = new_segment(tmp_path, FileHandleCache(), base=10)
    data = batches(50, start=10)
    append_all(segment, data)
    assert segment.next_offset == 60
    assert len(segment.offset_index) > 5
    positions = [pos for pos, _ in segment.walk(0)]
    for i in range(50):
        found = segment.translate_offset(10 + i)
        assert found is not None
        assert found[0] == positions[i]
    assert segment.translate_offset(60) is None
    assert segment.find_offset_by_timestamp(120, 0) == (120, 30)
    segment.close()


def test_recover_rebuilds_identical_indexes(tmp_path: Path) -> None:
    segment = new_segment(tmp_path, FileHandleCache())
    append_all(segment, batches(40))
    segment.close()
    index = segment.offset_index.entries()
    times = segment.time_index.entries()
    again = LogSegment(tmp_path, 0, segment.config, FileHandleCache(), created_ms=0)
    assert again.recover(0) is None
    again.on_become_inactive()
    assert again.offset_index.entries() == index
    assert again.time_index.entries() == times
    again.close()


def test_truncate_to_mid_segment(tmp_path: Path) -> None:
    segment = new_segment(tmp_path, FileHandleCache())
    data = batches(30)
    append_all(segment, data)
    removed = segment.truncate_to(20)
    assert removed == sum(len(b) for b in data[20:])
    assert segment.next_offset == 20
    assert segment.size == sum(len(b) for b in data[:20])
    assert all(o < 20 for o, _ in segment.offset_index.entries())
    append_all(segment, batches(5, start=20))
    assert segment.next_offset == 25
    segment.close()


def test_handle_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    handles = FileHandleCache(max_open=2)
    for i in range(4):
        (tmp_path / str(i)).mkdir()
    segments = [new_segment(tmp_path / str(i), handles) for i in range(4)]
    for segment in segments:
        append_all(segment, batches(2))
    assert handles.open_count == 2
    with handles.lease(segments[0]) as fd0, handles.lease(segments[1]) as fd1:
        # Both pinned: a third lease may exceed the bound but never closes them.
        with handles.lease(segments[2]):
            assert handles.open_count == 3
        assert fd0 != fd1
        assert segments[0].read_bytes(0, 10)
    for segment in segments:
        segment.read_bytes(0, 5)
        assert handles.open_count <= 2
    handles.discard(segments[0])
    for segment in segments:
        segment.close()
    assert handles.open_count == 0


def test_discard_waits_for_lease(tmp_path: Path) -> None:
    handles = FileHandleCache()
    segment = new_segment(tmp_path, handles)
    append_all(segment, batches(1))
    with handles.lease(segment) as fd:
        handles.discard(segment)
        assert handles.open_count == 0
        assert segment.read_bytes(0, 4) is not None  # a fresh handle
        assert os.pread(fd, 8, 0) == batches(1)[0][:8]  # still open
    segment.close()


def test_rename_keeps_reading(tmp_path: Path) -> None:
    segment = new_segment(tmp_path, FileHandleCache())
    append_all(segment, batches(3))
    segment.rename(".deleted")
    assert segment.log_path.name.endswith(".log.deleted")
    assert segment.read_bytes(0, 8) == batches(1)[0][:8]
    segment.delete_files()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        segment.read_bytes(0, 8)
