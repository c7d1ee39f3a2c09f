"""Producer state across restarts: snapshots, log replay, crashes and truncation."""

from pathlib import Path

from tidal.log.broker.producer import (
    OUT_OF_ORDER_SEQUENCE_NUMBER,
    AppendVerdict,
    ProducerStateEntry,
    ProducerStateManager,
    snapshot_path,
)
from tidal.log.records import (
    ControlRecordType,
    SimpleRecord,
    encode_batch,
    encode_control_batch,
    iter_batches,
)
from tidal.log.storage import LogConfig, PartitionLog
from tidal.log.storage._faults import abandon

TS = 1_700_000_000_000


def clock() -> int:
    return TS


def config() -> LogConfig:
    return LogConfig.from_properties({"segment.bytes": "1000", "index.interval.bytes": "100"})


def batch(pid: int, seq: int, count: int = 2, epoch: int = 0) -> bytes:
    records = [SimpleRecord(b"value-%d-%d" % (seq, i), timestamp=TS + seq) for i in range(count)]
    return encode_batch(records, producer_id=pid, producer_epoch=epoch, base_sequence=seq)


def produce(
    log: PartitionLog, state: ProducerStateManager, raw: bytes
) -> tuple[AppendVerdict, int]:
    """The Produce path in the order the package docstring gives the broker."""
    headers = list(iter_batches(raw))
    verdict = state.check_batches(headers)
    if verdict.duplicate is not None:
        return verdict, verdict.duplicate.first_offset
    if not verdict.should_append:
        return verdict, -1
    active = log.active_segment.base_offset
    info = log.append(raw)
    if log.active_segment.base_offset != active:
        state.take_snapshot(log.active_segment.base_offset)
    state.on_log_append(headers, info)
    return verdict, info.first_offset


def fill(
    log: PartitionLog, state: ProducerStateManager, batches: int, pids: tuple[int, ...] = (1, 2)
) -> None:
    for i in range(batches):
        for pid in pids:
            assert produce(log, state, batch(pid, i * 2))[0].should_append


def snapshot_of(state: ProducerStateManager) -> dict[int, ProducerStateEntry]:
    return {pid: entry.copy() for pid, entry in state.producers.items()}


def reopen(directory: Path, *, clean: bool) -> tuple[PartitionLog, ProducerStateManager]:
    log = PartitionLog(directory, config(), clock=clock, had_clean_shutdown=clean)
    return log, ProducerStateManager.load(log, clock=clock)


def test_segment_rolls_take_snapshots_at_segment_bases(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    fill(log, state, 20)
    bases = [s.base_offset for s in log.segments]
    assert len(bases) > 3
    assert state.snapshot_offsets() == bases[-2:]
    # Each snapshot holds exactly the state of the batches below its offset.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replay = ProducerStateManager(elsewhere, clock=clock)
    while replay.map_end_offset < bases[-1]:
        chunk = log.read_bytes(replay.map_end_offset, 1 << 20, max_offset=bases[-1])
        for h in iter_batches(chunk):
            replay.on_appended(h, h.base_offset, h.last_offset, h.max_timestamp)
    assert replay.map_end_offset == bases[-1]
    written = replay.take_snapshot()
    assert written is not None
    assert written.read_bytes() == snapshot_path(tmp_path, bases[-1]).read_bytes()
    log.close()


def test_rebuild_without_any_snapshot_replays_the_log(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, producer_id_expiration_ms=10**12, clock=clock)
    fill(log, state, 12)
    before = snapshot_of(state)
    log.close()
    for path in tmp_path.glob("*.snapshot"):
        path.unlink()
    log, state = reopen(tmp_path, clean=True)
    assert snapshot_of(state) == before
    assert all(len(e.batches) == 5 for e in state.producers.values())
    assert state.map_end_offset == log.log_end_offset
    log.close()


def test_clean_restart_restores_the_five_batch_window(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    fill(log, state, 12)
    offsets = [produce(log, state, batch(3, seq))[1] for seq in range(0, 10, 2)]
    before = snapshot_of(state)
    state.take_snapshot(log.log_end_offset)  # shutdown
    log.close()

    log, state = reopen(tmp_path, clean=True)
    assert snapshot_of(state) == before
    leo = log.log_end_offset
    for seq, offset in zip(range(0, 10, 2), offsets, strict=True):
        verdict, got = produce(log, state, batch(3, seq))
        assert verdict.is_duplicate
        assert got == offset
    assert log.log_end_offset == leo
    assert produce(log, state, batch(3, 10))[0].should_append
    log.close()


def test_snapshot_remembers_producers_whose_batches_were_deleted(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    produce(log, state, batch(9, 100))
    fill(log, state, 20, pids=(1,))
    state.take_snapshot(log.log_end_offset)
    log.high_watermark = log.log_end_offset
    log.delete_records(log.segments[-1].base_offset)
    assert log.log_start_offset > 0
    log.close()

    log, state = reopen(tmp_path, clean=True)
    entry = state.last_entry(9)
    assert entry is not None
    assert entry.last_seq == 101
    assert produce(log, state, batch(9, 104))[0].error == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(log, state, batch(9, 102))[0].should_append
    log.close()


def test_crash_with_torn_tail_forgets_the_truncated_batches(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    fill(log, state, 10)
    kept_offset = produce(log, state, batch(5, 0))[1]
    torn_offset = produce(log, state, batch(5, 2))[1]
    active = log.active_segment
    assert active.base_offset <= kept_offset  # both in the active segment
    abandon(log)  # kill -9: no snapshot at shutdown
    with open(active.log_path, "r+b") as f:  # the last batch only half written
        f.truncate(active.size - 10)

    log, state = reopen(tmp_path, clean=False)
    assert log.log_end_offset == torn_offset
    entry = state.last_entry(5)
    assert entry is not None
    assert entry.last_seq == 1
    # The lost batch is new again, not a duplicate: the retry is appended.
    verdict, offset = produce(log, state, batch(5, 2))
    assert verdict.should_append
    assert offset == torn_offset
    log.close()


def test_snapshots_past_the_log_end_are_deleted(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    fill(log, state, 4)
    cut = log.log_end_offset
    produce(log, state, batch(7, 0))
    produce(log, state, batch(7, 2))
    state.take_snapshot(log.log_end_offset)
    high = log.log_end_offset
    log.truncate_to(cut)  # e.g. a replica truncating to the leader's log
    state.rebuild(log)
    assert high not in state.snapshot_offsets()
    assert state.last_entry(7) is None
    assert state.map_end_offset == cut
    log.close()


def test_corrupt_newest_snapshot_falls_back_to_the_older_one(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, producer_id_expiration_ms=10**12, clock=clock)
    fill(log, state, 20)
    before = snapshot_of(state)
    older, newest = state.snapshot_offsets()
    path = snapshot_path(tmp_path, newest)
    path.write_bytes(path.read_bytes()[:-3])
    log.close()

    log, state = reopen(tmp_path, clean=True)
    assert snapshot_of(state) == before
    assert state.snapshot_offsets() == [older]
    log.close()


def txn_batch(pid: int, seq: int, epoch: int = 0) -> bytes:
    records = [SimpleRecord(b"t%d" % seq, timestamp=TS)]
    return encode_batch(
        records, producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=True
    )


def test_replay_tracks_transactions_and_their_markers(tmp_path: Path) -> None:
    log = PartitionLog(tmp_path, config(), clock=clock)
    state = ProducerStateManager(tmp_path, clock=clock)
    produce(log, state, txn_batch(1, 0))
    produce(log, state, txn_batch(1, 1))
    marker = encode_control_batch(
        ControlRecordType.COMMIT, producer_id=1, producer_epoch=0, coordinator_epoch=7, timestamp=TS
    )
    headers = list(iter_batches(marker))
    info = log.append(marker, from_producer=False)  # written by the coordinator, not a client
    state.on_appended(headers[0], info.first_offset, info.last_offset, TS, coordinator_epoch=7)
    open_txn = produce(log, state, txn_batch(2, 0))[1]
    before = snapshot_of(state)
    assert state.first_undecided_offset() == open_txn
    log.close()

    for with_snapshot in (False, True):
        for path in tmp_path.glob("*.snapshot"):
            path.unlink()
        log, state = reopen(tmp_path, clean=True)
        if with_snapshot:
            state.take_snapshot(log.log_end_offset)
            log.close()
            log, state = reopen(tmp_path, clean=True)
        assert snapshot_of(state) == before
        committed = state.last_entry(1)
        assert committed is not None
        assert committed.coordinator_epoch == 7
        assert committed.current_txn_first_offset is None
        assert state.first_undecided_offset() == open_txn
        log.close()
