"""The aborted-transaction index: Kafka's 34-byte ``.txnindex`` entries."""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidal.log.records import SimpleRecord, encode_batch
from tidal.log.storage import AbortedTxn, CorruptTxnIndexError, PartitionLog, TransactionIndex


def test_entry_layout_is_kafkas() -> None:
    entry = AbortedTxn(producer_id=7, first_offset=100, last_offset=130, last_stable_offset=131)
    encoded = entry.encode()
    assert len(encoded) == AbortedTxn.SIZE == 34
    assert encoded == struct.pack(">hqqqq", 0, 7, 100, 130, 131)
    assert AbortedTxn.decode(encoded) == entry


def test_unknown_version_and_short_entries_are_corrupt() -> None:
    with pytest.raises(CorruptTxnIndexError):
        AbortedTxn.decode(struct.pack(">hqqqq", 1, 7, 1, 2, 3))
    with pytest.raises(CorruptTxnIndexError):
        AbortedTxn.decode(b"\x00" * 33)


def test_files_per_segment_collect_and_reload(tmp_path: Path) -> None:
    index = TransactionIndex(tmp_path)
    a = AbortedTxn(1, 0, 5, 6)
    b = AbortedTxn(2, 3, 9, 10)
    c = AbortedTxn(1, 20, 25, 26)
    index.append(a, segment_base=0)
    index.append(b, segment_base=0)
    index.append(c, segment_base=20)
    index.append(b, segment_base=0)  # a replayed marker is not indexed twice
    assert (tmp_path / "00000000000000000000.txnindex").read_bytes() == a.encode() + b.encode()
    assert (tmp_path / "00000000000000000020.txnindex").read_bytes() == c.encode()
    # Kafka's collectAbortedTxns: marker at/after the fetch offset, first offset below the bound.
    assert index.collect(6, 100) == [b, c]
    assert index.collect(0, 3) == [a]
    assert index.collect(10, 20) == []
    assert TransactionIndex(tmp_path).entries() == [a, b, c]


def test_truncation_and_deleted_segments(tmp_path: Path) -> None:
    index = TransactionIndex(tmp_path)
    entries = [AbortedTxn(1, i * 10, i * 10 + 5, i * 10 + 6) for i in range(4)]
    for i, entry in enumerate(entries):
        index.append(entry, segment_base=(i // 2) * 20)
    index.truncate_to(26)  # the marker at 35 goes, the one at 25 stays
    assert index.entries() == entries[:3]
    assert (tmp_path / "00000000000000000020.txnindex").stat().st_size == 34
    index.delete_before(20)
    assert index.entries() == [entries[2]]
    assert not (tmp_path / "00000000000000000000.txnindex").exists()
    index.truncate_to(0)
    assert index.entries() == []
    assert list(tmp_path.glob("*.txnindex")) == []


def test_torn_tail_is_dropped_at_load(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000000.txnindex"
    entry = AbortedTxn(3, 1, 2, 3)
    path.write_bytes(entry.encode() + b"\x00\x00\x01")
    assert TransactionIndex(tmp_path).entries() == [entry]
    assert path.stat().st_size == 34


def test_partition_log_truncation_drops_entries(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path / "t-0")
    for i in range(4):
        log.append(encode_batch([SimpleRecord(b"v%d" % i, timestamp=i)]))
    log.txn_index.append(AbortedTxn(9, 0, 1, 2), segment_base=0)
    log.txn_index.append(AbortedTxn(9, 2, 3, 4), segment_base=0)
    log.truncate_to(3)
    assert log.txn_index.entries() == [AbortedTxn(9, 0, 1, 2)]
    log.close()
    reopened = PartitionLog(tmp_path / "t-0")
    assert reopened.txn_index.entries() == [AbortedTxn(9, 0, 1, 2)]
    reopened.close()


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50), st.integers(0, 20)), max_size=30),
    st.integers(0, 120),
    st.integers(0, 120),
)
def test_collect_matches_kafkas_rule(
    spans: list[tuple[int, int, int]], fetch_offset: int, upper: int
) -> None:
    """Entries appended in marker order; ``collect`` equals the plain filter."""
    with tempfile.TemporaryDirectory() as directory:
        index = TransactionIndex(directory)
        marker, appended = 0, []
        for pid, gap, length in spans:
            first = marker + gap
            marker = first + length + 1
            entry = AbortedTxn(pid, first, marker, marker + 1)
            index.append(entry, segment_base=(marker // 40) * 40)
            appended.append(entry)
        expected = [e for e in appended if e.last_offset >= fetch_offset and e.first_offset < upper]
        assert index.collect(fetch_offset, upper) == expected
        assert TransactionIndex(directory).collect(fetch_offset, upper) == expected
