"""Subscription state: subscribe/assign exclusivity, positions, resets, pause, lag."""

from __future__ import annotations

import re

import pytest

from tidal.log.client.consumer import IsolationLevel, OffsetResetStrategy, TopicPartition
from tidal.log.client.consumer._subscription import SubscriptionState

A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def test_subscribe_and_assign_do_not_mix() -> None:
    state = SubscriptionState()
    assert state.subscribe(["a"])
    assert not state.subscribe(["a"])
    with pytest.raises(ValueError, match="cannot be mixed"):
        state.assign_from_user([A0])
    state.unsubscribe()
    state.assign_from_user([A0])
    with pytest.raises(ValueError, match="cannot be mixed"):
        state.subscribe(["a"])
    with pytest.raises(ValueError, match="not subscribed"):
        state.assign_from_subscribed([A0])


def test_pattern_matches_whole_names_and_skips_internal_topics() -> None:
    state = SubscriptionState()
    state.subscribe_pattern(re.compile(r"orders.*"))
    assert state.match_pattern(["orders", "orders-eu", "my-orders", "__consumer_offsets"])
    assert state.topics == {"orders", "orders-eu"}
    assert not state.match_pattern(["orders", "orders-eu"])


def test_positions_survive_reassignment_of_kept_partitions() -> None:
    state = SubscriptionState(OffsetResetStrategy.EARLIEST)
    state.subscribe(["a", "b"])
    state.assign_from_subscribed([A0, A1])
    assert set(state.missing_positions()) == {A0, A1}
    state.seek(A0, 5)
    state.assign_from_subscribed([A0, B0])
    assert state.position(A0) == 5
    assert state.position(B0) is None
    assert state.fetchable_partitions() == [A0]
    assert state.all_consumed() == {A0: 5}
    with pytest.raises(ValueError, match="not assigned"):
        state.position(A1)


def test_reset_requests_and_seek() -> None:
    state = SubscriptionState(OffsetResetStrategy.LATEST)
    state.assign_from_user([A0])
    state.seek(A0, 3)
    state.request_reset(A0)
    assert state.awaiting_reset() == {A0: OffsetResetStrategy.LATEST}
    assert state.position(A0) is None
    assert not state.is_fetchable(A0)
    state.seek(A0, 9)
    assert state.awaiting_reset() == {}
    assert state.position(A0) == 9
    with pytest.raises(ValueError, match=">= 0"):
        state.seek(A0, -1)


def test_advance_ignores_fetches_from_before_a_seek() -> None:
    state = SubscriptionState()
    state.assign_from_user([A0])
    state.seek(A0, 0)
    epoch = state.state(A0).epoch
    assert state.advance(A0, 10, epoch)
    state.seek(A0, 3)
    assert not state.advance(A0, 20, epoch)
    assert state.position(A0) == 3
    assert not state.advance(B0, 1, 0)


def test_pause_resume_and_lag() -> None:
    state = SubscriptionState()
    state.assign_from_user([A0, A1])
    state.seek(A0, 4)
    state.seek(A1, 0)
    state.pause(A1)
    assert state.fetchable_partitions() == [A0]
    assert state.paused_partitions() == {A1}
    state.resume(A1)
    assert state.fetchable_partitions() == [A0, A1]
    assert state.lag(A0, IsolationLevel.READ_UNCOMMITTED) is None
    state.update_watermarks(A0, 10, 7, 0)
    assert state.lag(A0, IsolationLevel.READ_UNCOMMITTED) == 6
    assert state.lag(A0, IsolationLevel.READ_COMMITTED) == 3
    state.update_watermarks(B0, 1, 1, 1)  # not assigned: ignored


def test_empty_manual_assignment_clears_the_mode() -> None:
    state = SubscriptionState()
    state.assign_from_user([A0])
    state.assign_from_user([])
    assert state.assigned_partitions() == set()
    state.subscribe(["a"])
