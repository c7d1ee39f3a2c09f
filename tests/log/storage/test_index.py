"""Offset index, time index and checkpoint files in Kafka's byte format."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tidal.log.storage import CorruptCheckpointError, CorruptIndexError, OffsetIndex, TimeIndex
from tidal.log.storage._checkpoint import (
    read_checkpoint,
    read_offset_checkpoint,
    write_checkpoint,
    write_offset_checkpoint,
)


def test_offset_index_file_is_preallocated_then_trimmed(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "x.index", 100, 8 * 10 + 5)
    assert index.max_entries == 10
    index.write(preallocate=True)
    assert index.path.stat().st_size == 80
    index.append(105, 4200)
    index.append(110, 9000)
    index.write(preallocate=True)
    assert index.path.stat().st_size == 80
    index.write(preallocate=False)
    assert index.path.read_bytes() == struct.pack(">iiii", 5, 4200, 10, 9000)


def test_offset_index_lookup_is_floor(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "x.index", 100, 1024)
    for i in range(1, 20):
        index.append(100 + i * 10, i * 1000)
    assert index.lookup(99) == (100, 0)
    assert index.lookup(105) == (100, 0)
    assert index.lookup(110) == (110, 1000)
    assert index.lookup(155) == (150, 5000)
    assert index.lookup(10**9) == (290, 19000)
    assert index.floor_position(5500) == 5000
    assert index.floor_position(10) == -1


def test_offset_index_refuses_non_increasing_and_full(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "x.index", 0, 16)
    index.append(5, 100)
    with pytest.raises(CorruptIndexError):
        index.append(5, 200)
    index.append(6, 200)
    assert index.is_full
    with pytest.raises(CorruptIndexError):
        index.append(7, 300)


def test_offset_index_truncate_and_reload(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "x.index", 0, 1024)
    for i in range(1, 6):
        index.append(i * 10, i * 100)
    index.write(preallocate=False)
    index.truncate_to(30)
    assert index.entries() == [(10, 100), (20, 200)]
    index.write(preallocate=False)
    again = OffsetIndex(tmp_path / "x.index", 0, 1024)
    again.load()
    assert again.entries() == [(10, 100), (20, 200)]
    again.sanity_check(1000)
    with pytest.raises(CorruptIndexError):
        again.sanity_check(150)  # an entry points past the log


def test_corrupt_offset_index_files(tmp_path: Path) -> None:
    path = tmp_path / "x.index"
    path.write_bytes(b"\x00" * 7)
    with pytest.raises(CorruptIndexError):
        OffsetIndex(path, 0, 1024).load()
    path.write_bytes(struct.pack(">iiii", 5, 100, 3, 200))
    index = OffsetIndex(path, 0, 1024)
    index.load()
    with pytest.raises(CorruptIndexError):
        index.sanity_check(1000)
    path.write_bytes(struct.pack(">ii", 5, 100) + b"\x00" * 16)  # preallocated zeros
    index.load()
    with pytest.raises(CorruptIndexError):
        index.sanity_check(1000)


def test_time_index_appends_only_growing_timestamps(tmp_path: Path) -> None:
    index = TimeIndex(tmp_path / "x.timeindex", 50, 12 * 4)
    assert index.last_entry == (-1, 50)
    index.maybe_append(1000, 52)
    index.maybe_append(1000, 55)  # same timestamp: skipped
    index.maybe_append(900, 56)  # smaller: skipped
    index.maybe_append(2000, 58)
    assert index.entries() == [(1000, 52), (2000, 58)]
    assert index.lookup(999) == (-1, 50)
    assert index.lookup(1500) == (1000, 52)
    assert index.lookup(5000) == (2000, 58)
    index.maybe_append(3000, 59)
    assert index.is_full  # Kafka keeps the last slot for the roll entry
    with pytest.raises(CorruptIndexError):
        index.maybe_append(4000, 60)
    index.maybe_append(4000, 60, skip_full_check=True)
    index.write(preallocate=False)
    assert index.path.read_bytes()[:12] == struct.pack(">qi", 1000, 2)
    with pytest.raises(CorruptIndexError):
        index.maybe_append(5000, 10, skip_full_check=True)  # offset went backwards


def test_time_index_truncate_and_sanity(tmp_path: Path) -> None:
    index = TimeIndex(tmp_path / "x.timeindex", 0, 1200)
    for i in range(1, 6):
        index.maybe_append(i * 100, i * 10)
    index.truncate_to(30)
    assert index.entries() == [(100, 10), (200, 20)]
    index.sanity_check(25)
    with pytest.raises(CorruptIndexError):
        index.sanity_check(15)
    index.write(preallocate=False)
    (tmp_path / "x.timeindex").write_bytes(struct.pack(">qiqi", 500, 1, 400, 2))
    index.load()
    with pytest.raises(CorruptIndexError):
        index.sanity_check(100)


def test_checkpoint_format(tmp_path: Path) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    write_offset_checkpoint(path, {("orders", 1): 42, ("orders", 0): 7})
    assert path.read_text() == "0\n2\norders 0 7\norders 1 42\n"
    assert read_offset_checkpoint(path) == {("orders", 0): 7, ("orders", 1): 42}
    assert read_offset_checkpoint(tmp_path / "missing") == {}
    write_checkpoint(tmp_path / "epochs", [(0, 0), (3, 1500)])
    assert read_checkpoint(tmp_path / "epochs", 2) == [["0", "0"], ["3", "1500"]]


@pytest.mark.parametrize(
    "text",
    ["", "1\n0\n", "0\n2\na 0 1\n", "0\nx\n", "0\n1\na 0\n", "0\n1\na b c\n"],
)
def test_corrupt_checkpoints_are_typed(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cp"
    path.write_text(text)
    with pytest.raises(CorruptCheckpointError, match="cp"):
        read_offset_checkpoint(path)
