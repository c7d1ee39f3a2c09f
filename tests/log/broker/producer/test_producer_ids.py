"""ProducerIdManager: durable id blocks and InitProducerId with KIP-360 epoch bumps."""

import json
from pathlib import Path

import pytest

from tidal.log.broker.producer import (
    INVALID_PRODUCER_EPOCH,
    INVALID_REQUEST,
    MAX_PRODUCER_EPOCH,
    NONE,
    PRODUCER_FENCED,
    PRODUCER_ID_BLOCK_FILE,
    CorruptProducerIdBlockError,
    InitProducerIdResult,
    ProducerIdManager,
)


def test_ids_are_monotonic_and_claimed_in_durable_blocks(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path, block_size=10, broker_id=3)
    assert ids.current_block is None
    assert not (tmp_path / PRODUCER_ID_BLOCK_FILE).exists()  # nothing claimed yet
    got = [ids.generate_producer_id() for _ in range(25)]
    assert got == list(range(25))
    block = json.loads((tmp_path / PRODUCER_ID_BLOCK_FILE).read_text())
    assert block == {"version": 1, "broker": 3, "block_start": "20", "block_end": "29"}


def test_ids_are_never_reused_after_a_restart(tmp_path: Path) -> None:
    first = ProducerIdManager(tmp_path, block_size=100)
    used = {first.generate_producer_id() for _ in range(3)}
    # A restart, clean or not: the rest of the block is skipped.
    second = ProducerIdManager(tmp_path, block_size=100)
    new = second.generate_producer_id()
    assert new == 100
    assert new not in used
    third = ProducerIdManager(tmp_path, block_size=100)
    assert third.init_producer_id() == InitProducerIdResult(NONE, 200, 0)


def test_unreadable_block_file_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / PRODUCER_ID_BLOCK_FILE
    for text in (
        "garbage",
        '{"version": 2, "block_start": "0", "block_end": "9"}',
        '{"version": 1}',
    ):
        path.write_text(text)
        with pytest.raises(CorruptProducerIdBlockError):
            ProducerIdManager(tmp_path)


def test_new_producers_get_new_ids_at_epoch_zero(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    assert ids.init_producer_id() == InitProducerIdResult(NONE, 0, 0)
    assert ids.init_producer_id(-1, -1) == InitProducerIdResult(NONE, 1, 0)


def test_half_given_producer_id_and_epoch_is_invalid(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    assert ids.init_producer_id(5, -1).error == INVALID_REQUEST
    assert ids.init_producer_id(-1, 0).error == INVALID_REQUEST


def test_epoch_bump_with_the_current_epoch(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    pid = ids.init_producer_id().producer_id
    assert ids.init_producer_id(pid, 0) == InitProducerIdResult(NONE, pid, 1)
    assert ids.init_producer_id(pid, 1) == InitProducerIdResult(NONE, pid, 2)


def test_retried_bump_returns_the_same_answer(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    pid = ids.init_producer_id().producer_id
    assert ids.init_producer_id(pid, 0).producer_epoch == 1
    # The answer was lost; the client asks again with epoch 0.
    assert ids.init_producer_id(pid, 0) == InitProducerIdResult(NONE, pid, 1)


@pytest.mark.parametrize(("version", "error"), [(4, PRODUCER_FENCED), (3, INVALID_PRODUCER_EPOCH)])
def test_stale_epoch_is_fenced(tmp_path: Path, version: int, error: int) -> None:
    ids = ProducerIdManager(tmp_path)
    pid = ids.init_producer_id().producer_id
    for epoch in range(3):
        ids.init_producer_id(pid, epoch)
    assert ids.init_producer_id(pid, 3).producer_epoch == 4
    for stale in (0, 1, 2, 7):  # 3 is the retry case
        result = ids.init_producer_id(pid, stale, version=version)
        assert result == InitProducerIdResult(error)


def test_exhausted_epoch_moves_to_a_new_producer_id(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    pid = ids.init_producer_id().producer_id
    for epoch in range(MAX_PRODUCER_EPOCH):
        assert ids.init_producer_id(pid, epoch).producer_epoch == epoch + 1
    rotated = ids.init_producer_id(pid, MAX_PRODUCER_EPOCH)
    assert rotated.error == NONE
    assert rotated.producer_id != pid
    assert rotated.producer_epoch == 0
    # A retry of the rotation gets the same new id; other epochs are fenced.
    assert ids.init_producer_id(pid, MAX_PRODUCER_EPOCH) == rotated
    assert ids.init_producer_id(pid, 5).error == PRODUCER_FENCED
    assert ids.init_producer_id(rotated.producer_id, 0).producer_epoch == 1


def test_unknown_or_expired_producer_gets_a_new_id(tmp_path: Path) -> None:
    now = [0]
    ids = ProducerIdManager(tmp_path, producer_id_expiration_ms=1000, clock=lambda: now[0])
    pid = ids.init_producer_id().producer_id
    # Never issued by this run (e.g. before a restart): Kafka's answer without a
    # transactional id, a fresh id.
    assert ids.init_producer_id(pid + 500, 3) == InitProducerIdResult(NONE, pid + 1, 0)
    now[0] = 999
    assert ids.init_producer_id(pid, 0) == InitProducerIdResult(NONE, pid, 1)
    now[0] = 999 + 1000
    fresh = ids.init_producer_id(pid, 1)
    assert fresh.producer_id not in (pid, pid + 1)
    assert fresh.producer_epoch == 0


def test_bump_state_is_per_run_but_ids_survive(tmp_path: Path) -> None:
    ids = ProducerIdManager(tmp_path)
    pid = ids.init_producer_id().producer_id
    restarted = ProducerIdManager(tmp_path)
    result = restarted.init_producer_id(pid, 0)
    assert result.error == NONE
    assert result.producer_id > pid
    assert result.producer_epoch == 0
