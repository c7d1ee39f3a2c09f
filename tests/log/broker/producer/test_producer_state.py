"""Sequence and epoch checks of ProducerStateManager, as Kafka's ProducerAppendInfo."""

from pathlib import Path

import pytest

from tidal.log.broker.producer import (
    INT32_MAX,
    INVALID_PRODUCER_EPOCH,
    INVALID_RECORD,
    INVALID_TXN_STATE,
    NONE,
    OUT_OF_ORDER_SEQUENCE_NUMBER,
    AppendVerdict,
    ProducerStateManager,
    decrement_sequence,
    in_sequence,
    increment_sequence,
)
from tidal.log.records import (
    BatchHeader,
    ControlRecordType,
    SimpleRecord,
    encode_batch,
    encode_control_batch,
    iter_batches,
    read_batch_header,
)

PID = 1000
TS = 1_700_000_000_000


def header(
    seq: int,
    count: int = 1,
    *,
    pid: int = PID,
    epoch: int = 0,
    transactional: bool = False,
    ts: int = TS,
) -> BatchHeader:
    records = [SimpleRecord(b"v%d" % i, timestamp=ts) for i in range(count)]
    raw = encode_batch(
        records,
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
        is_transactional=transactional,
    )
    return read_batch_header(raw)


class Partition:
    """Producer state plus a fake log end offset: check, then append."""

    def __init__(self, directory: Path) -> None:
        self.state = ProducerStateManager(directory, clock=lambda: TS)
        self.leo = 0

    def produce(self, h: BatchHeader) -> tuple[AppendVerdict, int]:
        verdict = self.state.check_and_plan(h)
        if verdict.duplicate is not None:
            return verdict, verdict.duplicate.first_offset
        if verdict.error != NONE:
            return verdict, -1
        first = self.leo
        self.leo += h.last_offset_delta + 1
        self.state.on_appended(h, first, self.leo - 1, h.max_timestamp)
        return verdict, first


@pytest.fixture
def part(tmp_path: Path) -> Partition:
    return Partition(tmp_path)


def test_sequence_arithmetic_wraps_at_int32_max() -> None:
    assert increment_sequence(INT32_MAX, 1) == 0
    assert increment_sequence(INT32_MAX - 1, 3) == 1
    assert increment_sequence(5, 3) == 8
    assert decrement_sequence(1, 3) == INT32_MAX - 1
    assert decrement_sequence(8, 3) == 5
    assert in_sequence(INT32_MAX, 0)
    assert in_sequence(4, 5)
    assert not in_sequence(4, 6)
    assert not in_sequence(INT32_MAX, 1)


def test_in_order_batches_are_appended(part: Partition) -> None:
    offsets = [part.produce(header(seq, 3))[1] for seq in (0, 3, 6, 9)]
    assert offsets == [0, 3, 6, 9]
    entry = part.state.last_entry(PID)
    assert entry is not None
    assert (entry.first_seq, entry.last_seq, entry.last_data_offset) == (0, 11, 11)
    assert part.state.map_end_offset == 12


def test_duplicate_of_each_of_the_last_five_returns_original_offsets(part: Partition) -> None:
    # Interleave another producer so offsets and sequences differ.
    originals = []
    for i in range(7):
        part.produce(header(i, pid=PID + 1))
        originals.append(part.produce(header(i * 2, 2))[1])
    leo = part.leo
    for i in range(2, 7):  # the last five batches
        verdict, offset = part.produce(header(i * 2, 2))
        assert verdict.is_duplicate
        assert not verdict.should_append
        assert offset == originals[i]
        assert verdict.duplicate is not None
        assert verdict.duplicate.last_offset == originals[i] + 1
    assert part.leo == leo  # nothing appended


def test_retry_older_than_the_last_five_is_out_of_order(part: Partition) -> None:
    for i in range(7):
        part.produce(header(i))
    for old in (0, 1):
        verdict, _ = part.produce(header(old))
        assert verdict.error == OUT_OF_ORDER_SEQUENCE_NUMBER


def test_a_different_range_over_cached_sequences_is_not_a_duplicate(part: Partition) -> None:
    part.produce(header(0, 2))
    part.produce(header(2, 2))
    verdict, _ = part.produce(header(1, 2))
    assert verdict.error == OUT_OF_ORDER_SEQUENCE_NUMBER


@pytest.mark.parametrize("seq", [3, 5, 100, INT32_MAX])
def test_gap_is_out_of_order(part: Partition, seq: int) -> None:
    part.produce(header(0))
    part.produce(header(1))
    verdict, offset = part.produce(header(seq))
    assert (verdict.error, offset) == (OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
    assert verdict.message
    assert part.produce(header(2))[0].should_append


def test_unknown_producer_may_start_at_any_sequence(part: Partition) -> None:
    # Kafka 2.5+: the producer may have expired or its batches been deleted.
    assert part.produce(header(42))[0].should_append
    assert part.produce(header(43))[0].should_append
    assert part.produce(header(45))[0].error == OUT_OF_ORDER_SEQUENCE_NUMBER


def test_epoch_bump_resets_sequences_to_zero(part: Partition) -> None:
    for i in range(3):
        part.produce(header(i))
    assert part.produce(header(3, epoch=1))[0].error == OUT_OF_ORDER_SEQUENCE_NUMBER
    verdict, offset = part.produce(header(0, epoch=1))
    assert verdict.should_append
    assert offset == 3
    entry = part.state.last_entry(PID)
    assert entry is not None
    assert entry.producer_epoch == 1
    assert len(entry.batches) == 1
    # The batches of epoch 0 are forgotten: their retry is now fenced.
    assert part.produce(header(2, epoch=0))[0].error == INVALID_PRODUCER_EPOCH


def test_older_epoch_is_fenced(part: Partition) -> None:
    part.produce(header(0, epoch=5))
    for epoch in (0, 4):
        verdict, _ = part.produce(header(1, epoch=epoch))
        assert verdict.error == INVALID_PRODUCER_EPOCH
    assert part.produce(header(1, epoch=5))[0].should_append


def test_sequence_wraps_around_at_int32_max(part: Partition) -> None:
    part.produce(header(INT32_MAX - 2, 2))  # unknown producer: any start
    wrapped = header(INT32_MAX, 3)  # INT32_MAX, 0, 1
    assert wrapped.last_sequence == 1
    verdict, offset = part.produce(wrapped)
    assert verdict.should_append
    assert part.produce(header(2))[0].should_append
    # A retry of the wrapping batch is recognised through the wrap.
    verdict, dup_offset = part.produce(header(INT32_MAX, 3))
    assert verdict.is_duplicate
    assert dup_offset == offset
    entry = part.state.last_entry(PID)
    assert entry is not None
    assert [b.first_seq for b in entry.batches] == [INT32_MAX - 2, INT32_MAX, 2]


def test_wrap_from_int32_max_to_zero_batch_boundary(part: Partition) -> None:
    part.produce(header(INT32_MAX - 1, 2))
    assert part.produce(header(0))[0].should_append
    assert part.produce(header(2))[0].error == OUT_OF_ORDER_SEQUENCE_NUMBER


def test_non_idempotent_batches_are_not_checked(part: Partition) -> None:
    raw = encode_batch([SimpleRecord(b"x", timestamp=TS)])
    h = read_batch_header(raw)
    assert part.state.check_and_plan(h).should_append
    part.state.on_appended(h, 0, 0, TS)
    assert part.state.producers == {}
    assert part.state.map_end_offset == 1


def test_producer_id_without_sequence_is_invalid(part: Partition) -> None:
    assert part.produce(header(-1))[0].error == INVALID_RECORD


def test_check_batches_chains_batches_of_one_request(part: Partition) -> None:
    part.produce(header(0))
    state = part.state
    assert state.check_batches([header(1), header(2), header(3)]).should_append
    assert state.check_batches([header(1), header(3)]).error == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert state.check_batches([header(0, epoch=1), header(1, epoch=1)]).should_append
    assert state.check_batches([header(0, epoch=1), header(5, epoch=1)]).error == (
        OUT_OF_ORDER_SEQUENCE_NUMBER
    )
    # Checking changed nothing.
    entry = state.last_entry(PID)
    assert entry is not None
    assert (entry.producer_epoch, entry.last_seq) == (0, 0)


def test_transactions_track_first_offset_and_reject_plain_batches(part: Partition) -> None:
    part.produce(header(0, 2, transactional=True))
    part.produce(header(2, transactional=True))
    entry = part.state.last_entry(PID)
    assert entry is not None
    assert entry.current_txn_first_offset == 0
    assert part.state.first_undecided_offset() == 0
    assert part.produce(header(3))[0].error == INVALID_TXN_STATE


def test_expired_producers_are_removed_unless_in_a_transaction(tmp_path: Path) -> None:
    now = [TS]
    state = ProducerStateManager(tmp_path, producer_id_expiration_ms=1000, clock=lambda: now[0])
    state.on_appended(header(0, pid=1, ts=TS), 0, 0, TS)
    state.on_appended(header(0, pid=2, ts=TS + 500), 1, 1, TS + 500)
    state.on_appended(header(0, pid=3, ts=TS, transactional=True), 2, 2, TS)
    now[0] = TS + 999
    assert state.remove_expired_producers() == []
    now[0] = TS + 1000
    assert state.remove_expired_producers() == [1]
    assert sorted(state.producers) == [2, 3]
    assert state.remove_expired_producers(TS + 1500) == [2]
    assert list(state.producers) == [3]
    # Once expired, the producer is unknown and may continue at any sequence.
    assert state.check_and_plan(header(7, pid=1)).should_append


def test_an_epoch_known_from_a_marker_alone_must_start_at_sequence_zero(part: Partition) -> None:
    # The coordinator fenced epoch 0 with a marker at epoch 1: the partition has
    # seen epoch 1 but holds no batch of it. As in Kafka's checkSequence, only
    # a producer the partition does not know at all may start anywhere.
    part.produce(header(0, 2, transactional=True))
    marker = encode_control_batch(
        ControlRecordType.ABORT,
        producer_id=PID,
        producer_epoch=1,
        coordinator_epoch=0,
        timestamp=TS,
    )
    (marker_header,) = iter_batches(marker)
    part.state.on_appended(marker_header, part.leo, part.leo, TS, coordinator_epoch=0)
    part.leo += 1
    entry = part.state.last_entry(PID)
    assert entry is not None
    assert (entry.producer_epoch, entry.is_empty) == (1, True)
    for seq in (1, 5, INT32_MAX):
        verdict, offset = part.produce(header(seq, epoch=1))
        assert (verdict.error, offset) == (OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
    assert part.produce(header(0, epoch=1))[0].should_append
    # The same epoch, once it has a batch, continues only in sequence.
    assert part.produce(header(3, epoch=1))[0].error == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert part.produce(header(1, epoch=1))[0].should_append
